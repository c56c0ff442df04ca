package convert

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func TestVerifyAcceptsSelfContainedImagesWithinTheBound(t *testing.T) {
	if _, err := exec.LookPath("qemu-img"); err != nil {
		t.Skip("qemu-img is not installed")
	}
	dir := t.TempDir()
	for _, format := range []string{"qcow2", "vpc", "vdi", "vhdx", "vmdk", "raw"} {
		path := filepath.Join(dir, "disk."+format)
		if out, err := exec.Command("qemu-img", "create", "-q", "-f", format, path, "16M").CombinedOutput(); err != nil {
			t.Fatalf("qemu-img create %s: %v: %s", format, err, out)
		}
		info, err := Verify(context.Background(), path, format, 32<<20) // vpc rounds up to a disk geometry
		if err != nil {
			t.Errorf("%s: %v", format, err)
			continue
		}
		if info.VirtualSize < 16<<20 {
			t.Errorf("%s: virtual size %d", format, info.VirtualSize)
		}
		_, err = Verify(context.Background(), path, format, 8<<20)
		if !errors.Is(err, ErrVirtualSizeTooLarge) || !errors.Is(err, ErrUnsafeImage) {
			t.Errorf("%s over the bound: got %v, want ErrVirtualSizeTooLarge", format, err)
		}
	}
}

func TestVerifyNeverProbesTheFormat(t *testing.T) {
	if _, err := exec.LookPath("qemu-img"); err != nil {
		t.Skip("qemu-img is not installed")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "disk.qcow2")
	if out, err := exec.Command("qemu-img", "create", "-q", "-f", "qcow2", "-b", "/etc/passwd", "-F", "raw", path).CombinedOutput(); err != nil {
		t.Fatalf("qemu-img create: %v: %s", err, out)
	}
	if _, err := Verify(context.Background(), path, "qcow2", 1<<30); !errors.Is(err, ErrExternalFile) {
		t.Errorf("read as qcow2: got %v, want ErrExternalFile", err)
	}
	// Read as raw (as given), the same bytes are 192 KiB of data: no backing file is opened.
	info, err := Verify(context.Background(), path, "raw", 1<<30)
	if err != nil || info.Format != "raw" || info.BackingFile != "" {
		t.Errorf("read as raw: %+v, %v", info, err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyNeverHandsQemuImgAnImageThatNamesAFIFO(t *testing.T) {
	if _, err := exec.LookPath("qemu-img"); err != nil {
		t.Skip("qemu-img is not installed")
	}
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	data := filepath.Join(dir, "data.raw")
	qcow2 := filepath.Join(dir, "data-file.qcow2")
	if out, err := exec.Command("qemu-img", "create", "-q", "-f", "qcow2", "-o", "data_file="+data, qcow2, "1M").CombinedOutput(); err != nil {
		t.Fatalf("qemu-img create: %v: %s", err, out)
	}
	// Point the data file at the FIFO (qemu-img info blocks on a VMDK extent that is one).
	if err := os.Remove(data); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(fifo, data); err != nil {
		t.Fatal(err)
	}
	vmdk := filepath.Join(dir, "fifo.vmdk")
	descriptor := "# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType=\"monolithicFlat\"\n\nRW 2048 FLAT \"" + fifo + "\" 0\n"
	if err := os.WriteFile(vmdk, []byte(descriptor), 0o644); err != nil {
		t.Fatal(err)
	}
	for path, format := range map[string]string{qcow2: "qcow2", vmdk: "vmdk"} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := Verify(ctx, path, format, 1<<30)
		cancel()
		if !errors.Is(err, ErrExternalFile) {
			t.Errorf("%s: got %v, want ErrExternalFile at once", format, err)
		}
	}
}
