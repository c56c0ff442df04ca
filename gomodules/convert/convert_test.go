package convert_test

import (
	"compress/gzip"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageops/cloud/gomodules/convert"
)

const fixtureSize = 32 << 20 // rawImage's virtual size, bytes

func TestConvertEveryDestFormatKeepsTheData(t *testing.T) {
	src := rawImage(t)
	dir := filepath.Dir(src)
	for _, format := range convert.DestFormats() {
		t.Run(format, func(t *testing.T) {
			dest := filepath.Join(dir, "out."+format)
			res, err := convert.Convert(context.Background(), convert.Request{Src: src, Dest: dest, DestFormat: format})
			require.NoError(t, err)
			qemuName := convert.CanonicalFormat(format)
			assert.True(t, res.Changed)
			assert.Equal(t, dest, res.Dest)
			assert.Equal(t, qemuName, res.Format)
			assert.Equal(t, "raw", res.SrcFormat)
			assert.Equal(t, int64(fixtureSize), res.VirtualSize)

			info, err := convert.Inspect(context.Background(), dest)
			require.NoError(t, err)
			assert.Equal(t, qemuName, info.Format, "qemu-img detects the written format")
			assert.Equal(t, int64(fixtureSize), info.VirtualSize, "the guest sees the same disk size")
			assert.Equal(t, info.ActualSize, res.ActualSize)
			requireSameContent(t, src, "raw", dest, qemuName)

			again, err := convert.Convert(context.Background(), convert.Request{Src: src, Dest: dest, DestFormat: format})
			require.NoError(t, err)
			assert.False(t, again.Changed, "a second run finds dest up to date")
		})
	}
}

func TestConvertQcow2ToRaw(t *testing.T) {
	src := rawImage(t)
	dir := filepath.Dir(src)
	qcow2 := filepath.Join(dir, "disk.qcow2")
	_, err := convert.Convert(context.Background(), convert.Request{Src: src, Dest: qcow2, DestFormat: "qcow2"})
	require.NoError(t, err)

	back := filepath.Join(dir, "back.img")
	res, err := convert.Convert(context.Background(), convert.Request{Src: qcow2, Dest: back, DestFormat: "raw"})
	require.NoError(t, err)
	assert.Equal(t, "qcow2", res.SrcFormat, "detected from the contents")
	assert.Equal(t, "raw", res.Format)
	stat, err := os.Stat(back)
	require.NoError(t, err)
	assert.Equal(t, int64(fixtureSize), stat.Size(), "a raw image is as long as the disk")
	requireSameContent(t, src, "raw", back, "raw")
}

func TestConvertCompressedQcow2IsSmaller(t *testing.T) {
	src := rawImage(t)
	dir := filepath.Dir(src)
	plain, packed := filepath.Join(dir, "plain.qcow2"), filepath.Join(dir, "packed.qcow2")
	_, err := convert.Convert(context.Background(), convert.Request{Src: src, Dest: plain, DestFormat: "qcow2"})
	require.NoError(t, err)
	res, err := convert.Convert(context.Background(), convert.Request{Src: src, Dest: packed, DestFormat: "qcow2", Compress: true})
	require.NoError(t, err)

	plainStat, err := os.Stat(plain)
	require.NoError(t, err)
	packedStat, err := os.Stat(packed)
	require.NoError(t, err)
	assert.Less(t, packedStat.Size()*2, plainStat.Size(), "text compresses to well under half")
	assert.Equal(t, "qcow2", res.Format)
	requireSameContent(t, src, "raw", packed, "qcow2")
}

func TestConvertQcow2IsReproducible(t *testing.T) {
	src := rawImage(t)
	dir := filepath.Dir(src)
	a, b := filepath.Join(dir, "a.qcow2"), filepath.Join(dir, "b.qcow2")
	for _, dest := range []string{a, b} {
		_, err := convert.Convert(context.Background(), convert.Request{Src: src, Dest: dest, DestFormat: "qcow2"})
		require.NoError(t, err)
	}
	assert.Equal(t, sha256File(t, a), sha256File(t, b),
		"two conversions write the same bytes, so their checksums can be published")
}

