package imagebuild

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageops/cloud/gomodules/buildrecord"
)

// smallRoot makes a root folder with what the disk stages read: a kernel,
// an initramfs and systemd-boot's EFI binary (stand-ins: the stages copy
// them), a symlink and a file written "now".
func smallRoot(t *testing.T, root string) {
	t.Helper()
	for name, content := range map[string]string{
		"boot/vmlinuz-6.1.0-test":    "kernel",
		"boot/initrd.img-6.1.0-test": "initramfs",
		systemdBootEFI:               "systemd-boot",
		"etc/hostname":               "localhost\n",
		"usr/share/doc/x/README":     "text",
	} {
		path := filepath.Join(root, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	}
	require.NoError(t, os.Symlink("boot/vmlinuz-6.1.0-test", filepath.Join(root, "vmlinuz")))
	require.NoError(t, os.MkdirAll(filepath.Join(root, "var/log/apt"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "var/log/apt/history.log"), []byte(time.Now().String()), 0o644))
}

func requireTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (scripts/install-deps.sh)", tool)
		}
	}
	if _, err := os.Stat(filepath.Join(grubPCDir, "boot.img")); err != nil {
		t.Skip("grub-pc-bin is not installed (scripts/install-deps.sh)")
	}
}

// diskOf runs the stages after the bootstrap on a fresh copy of the small
// root and returns the raw disk's SHA-256.
func diskOf(t *testing.T, epoch int64) (string, string) {
	t.Helper()
	work := t.TempDir()
	cfg := Config{Name: "repro", Distribution: "debian", Release: "bookworm", Size: 512 << 20, Formats: []string{"raw"}}
	b := &builder{opts: options{progress: io.Discard, now: time.Now}, cfg: cfg, work: work,
		root: filepath.Join(work, "root"), epoch: epoch, layout: newLayout(cfg), seconds: map[string]float64{}}
	smallRoot(t, b.root)
	rec := &Record{Kernel: "6.1.0-test"}
	ctx := context.Background()
	require.NoError(t, b.makeESP(ctx, rec))
	require.NoError(t, b.makeRoot(ctx, rec))
	root := filepath.Join(work, "root.img")
	out, err := exec.Command("e2fsck", "-fn", root).CombinedOutput()
	require.NoError(t, err, "the root filesystem is clean after debugfs set its times: %s", out)
	out, err = exec.Command("debugfs", "-R", "stat /etc/hostname", root).CombinedOutput()
	require.NoError(t, err)
	assert.Contains(t, string(out), "ctime: 0x"+strconv.FormatInt(epoch, 16), "ctime is the epoch")
	out, _ = exec.Command("debugfs", "-R", "ls /var/log/apt", root).CombinedOutput()
	assert.NotContains(t, string(out), "history.log", "the build's logs are left out")
	require.NoError(t, b.makeDisk(ctx, rec))
	disk := filepath.Join(work, "disk.raw")
	_, sum, _, err := buildrecord.Digest(disk)
	require.NoError(t, err)
	return sum, disk
}

// The disk stages give the same bytes from the same files and epoch, built
// at different times (every file's ctime and atime differ, the clock moved
// on), and other bytes for another epoch.
func TestDiskStagesAreReproducible(t *testing.T) {
	requireTools(t, "mkfs.vfat", "mcopy", "mke2fs", "debugfs", "dumpe2fs", "sfdisk", "grub-mkimage")
	first, disk := diskOf(t, 1700000000)
	time.Sleep(1100 * time.Millisecond)
	second, _ := diskOf(t, 1700000000)
	assert.Equal(t, first, second, "same files, same epoch: same bytes")
	third, _ := diskOf(t, 1700000001)
	assert.NotEqual(t, first, third, "another epoch stamps other times")

	mbr := make([]byte, sectorSize)
	f, err := os.Open(disk)
	require.NoError(t, err)
	defer f.Close()
	_, err = f.ReadAt(mbr, 0)
	require.NoError(t, err)
	grubBoot, err := os.ReadFile(filepath.Join(grubPCDir, "boot.img"))
	require.NoError(t, err)
	assert.Equal(t, grubBoot[:bootKernelSector], mbr[:bootKernelSector], "GRUB's boot code in the MBR")
	assert.Equal(t, []byte{0x55, 0xaa}, mbr[510:], "the protective MBR's signature is kept")
	assert.Equal(t, byte(0xee), mbr[446+4], "the protective MBR's partition is kept")
}
