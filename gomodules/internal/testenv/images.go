package testenv

import (
	"compress/gzip"
	"crypto/sha512"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
)

// NetbootDir holds the kernel ("linux") and initrd ("initrd.gz") of Debian's
// debian-installer-12-netboot-amd64 package.
const NetbootDir = "/usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64"

// Images are real disk images built once per test binary.
type Images struct {
	// Dir holds the files.
	Dir string
	// Raw is an ext4 filesystem image (raw disk format) made from real files,
	// 32 MiB.
	Raw string
	// QCOW2 is Raw converted by qemu-img.
	QCOW2 string
	// QCOW2Gzip is QCOW2 compressed with gzip.
	QCOW2Gzip string
	// Kernel and Initrd are the Debian installer's kernel and gzip initrd.
	Kernel, Initrd string
	// Text is a text file: not an image.
	Text string
}

var (
	buildOnce sync.Once
	built     Images
	buildErr  error
)

// cacheDir holds the images between test runs: one directory, reused, so that
// runs do not pile up copies in the temporary directory.
var cacheDir = filepath.Join(os.TempDir(), "imageops-test-images")

// RealImages returns the images, building them with mkfs.ext4 and qemu-img
// (the test fails if those are missing) the first time any test binary asks.
// Tests must not modify them.
func RealImages(t testing.TB) Images {
	t.Helper()
	buildOnce.Do(func() { built, buildErr = cachedImages() })
	if buildErr != nil {
		t.Fatalf("building test images: %v", buildErr)
	}
	return built
}

// cachedImages reuses cacheDir when a previous build completed; otherwise it
// builds into a private directory and renames it into place, so that test
// binaries running at the same time never see a half-built directory.
func cachedImages() (Images, error) {
	if _, err := os.Stat(filepath.Join(cacheDir, "readme.txt")); err == nil {
		return layout(cacheDir), nil
	}
	staging, err := os.MkdirTemp(os.TempDir(), "imageops-test-images-")
	if err != nil {
		return Images{}, err
	}
	if err := buildImages(layout(staging)); err != nil {
		os.RemoveAll(staging)
		return Images{}, err
	}
	if err := os.Rename(staging, cacheDir); err != nil {
		os.RemoveAll(staging) // another test binary finished first: use its images
	}
	return layout(cacheDir), nil
}

func layout(dir string) Images {
	return Images{Dir: dir, Raw: filepath.Join(dir, "disk.raw"), QCOW2: filepath.Join(dir, "disk.qcow2"),
		QCOW2Gzip: filepath.Join(dir, "disk.qcow2.gz"), Kernel: filepath.Join(NetbootDir, "linux"),
		Initrd: filepath.Join(NetbootDir, "initrd.gz"), Text: filepath.Join(dir, "readme.txt")}
}

// buildImages writes the images of im; readme.txt comes last, marking a
// complete build.
func buildImages(im Images) error {
	content := filepath.Join(im.Dir, "content")
	steps := [][]string{
		{"mkdir", "-p", content},
		{"cp", "-r", "/usr/share/doc/qemu-utils", "/usr/share/common-licenses", content},
		{"cp", im.Kernel, content},
		{"mkfs.ext4", "-q", "-F", "-d", content, im.Raw, "32M"},
		{"qemu-img", "convert", "-f", "raw", "-O", "qcow2", im.Raw, im.QCOW2},
	}
	for _, step := range steps {
		if out, err := exec.Command(step[0], step[1:]...).CombinedOutput(); err != nil {
			return &commandError{step, out, err}
		}
	}
	if err := gzipFile(im.QCOW2, im.QCOW2Gzip); err != nil {
		return err
	}
	text := "This is a plain text file, not a disk image.\nIt has two lines.\n"
	return os.WriteFile(im.Text, []byte(text), 0o644)
}

type commandError struct {
	argv []string
	out  []byte
	err  error
}

func (e *commandError) Error() string {
	return e.argv[0] + ": " + e.err.Error() + ": " + string(e.out)
}

func gzipFile(src, dest string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dest)
	if err != nil {
		return err
	}
	zw := gzip.NewWriter(out)
	if _, err := io.Copy(zw, in); err != nil {
		out.Close()
		return err
	}
	if err := zw.Close(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// SHA512File returns the lowercase hex SHA-512 of a file.
func SHA512File(t testing.TB, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha512.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// NBDLeftovers lists the socket directories of qemu-nbd (convert.StreamRaw)
// in the temporary directory that no live run holds: what runs left behind.
// The directories of streams still going, in this package's tests or in
// another package's run at the same time, are locked and not listed.
func NBDLeftovers(t testing.TB) []string {
	t.Helper()
	found, err := filepath.Glob(filepath.Join(os.TempDir(), "imageops-nbd-*"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, dir := range found {
		lock, err := os.Open(filepath.Join(dir, ".lock"))
		if err == nil {
			held := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil
			lock.Close()
			if held {
				continue
			}
		}
		out = append(out, dir)
	}
	return out
}