func TestConvertDetectsTheFormatFromContentsNotTheName(t *testing.T) {
	src := rawImage(t)
	dir := filepath.Dir(src)
	misnamed := filepath.Join(dir, "really-qcow2.raw")
	_, err := convert.Convert(context.Background(), convert.Request{Src: src, Dest: misnamed, DestFormat: "qcow2"})
	require.NoError(t, err)

	dest := filepath.Join(dir, "out.vmdk")
	res, err := convert.Convert(context.Background(), convert.Request{Src: misnamed, Dest: dest, DestFormat: "vmdk"})
	require.NoError(t, err)
	assert.Equal(t, "qcow2", res.SrcFormat)
	requireSameContent(t, src, "raw", dest, "vmdk")
}

func TestConvertUpToDateDestIsNotRewritten(t *testing.T) {
	src := rawImage(t)
	dir := filepath.Dir(src)
	dest := filepath.Join(dir, "disk.qcow2")
	req := convert.Request{Src: src, Dest: dest, DestFormat: "qcow2"}
	first, err := convert.Convert(context.Background(), req)
	require.NoError(t, err)
	require.True(t, first.Changed)
	before, err := os.Stat(dest)
	require.NoError(t, err)

	second, err := convert.Convert(context.Background(), req)
	require.NoError(t, err)
	assert.False(t, second.Changed)
	assert.Empty(t, second.Reason)
	assert.Equal(t, first.ActualSize, second.ActualSize)
	assert.Equal(t, first.VirtualSize, second.VirtualSize)
	require.NotNil(t, second.Before)
	assert.Equal(t, "qcow2", second.Before.Format)
	after, err := os.Stat(dest)
	require.NoError(t, err)
	assert.Equal(t, before.ModTime(), after.ModTime(), "dest was not written")
	assert.True(t, os.SameFile(before, after), "dest was not replaced")
	assert.ElementsMatch(t, []string{"disk.raw", "disk.qcow2"}, entries(t, dir), "no temporary file left")

	planned, err := convert.Plan(context.Background(), req)
	require.NoError(t, err)
	assert.False(t, planned.Changed)
}

func TestConvertRewritesDestOlderThanSrc(t *testing.T) {
	src := rawImage(t)
	dest := filepath.Join(filepath.Dir(src), "disk.qcow2")
	req := convert.Request{Src: src, Dest: dest, DestFormat: "qcow2"}
	_, err := convert.Convert(context.Background(), req)
	require.NoError(t, err)
	old := time.Now().Add(-time.Hour)
	require.NoError(t, os.Chtimes(dest, old, old))

	res, err := convert.Convert(context.Background(), req)
	require.NoError(t, err)
	assert.True(t, res.Changed)
	assert.Contains(t, res.Reason, "src was modified after dest")
	stat, err := os.Stat(dest)
	require.NoError(t, err)
	assert.True(t, stat.ModTime().After(old), "dest was written again")
}

func TestConvertRewritesDestOfAnotherFormatOrSize(t *testing.T) {
	src := rawImage(t)
	dir := filepath.Dir(src)
	dest := filepath.Join(dir, "disk.img")
	_, err := convert.Convert(context.Background(), convert.Request{Src: src, Dest: dest, DestFormat: "vdi"})
	require.NoError(t, err)

	planned, err := convert.Plan(context.Background(), convert.Request{Src: src, Dest: dest, DestFormat: "qcow2"})
	require.NoError(t, err)
	assert.True(t, planned.Changed)
	assert.Equal(t, "dest is vdi, not qcow2", planned.Reason)
	assert.Equal(t, "vdi", planned.Before.Format)
	assert.Zero(t, planned.ActualSize, "unknown until written")

	other := filepath.Join(dir, "other.raw")
	run(t, "qemu-img", "create", "-q", "-f", "qcow2", dest, "1G")
	run(t, "cp", "--sparse=always", src, other)
	planned, err = convert.Plan(context.Background(), convert.Request{Src: other, Dest: dest, DestFormat: "qcow2"})
	require.NoError(t, err)
	assert.True(t, planned.Changed)
	assert.Equal(t, "dest's virtual size is 1073741824 bytes, src's is 33554432", planned.Reason)
}

