package convert_test

import (
	"context"
	"crypto/sha512"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageops/cloud/gomodules/convert"
	"github.com/imageops/cloud/gomodules/internal/testenv"
)

// sha512File is the SHA-512 of a file's bytes.
func sha512File(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	h := sha512.New()
	_, err = io.Copy(h, f)
	require.NoError(t, err)
	return h.Sum(nil)
}

// nbdSockets lists the socket directories that runs left behind; a stream
// removes its own, and the next one removes those of killed runs, so the
// set never grows.
func nbdSockets(t *testing.T) []string { return testenv.NBDLeftovers(t) }

func TestStreamRawReadsEveryFormatAsTheRawDisk(t *testing.T) {
	src := bigRawImage(t)
	want := sha512File(t, src)
	before := nbdSockets(t)
	for _, format := range []string{"qcow2", "vmdk", "vhdx", "vpc"} {
		t.Run(format, func(t *testing.T) {
			image := filepath.Join(t.TempDir(), "image."+format)
			args := []string{"qemu-img", "convert", "-f", "raw", "-O", format}
			if format == "vpc" {
				args = append(args, "-o", "force_size=on")
			}
			run(t, append(args, src, image)...)

			stream, err := convert.StreamRaw(context.Background(), image, format)
			require.NoError(t, err)
			assert.Equal(t, int64(160<<20), stream.Size(), "the virtual size")
			h := sha512.New()
			n, err := io.Copy(h, stream)
			require.NoError(t, err)
			require.NoError(t, stream.Close())
			assert.Equal(t, stream.Size(), n)
			assert.Equal(t, want, h.Sum(nil), "the raw bytes of the %s image are the source's", format)
		})
	}
	assert.Subset(t, before, nbdSockets(t), "no socket directory is left behind")
}

// sha512Of reads a stream to its end through Read alone, in reads of a
// size that crosses runs of data and zeros anywhere.
func sha512Of(t *testing.T, stream io.Reader) ([]byte, int64) {
	t.Helper()
	h := sha512.New()
	n, err := io.CopyBuffer(h, struct{ io.Reader }{stream}, make([]byte, 12345))
	require.NoError(t, err)
	return h.Sum(nil), n
}

// qcow2Variants writes images of the raw disk src in the qcow2 shapes that
// read differently: compat 0.10 (version 2), subclusters (extended_l2),
// 2 MiB clusters, zero clusters marked as such, and compressed clusters.
func qcow2Variants(t *testing.T, src string) map[string]string {
	t.Helper()
	dir := t.TempDir()
	images := map[string]string{}
	for name, opts := range map[string]string{
		"v2": "compat=0.10", "subclusters": "extended_l2=on,cluster_size=128k", "big-clusters": "cluster_size=2M",
	} {
		images[name] = filepath.Join(dir, name+".qcow2")
		run(t, "qemu-img", "convert", "-f", "raw", "-O", "qcow2", "-o", opts, src, images[name])
	}
	images["compressed"] = filepath.Join(dir, "compressed.qcow2")
	run(t, "qemu-img", "convert", "-c", "-f", "raw", "-O", "qcow2", src, images["compressed"])
	// Zero clusters marked as zeros (QCOW_OFLAG_ZERO) amid data, and a write
	// into the middle of one.
	images["zero-flags"] = filepath.Join(dir, "zero-flags.qcow2")
	run(t, "qemu-img", "convert", "-f", "raw", "-O", "qcow2", src, images["zero-flags"])
	run(t, "qemu-io", "-f", "qcow2", "-c", "write -z 1M 3M", "-c", "write -P 0x5a 2M 4k", images["zero-flags"])
	return images
}

func TestStreamRawReadsEveryShapeOfQcow2AsTheRawDisk(t *testing.T) {
	src := bigRawImage(t)
	for name, image := range qcow2Variants(t, src) {
		t.Run(name, func(t *testing.T) {
			want := filepath.Join(t.TempDir(), "want.raw")
			run(t, "qemu-img", "convert", "-f", "qcow2", "-O", "raw", image, want)
			stream, err := convert.StreamRaw(context.Background(), image, "qcow2")
			require.NoError(t, err)
			got, n := sha512Of(t, stream)
			require.NoError(t, stream.Close())
			assert.Equal(t, stream.Size(), n)
			assert.Equal(t, sha512File(t, want), got, "what qemu-img convert -O raw writes")
		})
	}
}

