package convert_test

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageops/cloud/gomodules/convert"
)

// writeQcow2 feeds the raw image at raw to a Qcow2Writer, bufSize bytes a
// Write, and writes the stream it gives to a file; it returns the file and
// the stream's announced size.
func writeQcow2(t *testing.T, raw string, bufSize int) (string, int64) {
	t.Helper()
	dir := t.TempDir()
	w, err := convert.NewQcow2Writer(dir)
	require.NoError(t, err)
	src, err := os.Open(raw)
	require.NoError(t, err)
	defer src.Close()
	_, err = io.CopyBuffer(struct{ io.Writer }{w}, struct{ io.Reader }{src}, make([]byte, bufSize))
	require.NoError(t, err)
	out := filepath.Join(t.TempDir(), "out.qcow2")
	var n int64
	for try := 0; try < 2; try++ { // a failed upload reads the image again
		stream, err := w.Stream()
		require.NoError(t, err)
		f, err := os.Create(out)
		require.NoError(t, err)
		n, err = io.Copy(f, stream)
		require.NoError(t, err)
		require.NoError(t, f.Close())
		require.NoError(t, stream.Close())
		assert.Equal(t, stream.Size(), n, "the stream is as long as announced")
	}
	require.NoError(t, w.Close())
	assert.Empty(t, entries(t, dir), "Close removes the data file")
	return out, n
}

// checkQcow2 asserts that qemu-img finds image a consistent qcow2 image,
// with no leaked cluster, holding raw's disk.
func checkQcow2(t *testing.T, image, raw string) {
	t.Helper()
	run(t, "qemu-img", "check", "-f", "qcow2", image) // exits non-zero on corruption or leaks
	requireSameContent(t, raw, "raw", image, "qcow2")
	info, err := convert.Inspect(t.Context(), image)
	require.NoError(t, err)
	stat, err := os.Stat(raw)
	require.NoError(t, err)
	assert.Equal(t, "qcow2", info.Format)
	assert.Equal(t, stat.Size(), info.VirtualSize)
}

func TestQcow2WriterMakesTheImageQemuImgWould(t *testing.T) {
	raw := bigRawImage(t)
	for _, bufSize := range []int{1 << 20, 7000} {
		image, size := writeQcow2(t, raw, bufSize)
		checkQcow2(t, image, raw)
		// qemu-img convert leaves the same zero clusters out: sizes within a
		// few metadata clusters.
		ref := filepath.Join(t.TempDir(), "ref.qcow2")
		run(t, "qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw, ref)
		stat, err := os.Stat(ref)
		require.NoError(t, err)
		assert.InDelta(t, stat.Size(), size, 8*65536, "our image is as compact as qemu-img's")
	}
}

func TestQcow2WriterSparseDiskOverSeveralL2Tables(t *testing.T) {
	// 600 MiB and a sector: two L2 tables (one covers 512 MiB), a last
	// cluster cut short, data at the start, across the 512 MiB boundary and
	// in the last sector; zeros elsewhere.
	raw := filepath.Join(t.TempDir(), "sparse.raw")
	f, err := os.Create(raw)
	require.NoError(t, err)
	size := int64(600<<20 + 512)
	require.NoError(t, f.Truncate(size))
	for _, at := range []int64{0, 70000, 512<<20 - 100, size - 512} {
		_, err := f.WriteAt([]byte("imageops qcow2 writer test data"), at)
		require.NoError(t, err)
	}
	require.NoError(t, f.Close())
	image, n := writeQcow2(t, raw, 1<<20)
	checkQcow2(t, image, raw)
	assert.Less(t, n, int64(2<<20), "zero clusters take no space")
}

func TestQcow2WriterRefusesPartialSectors(t *testing.T) {
	w, err := convert.NewQcow2Writer(t.TempDir())
	require.NoError(t, err)
	_, err = w.Write(make([]byte, 1000))
	require.NoError(t, err)
	_, err = w.Stream()
	require.ErrorContains(t, err, "512-byte sectors")
	require.NoError(t, w.Close())
}