func TestConvertForceRewrites(t *testing.T) {
	src := rawImage(t)
	dest := filepath.Join(filepath.Dir(src), "disk.qcow2")
	_, err := convert.Convert(context.Background(), convert.Request{Src: src, Dest: dest, DestFormat: "qcow2"})
	require.NoError(t, err)
	old := time.Now().Add(time.Hour) // newer than src, so up to date
	require.NoError(t, os.Chtimes(dest, old, old))

	res, err := convert.Convert(context.Background(), convert.Request{Src: src, Dest: dest, DestFormat: "qcow2", Force: true})
	require.NoError(t, err)
	assert.True(t, res.Changed)
	stat, err := os.Stat(dest)
	require.NoError(t, err)
	assert.True(t, stat.ModTime().Before(old), "dest was written again")
}

func TestConvertReplacedDestKeepsItsMode(t *testing.T) {
	src := rawImage(t)
	dest := filepath.Join(filepath.Dir(src), "disk.qcow2")
	require.NoError(t, os.WriteFile(dest, []byte("an old file\n"), 0o600))

	_, err := convert.Convert(context.Background(), convert.Request{Src: src, Dest: dest, DestFormat: "qcow2"})
	require.NoError(t, err)
	stat, err := os.Stat(dest)
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o600), stat.Mode().Perm())
	requireSameContent(t, src, "raw", dest, "qcow2")
}

func TestPlanWritesNothing(t *testing.T) {
	src := rawImage(t)
	dir := filepath.Dir(src)
	res, err := convert.Plan(context.Background(), convert.Request{Src: src, Dest: filepath.Join(dir, "disk.vmdk"), DestFormat: "vmdk"})
	require.NoError(t, err)
	assert.True(t, res.Changed)
	assert.Equal(t, "dest does not exist", res.Reason)
	assert.Nil(t, res.Before)
	assert.Equal(t, "vmdk", res.Format)
	assert.Equal(t, int64(fixtureSize), res.VirtualSize)
	assert.Equal(t, []string{"disk.raw"}, entries(t, dir))
}

