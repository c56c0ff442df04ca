package ingest

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageops/cloud/gomodules/internal/testenv"
)

// Hostile sources, made by the test with qemu-img, served over HTTP on
// loopback and given to the module against the real local Glance: each must
// be refused with nothing left in Glance or in workdir.

// qemuImg runs qemu-img (or another qemu tool) in dir, failing the test on error.
func qemuImg(t *testing.T, dir string, tool string, args ...string) {
	t.Helper()
	cmd := exec.Command(tool, args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v: %s", tool, args, err, out)
	}
}

// hostileImages builds the hostile sources in a fresh directory and returns
// it; every file is small on disk.
func hostileImages(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("qemu-img"); err != nil {
		t.Skip("qemu-img is not installed")
	}
	dir := t.TempDir()
	qemuImg(t, dir, "qemu-img", "create", "-q", "-f", "qcow2", "-b", "/etc/passwd", "-F", "raw", "backing-passwd.qcow2")
	qemuImg(t, dir, "qemu-img", "create", "-q", "-f", "qcow2", "-o", "data_file="+filepath.Join(dir, "data.raw"), "data-file.qcow2", "1M")
	qemuImg(t, dir, "qemu-img", "create", "-q", "-f", "qcow2", "1pib.qcow2", "1P")
	qemuImg(t, dir, "qemu-img", "create", "-q", "-f", "qcow2", "4tib.qcow2", "4T")
	qemuImg(t, dir, "qemu-img", "create", "-q", "-f", "qcow2", "truncated.qcow2", "64M")
	qemuImg(t, dir, "qemu-io", "-f", "qcow2", "-c", "write -P 0xab 0 8M", "truncated.qcow2")
	require.NoError(t, os.Truncate(filepath.Join(dir, "truncated.qcow2"), 4<<20))
	qemuImg(t, dir, "qemu-img", "create", "-q", "-f", "vmdk", "base.vmdk", "1M")
	qemuImg(t, dir, "qemu-img", "create", "-q", "-f", "vmdk", "-b", filepath.Join(dir, "base.vmdk"), "-F", "vmdk", "backing.vmdk")
	// A monolithicFlat descriptor whose extent is a file of the host.
	descriptor := "# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType=\"monolithicFlat\"\n\n" +
		"RW 2048 FLAT \"/etc/passwd\" 0\n\nddb.virtualHWVersion = \"4\"\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "extent-passwd.vmdk"), []byte(descriptor), 0o644))
	qemuImg(t, dir, "qemu-img", "create", "-q", "-f", "vhdx", "4tib.vhdx", "4T")
	qemuImg(t, dir, "qemu-img", "create", "-q", "-f", "vhdx", "differencing.vhdx", "16M")
	markVHDXDifferencing(t, filepath.Join(dir, "differencing.vhdx"))
	writeGzipBomb(t, filepath.Join(dir, "bomb.raw.gz"), 256<<20)
	qemuImg(t, dir, "qemu-img", "create", "-q", "-f", "qed", "disguised.qed", "1M")
	// A qcow2 whose disk holds a qcow2 naming /etc/passwd: converted to raw,
	// the inner image would be uploaded as raw data.
	qemuImg(t, dir, "qemu-img", "create", "-q", "-f", "qcow2", "nested.qcow2", "1M")
	qemuImg(t, dir, "qemu-io", "-f", "qcow2", "-c", "write -P 0 0 1M", "nested.qcow2")
	qemuImg(t, dir, "qemu-img", "dd", "-f", "raw", "-O", "qcow2", "if=backing-passwd.qcow2", "of=nested.qcow2")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "big.raw"), nil, 0o644))
	require.NoError(t, os.Truncate(filepath.Join(dir, "big.raw"), 2<<20)) // sparse: nothing on disk
	return dir
}

