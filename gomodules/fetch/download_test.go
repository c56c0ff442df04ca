package fetch

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDownloadWritesVerifiedFile(t *testing.T) {
	path := compressedImage(t, CompressionXZ)
	served := readFile(t, path)
	want := readFile(t, ext4Image(t))
	srv := serveFiles(t, map[string]string{"/disk.xz": path})
	dir := t.TempDir()
	dest := filepath.Join(dir, "disk.raw")
	require.NoError(t, os.WriteFile(dest, []byte("an older download"), 0o644))

	res, err := Download(context.Background(), srv.URL+"/disk.xz", dest,
		opts(WithChecksums(Checksum{Algorithm: SHA256, Hex: sha256Hex(served)}, Checksum{Algorithm: SHA512, Hex: sha512Hex(served)}))...)
	require.NoError(t, err)
	assert.Equal(t, Result{
		Path: dest, URL: srv.URL + "/disk.xz", Size: int64(len(want)),
		Compression: CompressionXZ, Decompressed: true,
		Digests: Digests{
			RawSize: int64(len(served)), RawSHA256: sha256Hex(served), RawSHA512: sha512Hex(served),
			Size: int64(len(want)), SHA512: sha512Hex(want),
		},
	}, res)
	assert.Equal(t, sha512Hex(want), sha512Hex(readFile(t, dest)), "the file holds the decompressed image")
	assert.Equal(t, []string{"disk.raw"}, listDir(t, dir), "no temporary file is left")
}

func TestDownloadFailuresLeaveNothing(t *testing.T) {
	path := compressedImage(t, CompressionGzip)
	srv := serveFiles(t, map[string]string{"/disk.gz": path})

	t.Run("checksum mismatch keeps the previous file", func(t *testing.T) {
		dir := t.TempDir()
		dest := filepath.Join(dir, "disk.raw")
		require.NoError(t, os.WriteFile(dest, []byte("the previous, good download"), 0o644))
		_, err := Download(context.Background(), srv.URL+"/disk.gz", dest, opts(WithChecksums(Checksum{Algorithm: SHA256, Hex: strings.Repeat("1", 64)}))...)
		require.ErrorIs(t, err, ErrChecksumMismatch)
		assert.Equal(t, []string{"disk.raw"}, listDir(t, dir))
		assert.Equal(t, "the previous, good download", string(readFile(t, dest)))
	})
	t.Run("checksum mismatch, no previous file", func(t *testing.T) {
		dir := t.TempDir()
		_, err := Download(context.Background(), srv.URL+"/disk.gz", filepath.Join(dir, "disk.raw"), opts(WithChecksums(Checksum{Algorithm: SHA512, Hex: strings.Repeat("2", 128)}))...)
		require.ErrorIs(t, err, ErrChecksumMismatch)
		assert.Empty(t, listDir(t, dir))
	})
	t.Run("not found", func(t *testing.T) {
		dir := t.TempDir()
		_, err := Download(context.Background(), srv.URL+"/nope.gz", filepath.Join(dir, "disk.raw"), fast...)
		require.ErrorIs(t, err, ErrNotFound)
		assert.Empty(t, listDir(t, dir))
	})
	t.Run("dest is a directory", func(t *testing.T) {
		dir := t.TempDir()
		_, err := Download(context.Background(), srv.URL+"/disk.gz", dir, fast...)
		assert.EqualError(t, err, `dest "`+dir+`": is a directory; expected a file path`)
		assert.Empty(t, listDir(t, dir))
	})
}

func TestDownloadCancelledMidwayRemovesTempFile(t *testing.T) {
	data := readFile(t, ext4Image(t))
	dir := t.TempDir()
	// The server trickles the image out; the test cancels once part of it
	// is on disk.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		for i := 0; i < len(data); i += 64 << 10 {
			if _, err := w.Write(data[i : i+64<<10]); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}))
	t.Cleanup(srv.Close)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for ctx.Err() == nil {
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if fi, err := e.Info(); err == nil && fi.Size() > 0 {
					cancel()
					return
				}
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	_, err := Download(ctx, srv.URL+"/disk.img", filepath.Join(dir, "disk.img"), fast...)
	require.ErrorIs(t, err, context.Canceled)
	assert.Contains(t, err.Error(), srv.URL+"/disk.img")
	assert.Empty(t, listDir(t, dir), "the partial temporary file is removed")
}