func TestConvertRejectsBadRequests(t *testing.T) {
	src := rawImage(t)
	dir := filepath.Dir(src)
	dest := filepath.Join(dir, "out.img")
	cases := []struct {
		name string
		req  convert.Request
		want []string
	}{
		{"unknown dest_format", convert.Request{Src: src, Dest: dest, DestFormat: "qcow3"},
			[]string{`dest_format "qcow3" is not supported`, "expected one of raw, qcow2, qed, vdi, vhdx, vmdk, vpc, vhd"}},
		{"read-only dest_format", convert.Request{Src: src, Dest: dest, DestFormat: "dmg"},
			[]string{`dest_format "dmg"`, "qemu-img reads dmg but convert does not write it"}},
		{"empty dest_format", convert.Request{Src: src, Dest: dest},
			[]string{"dest_format is empty: expected one of raw, qcow2"}},
		{"unknown src_format", convert.Request{Src: src, Dest: dest, DestFormat: "raw", SrcFormat: "ova"},
			[]string{`src_format "ova" is not supported`, "bochs, cloop, vhd, iso", "leave src_format empty"}},
		{"compress raw", convert.Request{Src: src, Dest: dest, DestFormat: "raw", Compress: true},
			[]string{`compress is true but dest_format is "raw": only qcow2 images can be compressed`}},
		{"empty src", convert.Request{Dest: dest, DestFormat: "raw"}, []string{"src is empty"}},
		{"empty dest", convert.Request{Src: src, DestFormat: "raw"}, []string{"dest is empty"}},
		{"src is a directory", convert.Request{Src: dir, Dest: dest, DestFormat: "raw"},
			[]string{`src "` + dir + `" is a directory: expected the image to convert`}},
		{"dest is a directory", convert.Request{Src: src, Dest: dir, DestFormat: "raw"},
			[]string{`dest "` + dir + `" is a directory`}},
		{"dest directory missing", convert.Request{Src: src, Dest: filepath.Join(dir, "nope", "x.img"), DestFormat: "raw"},
			[]string{`its directory "` + filepath.Join(dir, "nope") + `" does not exist`}},
		{"same file", convert.Request{Src: src, Dest: src, DestFormat: "qcow2"},
			[]string{"src and dest are the same file"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := convert.Convert(context.Background(), c.req)
			require.Error(t, err)
			for _, want := range c.want {
				assert.Contains(t, err.Error(), want)
			}
			_, planErr := convert.Plan(context.Background(), c.req)
			assert.EqualError(t, planErr, err.Error(), "Plan fails the same way")
		})
	}
	assert.Equal(t, []string{"disk.raw"}, entries(t, dir), "nothing written")
}

func TestConvertMissingSrc(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.qcow2")
	_, err := convert.Convert(context.Background(), convert.Request{Src: missing, Dest: filepath.Join(dir, "x.raw"), DestFormat: "raw"})
	require.Error(t, err)
	assert.True(t, errors.Is(err, fs.ErrNotExist))
	assert.Equal(t, `src "`+missing+`" does not exist: expected the image to convert`, err.Error())
	assert.Empty(t, entries(t, dir))
}

// A text file is a valid raw image to qemu-img (any bytes are). Convert
// refuses it when the format was detected, because a disk image's size is a
// whole number of sectors; src_format: raw converts it anyway.
func TestConvertTextFileIsNotAnImageUnlessSaidSo(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.txt")
	require.NoError(t, os.WriteFile(text, []byte("These are notes, not a disk image.\n"), 0o644))
	dest := filepath.Join(dir, "notes.qcow2")

	_, err := convert.Convert(context.Background(), convert.Request{Src: text, Dest: dest, DestFormat: "qcow2"})
	require.ErrorIs(t, err, convert.ErrNotAnImage)
	assert.Contains(t, err.Error(), "its size (35 bytes) is not a whole number of 512-byte sectors")
	assert.Contains(t, err.Error(), "set src_format: raw to convert it anyway")
	assert.Equal(t, []string{"notes.txt"}, entries(t, dir))

	res, err := convert.Convert(context.Background(), convert.Request{Src: text, Dest: dest, DestFormat: "qcow2", SrcFormat: "raw"})
	require.NoError(t, err)
	assert.True(t, res.Changed)
	assert.Equal(t, int64(512), res.VirtualSize, "qemu-img rounds a raw image up to a whole sector")
	again, err := convert.Convert(context.Background(), convert.Request{Src: text, Dest: dest, DestFormat: "qcow2", SrcFormat: "raw"})
	require.NoError(t, err)
	assert.False(t, again.Changed)

	empty := filepath.Join(dir, "empty.img")
	require.NoError(t, os.WriteFile(empty, nil, 0o644))
	_, err = convert.Convert(context.Background(), convert.Request{Src: empty, Dest: dest, DestFormat: "qcow2"})
	require.ErrorIs(t, err, convert.ErrNotAnImage)
	assert.Contains(t, err.Error(), "is empty")
}