// markVHDXDifferencing sets the HasParent flag of a VHDX's File Parameters
// ([MS-VHDX] 2.6.2.1), making it a differencing disk whose data lives partly
// in a parent file (qemu-img cannot make one). The metadata region has no
// checksum; the region table, which has one, is only read.
func markVHDXDifferencing(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	const regionTable = 0x30000 // [MS-VHDX] 2.2.3: the region table, 192 KiB in
	metadataRegion := guidBytes(0x8B7CA206, 0x4790, 0x4B9A, [8]byte{0xB8, 0xFE, 0x57, 0x5F, 0x05, 0x0F, 0x88, 0x6E})
	fileParameters := guidBytes(0xCAA16737, 0xFA36, 0x4D43, [8]byte{0xB3, 0xB6, 0x33, 0xF0, 0xAA, 0x44, 0xE7, 0x6B})
	require.Equal(t, "regi", string(data[regionTable:regionTable+4]))
	var metadata int
	for i := 0; i < int(binary.LittleEndian.Uint32(data[regionTable+8:])); i++ {
		entry := regionTable + 16 + 32*i
		if bytes.Equal(data[entry:entry+16], metadataRegion) {
			metadata = int(binary.LittleEndian.Uint64(data[entry+16:]))
		}
	}
	require.Equal(t, "metadata", string(data[metadata:metadata+8]))
	for i := 0; i < int(binary.LittleEndian.Uint16(data[metadata+10:])); i++ {
		entry := metadata + 32 + 32*i
		if bytes.Equal(data[entry:entry+16], fileParameters) {
			flags := metadata + int(binary.LittleEndian.Uint32(data[entry+16:])) + 4
			data[flags] |= 2 // HasParent
			require.NoError(t, os.WriteFile(path, data, 0o644))
			return
		}
	}
	t.Fatal("no File Parameters item in the VHDX metadata")
}

// guidBytes is a GUID as VHDX stores it: its first three fields little-endian.
func guidBytes(a uint32, b, c uint16, d [8]byte) []byte {
	out := binary.LittleEndian.AppendUint32(nil, a)
	out = binary.LittleEndian.AppendUint16(out, b)
	out = binary.LittleEndian.AppendUint16(out, c)
	return append(out, d[:]...)
}