func TestStreamRawReadsAnUncompressedQcow2WithoutQemuNBD(t *testing.T) {
	src := bigRawImage(t)
	images := qcow2Variants(t, src)
	noNBD := convert.WithQemuNBD("/nonexistent/qemu-nbd")
	stream, err := convert.StreamRaw(context.Background(), images["v2"], "qcow2", noNBD)
	require.NoError(t, err, "the data clusters are read from the file where qemu-img map places them")
	h := sha512.New()
	_, err = io.Copy(h, stream)
	require.NoError(t, err)
	require.NoError(t, stream.Close())
	assert.Equal(t, sha512File(t, src), h.Sum(nil))

	_, err = convert.StreamRaw(context.Background(), images["compressed"], "qcow2", noNBD)
	require.ErrorIs(t, err, convert.ErrQemuNBDNotFound, "compressed clusters are read through qemu-nbd")
}

func TestStreamRawCancelledFailsAndStopsQemuNBD(t *testing.T) {
	src := bigRawImage(t)
	images := qcow2Variants(t, src)
	for _, name := range []string{"v2", "compressed"} { // read from the file; through qemu-nbd
		t.Run(name, func(t *testing.T) {
			before := nbdSockets(t)
			ctx, cancel := context.WithCancel(context.Background())
			stream, err := convert.StreamRaw(ctx, images[name], "qcow2")
			require.NoError(t, err)
			_, err = io.CopyN(io.Discard, stream, 1<<20)
			require.NoError(t, err)
			cancel()
			start := time.Now()
			_, err = io.Copy(io.Discard, stream)
			require.Error(t, err, "a cancelled stream fails instead of ending early")
			require.NoError(t, stream.Close())
			assert.Less(t, time.Since(start), 10*time.Second)
			assert.Subset(t, before, nbdSockets(t))
		})
	}
}

func TestStreamRawRefusesAnImageOfAnotherFormat(t *testing.T) {
	src := rawImage(t)
	_, err := convert.StreamRaw(context.Background(), src, "qcow2")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "qemu-nbd")
	assert.True(t, strings.Contains(err.Error(), "qcow2"), "the error names the format: %v", err)
}

func TestStreamRawWithoutQemuNBD(t *testing.T) {
	_, err := convert.StreamRaw(context.Background(), rawImage(t), "raw", convert.WithQemuNBD("/nonexistent/qemu-nbd"))
	require.ErrorIs(t, err, convert.ErrQemuNBDNotFound)
}

// loggingQemuImg is a qemu-img that logs each subcommand it runs to the
// file it returns, then runs the real one.
func loggingQemuImg(t *testing.T) (qemuImg, log string) {
	t.Helper()
	real, err := exec.LookPath("qemu-img")
	require.NoError(t, err)
	dir := t.TempDir()
	qemuImg, log = filepath.Join(dir, "qemu-img"), filepath.Join(dir, "runs.log")
	script := "#!/bin/sh\necho \"$1\" >>'" + log + "'\nexec '" + real + "' \"$@\"\n"
	require.NoError(t, os.WriteFile(qemuImg, []byte(script), 0o755))
	return qemuImg, log
}

func TestOpenRawInspectsOnceAndReadsAsOftenAsAsked(t *testing.T) {
	src := bigRawImage(t)
	image := qcow2Variants(t, src)["zero-flags"]
	wantRaw := filepath.Join(t.TempDir(), "want.raw")
	run(t, "qemu-img", "convert", "-f", "qcow2", "-O", "raw", image, wantRaw)
	want := sha512File(t, wantRaw)
	qemuImg, log := loggingQemuImg(t)
	info, err := convert.Verify(context.Background(), image, "qcow2", 1<<40, convert.WithQemuImg(qemuImg))
	require.NoError(t, err)
	raw, err := convert.OpenRaw(context.Background(), image, "qcow2", convert.WithQemuImg(qemuImg),
		convert.WithInfo(info), convert.WithQemuNBD("/nonexistent/qemu-nbd"))
	require.NoError(t, err, "an uncompressed qcow2 is read from its file, without qemu-nbd")
	for range 2 { // the header check, then the upload
		stream, err := raw.Stream(context.Background())
		require.NoError(t, err)
		got, n := sha512Of(t, stream)
		require.NoError(t, stream.Close())
		assert.Equal(t, int64(160<<20), n)
		assert.Equal(t, want, got, "each reading is the whole disk")
	}
	runs, err := os.ReadFile(log)
	require.NoError(t, err)
	assert.Equal(t, "info\ncheck\nmap\n", string(runs), "Verify's info is reused, map runs once, readings run nothing")
}