func TestConvertRefusesCompressedDownloads(t *testing.T) {
	src := rawImage(t)
	dir := filepath.Dir(src)
	gz := filepath.Join(dir, "disk.raw.gz")
	gzipFile(t, src, gz)
	_, err := convert.Convert(context.Background(), convert.Request{Src: gz, Dest: filepath.Join(dir, "disk.qcow2"), DestFormat: "qcow2"})
	require.ErrorIs(t, err, convert.ErrNotAnImage)
	assert.Contains(t, err.Error(), "is gzip-compressed data")
	assert.Contains(t, err.Error(), "decompress it first")
}

func TestConvertRefusesBackingFiles(t *testing.T) {
	src := rawImage(t)
	dir := filepath.Dir(src)
	overlay := filepath.Join(dir, "overlay.qcow2")
	run(t, "qemu-img", "create", "-q", "-f", "qcow2", "-b", src, "-F", "raw", overlay)

	info, err := convert.Inspect(context.Background(), overlay)
	require.NoError(t, err)
	assert.Equal(t, src, info.BackingFile)

	dest := filepath.Join(dir, "flat.raw")
	_, err = convert.Convert(context.Background(), convert.Request{Src: overlay, Dest: dest, DestFormat: "raw"})
	require.ErrorIs(t, err, convert.ErrExternalFile)
	assert.Contains(t, err.Error(), "has a backing file")
	assert.NoFileExists(t, dest)
}

func TestConvertRefusesExternalDataFiles(t *testing.T) {
	dir := t.TempDir()
	image, data := filepath.Join(dir, "meta.qcow2"), filepath.Join(dir, "meta.data")
	run(t, "qemu-img", "create", "-q", "-f", "qcow2", "-o", "data_file="+data, image, "16M")

	info, err := convert.Inspect(context.Background(), image)
	require.NoError(t, err)
	assert.Equal(t, []string{data}, info.ExternalFiles)
	_, err = convert.Convert(context.Background(), convert.Request{Src: image, Dest: filepath.Join(dir, "x.raw"), DestFormat: "raw"})
	require.ErrorIs(t, err, convert.ErrExternalFile)
}

func TestConvertRefusesATruncatedQcow2(t *testing.T) {
	dir := t.TempDir()
	image := filepath.Join(dir, "truncated.qcow2")
	run(t, "qemu-img", "create", "-q", "-f", "qcow2", image, "32M")
	run(t, "qemu-io", "-f", "qcow2", "-c", "write -P 0xcd 0 6M", image)
	require.NoError(t, os.Truncate(image, 3<<20))
	dest := filepath.Join(dir, "x.raw")
	_, err := convert.Plan(context.Background(), convert.Request{Src: image, Dest: dest, DestFormat: "raw"})
	require.ErrorIs(t, err, convert.ErrUnsafeImage, "check mode says the conversion would fail")
	_, err = convert.Convert(context.Background(), convert.Request{Src: image, Dest: dest, DestFormat: "raw"})
	require.ErrorIs(t, err, convert.ErrUnsafeImage, "a truncated qcow2 is not converted into a silently corrupt raw image")
	assert.Contains(t, err.Error(), "corrupt or truncated")
	assert.NoFileExists(t, dest)
}

func TestConvertWrongSrcFormatLeavesNothing(t *testing.T) {
	src := rawImage(t)
	dir := filepath.Dir(src)
	dest := filepath.Join(dir, "disk.vmdk")
	_, err := convert.Convert(context.Background(), convert.Request{Src: src, Dest: dest, DestFormat: "vmdk", SrcFormat: "qcow2"})
	require.Error(t, err)
	var qerr *convert.QemuImgError
	require.ErrorAs(t, err, &qerr)
	assert.Contains(t, qerr.Stderr, "Image is not in qcow2 format")
	assert.Contains(t, err.Error(), "cannot be read as src_format qcow2")
	assert.Equal(t, []string{"disk.raw"}, entries(t, dir))
}