// writeGzipBomb writes size zero bytes, gzipped (about 1/1000 of size on disk).
func writeGzipBomb(t *testing.T, path string, size int64) {
	t.Helper()
	f, err := os.Create(path)
	require.NoError(t, err)
	defer f.Close()
	buffered := bufio.NewWriter(f)
	zw, err := gzip.NewWriterLevel(buffered, gzip.BestCompression)
	require.NoError(t, err)
	zeros := make([]byte, 1<<20)
	for written := int64(0); written < size; written += int64(len(zeros)) {
		_, err := zw.Write(zeros)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	require.NoError(t, buffered.Flush())
}

func TestHostileImagesAreRefusedAndLeaveNothing(t *testing.T) {
	glance := testenv.Glance(t)
	dir := hostileImages(t)
	base := serveFiles(t, dir)
	cases := []struct {
		file, diskFormat, sourceFormat string
		maxVirtualSize                 int64
		want                           string
	}{
		{"backing-passwd.qcow2", "qcow2", "", 0, "names a backing file"},
		{"backing-passwd.qcow2", "raw", "", 0, "names a backing file"},
		{"data-file.qcow2", "qcow2", "", 0, "keeps its data in"},
		{"truncated.qcow2", "qcow2", "", 0, "corrupt or truncated"},
		{"truncated.qcow2", "raw", "", 0, "corrupt or truncated"},
		{"1pib.qcow2", "qcow2", "", 0, "virtual size is 1125899906842624 bytes, more than the 68719476736 allowed"},
		{"4tib.qcow2", "raw", "", 0, "virtual size is 4398046511104 bytes"},
		{"backing.vmdk", "vmdk", "", 0, "names a backing file"},
		{"backing.vmdk", "raw", "", 0, "names a backing file"},
		{"extent-passwd.vmdk", "vmdk", "", 0, "keeps its data in"},
		{"extent-passwd.vmdk", "raw", "vmdk", 0, "keeps its data in"},
		{"4tib.vhdx", "vhdx", "", 0, "virtual size is 4398046511104 bytes"},
		{"differencing.vhdx", "vhdx", "", 0, "qemu-img cannot read it as vhdx"},
		{"differencing.vhdx", "raw", "", 0, "qemu-img cannot read it as vhdx"},
		{"bomb.raw.gz", "raw", "", 64 << 20, "decompresses (gzip) to more than"},
		{"bomb.raw.gz", "qcow2", "", 64 << 20, "decompresses (gzip) to more than"},
		{"disguised.qed", "raw", "raw", 0, "is a qed image, not raw data"},
		{"disguised.qed", "qcow2", "", 0, "is a qed image, not raw data"},
		{"nested.qcow2", "raw", "", 0, "disk holds a qcow2 image, which would reach Glance as raw"},
		{"big.raw", "raw", "", 1 << 20, "is 2097152 bytes, more than 1048576 (max_virtual_size)"},
		{"big.raw", "qcow2", "", 1 << 20, "is 2097152 bytes, more than 1048576 (max_virtual_size)"},
	}
	for _, c := range cases {
		t.Run(c.file+"-to-"+c.diskFormat, func(t *testing.T) {
			workdir := t.TempDir()
			name := testenv.UniqueName(t, glance, "hostile")
			opts := present(name, base+"/"+c.file)
			opts.DiskFormat, opts.SourceDiskFormat, opts.Workdir = c.diskFormat, c.sourceFormat, workdir
			opts.MaxVirtualSize = c.maxVirtualSize
			_, err := ensure(t, glance, opts, false)
			require.Error(t, err, "a hostile image was accepted")
			assert.Contains(t, err.Error(), c.want)
			assert.NotContains(t, err.Error(), "/etc/passwd", "errors never quote what an image holds")
			assert.NotContains(t, err.Error(), "root:", "errors never quote what an image holds")
			assert.Empty(t, testenv.ImagesNamed(t, glance, name), "nothing is left in Glance")
			left, _ := os.ReadDir(workdir)
			assert.Empty(t, left, "nothing is left in workdir")
		})
	}
}

func TestShadowAsAKernelIsRefused(t *testing.T) {
	glance := testenv.Glance(t)
	for _, format := range []string{"aki", "ari"} {
		name := testenv.UniqueName(t, glance, "shadow-"+format)
		opts := present(name, "file:///etc/shadow")
		opts.DiskFormat, opts.ContainerFormat, opts.Visibility = format, format, "public"
		_, err := ensure(t, glance, opts, false)
		require.Error(t, err, "a text file became a %s image", format)
		assert.Contains(t, err.Error(), "is not a")
		assert.NotContains(t, err.Error(), "root", "errors never quote the file")
		assert.Empty(t, testenv.ImagesNamed(t, glance, name))
	}
	// And the refusal of other formats no longer quotes the file's start.
	name := testenv.UniqueName(t, glance, "shadow-raw")
	_, err := ensure(t, glance, present(name, "file:///etc/passwd"), false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "starts with text")
	assert.NotContains(t, err.Error(), "root")
}

func TestRealKernelAndRamdiskStillUpload(t *testing.T) {
	glance := testenv.Glance(t)
	dir := t.TempDir()
	// A cpio archive (newc), gzipped, as initramfs-tools writes one.
	cpio := filepath.Join(dir, "initrd.img")
	cmd := exec.Command("sh", "-c", "cd "+dir+" && echo hello > f && echo f | cpio -o -H newc --quiet | gzip > "+cpio)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("cpio is not usable here: %v: %s", err, out)
	}
	name := testenv.UniqueName(t, glance, "initrd")
	opts := present(name, "file://"+cpio)
	opts.DiskFormat, opts.ContainerFormat = "ari", "ari"
	result, err := ensure(t, glance, opts, false)
	require.NoError(t, err)
	assert.Equal(t, "ari", result.Image["disk_format"])
}

func TestSelfContainedQCOW2IsVerifiedThenUploaded(t *testing.T) {
	glance := testenv.Glance(t)
	im := testenv.RealImages(t)
	workdir := t.TempDir()
	name := testenv.UniqueName(t, glance, "verified")
	opts := present(name, serveFile(t, im.QCOW2))
	opts.Workdir = workdir
	result, err := ensure(t, glance, opts, false)
	require.NoError(t, err)
	assert.False(t, result.Converted)
	assert.Equal(t, testenv.SHA512File(t, im.QCOW2), result.Image["os_hash_value"], "the checked file is what Glance holds")
	left, _ := os.ReadDir(workdir)
	assert.Empty(t, left)

	opts.MaxVirtualSize = 1 << 20
	opts.Name = testenv.UniqueName(t, glance, "verified-small")
	_, err = ensure(t, glance, opts, false)
	require.Error(t, err, "a bound below the image's virtual size refuses it")
	assert.Contains(t, err.Error(), "max_virtual_size")
}
