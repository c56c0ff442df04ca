package convert_test

import (
	"context"
	"crypto/sha512"
	"io"
	"os"
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

func TestStreamRawCancelledStopsQemuNBD(t *testing.T) {
	src := bigRawImage(t)
	image := filepath.Join(t.TempDir(), "image.qcow2")
	run(t, "qemu-img", "convert", "-f", "raw", "-O", "qcow2", src, image)
	before := nbdSockets(t)

	ctx, cancel := context.WithCancel(context.Background())
	stream, err := convert.StreamRaw(ctx, image, "qcow2")
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