func TestConvertQemuImgFailureKeepsTheOldDest(t *testing.T) {
	src := rawImage(t)
	dir := filepath.Dir(src)
	broken := filepath.Join(dir, "broken.qcow2")
	_, err := convert.Convert(context.Background(), convert.Request{Src: src, Dest: broken, DestFormat: "qcow2"})
	require.NoError(t, err)
	corruptQcow2(t, broken)
	dest := filepath.Join(dir, "out.raw")
	old := []byte("the previous image, which must survive\n")
	require.NoError(t, os.WriteFile(dest, old, 0o644))

	// Past qemu-img check (which refuses it, see TestConvertRefusesATruncatedQcow2), to make qemu-img convert fail.
	_, err = convert.Convert(context.Background(), convert.Request{Src: broken, Dest: dest, DestFormat: "raw"}, convert.SourceVerified())
	require.Error(t, err)
	var qerr *convert.QemuImgError
	require.ErrorAs(t, err, &qerr)
	assert.Equal(t, "convert", qerr.Args[0])
	assert.Contains(t, err.Error(), "Input/output error", "qemu-img's own message is shown")
	assert.Contains(t, err.Error(), `converting "`+broken+`" (qcow2) to raw "`+dest+`"`)
	content, readErr := os.ReadFile(dest)
	require.NoError(t, readErr)
	assert.Equal(t, old, content, "dest is as it was")
	assert.ElementsMatch(t, []string{"disk.raw", "broken.qcow2", "out.raw"}, entries(t, dir), "no temporary file left")
}

func TestConvertCancelledRemovesTheTemporaryFile(t *testing.T) {
	src := bigRawImage(t)
	dir := filepath.Dir(src)
	dest := filepath.Join(dir, "tools.qcow2")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	done := make(chan error, 1)
	go func() {
		// One coroutine, in order: slow enough to be caught in the middle.
		_, err := convert.Convert(ctx, convert.Request{Src: src, Dest: dest, DestFormat: "qcow2", Compress: true},
			convert.WithCoroutines(1), convert.WithOutOfOrderWrites(false))
		done <- err
	}()
	sawPartial := false
	deadline := time.Now().Add(30 * time.Second)
	for !sawPartial && time.Now().Before(deadline) {
		for _, name := range entries(t, dir) {
			if strings.HasPrefix(name, ".tools.qcow2.") && strings.HasSuffix(name, ".tmp") {
				if stat, err := os.Stat(filepath.Join(dir, name)); err == nil && stat.Size() > 1<<20 {
					sawPartial = true
				}
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	require.True(t, sawPartial, "qemu-img was seen writing the hidden temporary file")
	cancel()

	err := <-done
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, []string{"tools.raw"}, entries(t, dir), "neither dest nor the temporary file exists")
}

func TestQemuImgMissing(t *testing.T) {
	src := rawImage(t)
	t.Setenv("PATH", t.TempDir())
	_, err := convert.Convert(context.Background(), convert.Request{Src: src, Dest: src + ".qcow2", DestFormat: "qcow2"})
	require.ErrorIs(t, err, convert.ErrQemuImgNotFound)
	assert.Contains(t, err.Error(), "qemu-img not found in PATH: install qemu-utils")

	_, err = convert.Inspect(context.Background(), src, convert.WithQemuImg("/nonexistent/qemu-img"))
	require.ErrorIs(t, err, convert.ErrQemuImgNotFound)
	assert.Contains(t, err.Error(), `"/nonexistent/qemu-img"`)
}

func TestOptionsRejectBadValues(t *testing.T) {
	src := rawImage(t)
	for _, n := range []int{0, 17} {
		_, err := convert.Plan(context.Background(), convert.Request{Src: src, Dest: src + ".qcow2", DestFormat: "qcow2"},
			convert.WithCoroutines(n))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "expected 1 to 16")
	}
	_, err := convert.Inspect(context.Background(), src, convert.WithQemuImg(""))
	assert.ErrorContains(t, err, "qemu-img path is empty")
}

func TestInspect(t *testing.T) {
	src := rawImage(t)
	info, err := convert.Inspect(context.Background(), src)
	require.NoError(t, err)
	stat, err := os.Stat(src)
	require.NoError(t, err)
	assert.Equal(t, "raw", info.Format)
	assert.Equal(t, src, info.Path)
	assert.Equal(t, stat.Size(), info.VirtualSize)
	assert.Less(t, info.ActualSize, info.VirtualSize, "the copy is sparse")
	assert.Empty(t, info.BackingFile)
	assert.Empty(t, info.ExternalFiles)

	_, err = convert.Inspect(context.Background(), filepath.Join(filepath.Dir(src), "nope.img"))
	var qerr *convert.QemuImgError
	require.ErrorAs(t, err, &qerr)
	assert.Contains(t, qerr.Stderr, "No such file or directory")
}

func gzipFile(t *testing.T, src, dest string) {
	t.Helper()
	in, err := os.Open(src)
	require.NoError(t, err)
	defer in.Close()
	out, err := os.Create(dest)
	require.NoError(t, err)
	defer out.Close()
	zw := gzip.NewWriter(out)
	_, err = io.Copy(zw, in)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
}

func sha256File(t *testing.T, path string) [32]byte {
	t.Helper()
	content, err := os.ReadFile(path)
	require.NoError(t, err)
	return sha256.Sum256(content)
}

// A qemu-img built without a driver (RHEL's lacks several) is reported
// before anything runs, with what it can do instead. The wrapper runs the real
// qemu-img, only hiding vdi from its list of drivers.
func TestQemuImgWithoutTheDriver(t *testing.T) {
	src := rawImage(t)
	wrapper := filepath.Join(t.TempDir(), "qemu-img-without-vdi")
	script := "#!/bin/sh\nif [ \"$1\" = --help ]; then qemu-img --help | sed 's/ vdi / /'; exit 0; fi\nexec qemu-img \"$@\"\n"
	require.NoError(t, os.WriteFile(wrapper, []byte(script), 0o755))

	_, err := convert.Plan(context.Background(), convert.Request{Src: src, Dest: src + ".vdi", DestFormat: "vdi"},
		convert.WithQemuImg(wrapper))
	require.Error(t, err)
	assert.Equal(t, `dest_format "vdi": the installed qemu-img (`+wrapper+`) was built without the vdi driver; it supports raw, qcow2, qed, vhdx, vmdk, vpc, qcow, parallels, dmg, bochs, cloop`, err.Error())

	res, err := convert.Plan(context.Background(), convert.Request{Src: src, Dest: src + ".vhdx", DestFormat: "vhdx"},
		convert.WithQemuImg(wrapper))
	require.NoError(t, err)
	assert.True(t, res.Changed)
}

func TestConvertReadsIsoAsRaw(t *testing.T) {
	src := rawImage(t)
	dest := src + ".qcow2"
	res, err := convert.Convert(context.Background(), convert.Request{Src: src, Dest: dest, DestFormat: "qcow2", SrcFormat: "iso"})
	require.NoError(t, err)
	assert.Equal(t, "raw", res.SrcFormat)
	requireSameContent(t, src, "raw", dest, "qcow2")
}

// WithoutSync only skips the flush: the destination is complete and checked
// all the same.
func TestConvertWithoutSyncWritesTheSameImage(t *testing.T) {
	src := rawImage(t)
	dest := filepath.Join(filepath.Dir(src), "unsynced.qcow2")
	res, err := convert.Convert(context.Background(), convert.Request{Src: src, Dest: dest, DestFormat: "qcow2"},
		convert.WithoutSync())
	require.NoError(t, err)
	assert.True(t, res.Changed)
	assert.Equal(t, "qcow2", res.Format)
	requireSameContent(t, src, "raw", dest, "qcow2")
}
