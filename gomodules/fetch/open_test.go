package fetch

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageops/cloud/gomodules/internal/testenv"
)

// serveFiles starts an HTTP server on 127.0.0.1 serving each file under its
// URL path; it stops when the test ends.
func serveFiles(t *testing.T, files map[string]string) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	for p, f := range files {
		mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, f) })
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// fast keeps retries quick in tests.
var fast = []Option{WithRetryBackoff(time.Millisecond)}

func opts(extra ...Option) []Option { return append(append([]Option{}, fast...), extra...) }

func TestOpenDecompressesEveryCompressionByMagic(t *testing.T) {
	want := readFile(t, ext4Image(t))
	for _, c := range []Compression{CompressionNone, CompressionGzip, CompressionBzip2, CompressionXZ, CompressionZstd} {
		t.Run(string(c), func(t *testing.T) {
			served := readFile(t, compressedImage(t, c))
			// The name says nothing: only the magic bytes may decide.
			srv := serveFiles(t, map[string]string{"/image": compressedImage(t, c)})
			sums := []Checksum{{Algorithm: SHA256, Hex: sha256Hex(served)}, {Algorithm: SHA512, Hex: sha512Hex(served)}}

			src, err := Open(context.Background(), srv.URL+"/image", opts(WithChecksums(sums...))...)
			require.NoError(t, err)
			defer src.Close()
			assert.Equal(t, c, src.Compression())
			assert.Equal(t, c != CompressionNone, src.Decompressed())
			assert.Equal(t, int64(len(served)), src.Size(), "Size is the Content-Length of the bytes served")

			got, err := io.ReadAll(src)
			require.NoError(t, err)
			require.True(t, bytes.Equal(want, got), "the decompressed bytes are the ext4 image")

			d, ok := src.Digests()
			require.True(t, ok)
			assert.Equal(t, Digests{
				RawSize: int64(len(served)), RawSHA256: sha256Hex(served), RawSHA512: sha512Hex(served),
				Size: int64(len(want)), SHA512: sha512Hex(want),
			}, d)
		})
	}
}

func TestChecksumMismatchIsReadErrorNotEOF(t *testing.T) {
	path := compressedImage(t, CompressionXZ)
	served := readFile(t, path)
	srv := serveFiles(t, map[string]string{"/image.xz": path})
	wrong256 := strings.Repeat("ab", 32)
	wrong512 := strings.Repeat("cd", 64)

	cases := map[string]struct {
		sums    []Checksum
		algo    Algorithm
		want    string
		wantErr bool
	}{
		"sha256 right":               {sums: []Checksum{{Algorithm: SHA256, Hex: sha256Hex(served)}}},
		"sha512 right":               {sums: []Checksum{{Algorithm: SHA512, Hex: sha512Hex(served)}}},
		"sha256 wrong":               {sums: []Checksum{{Algorithm: SHA256, Hex: wrong256}}, algo: SHA256, want: wrong256, wantErr: true},
		"sha512 wrong":               {sums: []Checksum{{Algorithm: SHA512, Hex: wrong512}}, algo: SHA512, want: wrong512, wantErr: true},
		"sha256 right, sha512 wrong": {sums: []Checksum{{Algorithm: SHA256, Hex: sha256Hex(served)}, {Algorithm: SHA512, Hex: wrong512}}, algo: SHA512, want: wrong512, wantErr: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			src, err := Open(context.Background(), srv.URL+"/image.xz", opts(WithChecksums(tc.sums...))...)
			require.NoError(t, err)
			defer src.Close()
			n, err := io.Copy(io.Discard, src)
			if !tc.wantErr {
				require.NoError(t, err)
				assert.Equal(t, int64(8<<20), n)
				return
			}
			require.ErrorIs(t, err, ErrChecksumMismatch)
			var mm *ChecksumMismatchError
			require.ErrorAs(t, err, &mm)
			actual := sha256Hex(served)
			if tc.algo == SHA512 {
				actual = sha512Hex(served)
			}
			assert.Equal(t, ChecksumMismatchError{URL: srv.URL + "/image.xz", Algorithm: tc.algo, Expected: tc.want, Actual: actual}, *mm)
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), actual)
			assert.Contains(t, err.Error(), srv.URL+"/image.xz")

			// The error stays: a consumer that reads again does not see EOF.
			_, again := src.Read(make([]byte, 10))
			assert.ErrorIs(t, again, ErrChecksumMismatch)
		})
	}
}

func TestRamdiskAndKernelStayCompressedInAuto(t *testing.T) {
	requireFile(t, debianInitrd)
	served := readFile(t, debianInitrd)
	srv := serveFiles(t, map[string]string{"/initrd.gz": debianInitrd})
	url := srv.URL + "/initrd.gz"

	for _, format := range []string{"ari", "aki"} {
		t.Run(format, func(t *testing.T) {
			src, err := Open(context.Background(), url, opts(WithDiskFormat(format), WithChecksums(Checksum{Algorithm: SHA256, Hex: sha256Hex(served)}))...)
			require.NoError(t, err)
			defer src.Close()
			assert.Equal(t, CompressionGzip, src.Compression())
			assert.False(t, src.Decompressed())
			got, err := io.ReadAll(src)
			require.NoError(t, err)
			assert.True(t, bytes.Equal(served, got), "the initrd is passed on compressed, as it boots")
		})
	}

	t.Run("ari with decompress always", func(t *testing.T) {
		src, err := Open(context.Background(), url, opts(WithDiskFormat("ari"), WithDecompress(DecompressAlways))...)
		require.NoError(t, err)
		defer src.Close()
		assert.True(t, src.Decompressed())
		head, err := src.Peek(6)
		require.NoError(t, err)
		assert.Equal(t, "070701", string(head), "a decompressed initrd is a cpio newc archive")
	})

	t.Run("no disk format", func(t *testing.T) {
		src, err := Open(context.Background(), url, fast...)
		require.NoError(t, err)
		defer src.Close()
		assert.True(t, src.Decompressed())
		n, err := io.Copy(io.Discard, src)
		require.NoError(t, err)
		assert.Greater(t, n, int64(len(served)))
	})
}

func TestDecompressNeverAndAlways(t *testing.T) {
	gz := compressedImage(t, CompressionGzip)
	raw := ext4Image(t)
	srv := serveFiles(t, map[string]string{"/a.gz": gz, "/b.img": raw})

	src, err := Open(context.Background(), srv.URL+"/a.gz", opts(WithDecompress(DecompressNever))...)
	require.NoError(t, err)
	got, err := io.ReadAll(src)
	require.NoError(t, err)
	src.Close()
	assert.Equal(t, CompressionGzip, src.Compression())
	assert.False(t, src.Decompressed())
	assert.True(t, bytes.Equal(readFile(t, gz), got), "never passes the gzip bytes on as they are")

	_, err = Open(context.Background(), srv.URL+"/b.img", opts(WithDecompress(DecompressAlways))...)
	require.Error(t, err)
	assert.Contains(t, err.Error(), srv.URL+"/b.img")
	assert.Contains(t, err.Error(), `decompress "always"`)
	assert.Contains(t, err.Error(), "is not gzip, bzip2, xz or zstd data")
	assert.Contains(t, err.Error(), "it starts with none of their magic numbers", "and its bytes are never quoted")
}

func TestServerContentEncodingIsNotUndone(t *testing.T) {
	// Some servers label .gz files Content-Encoding: gzip. The checksum is of
	// the file, so the bytes must arrive as stored, whatever the client.
	gz := compressedImage(t, CompressionGzip)
	served := readFile(t, gz)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		http.ServeFile(w, r, gz)
	}))
	t.Cleanup(srv.Close)

	for name, extra := range map[string][]Option{"own client": nil, "caller's client": {WithHTTPClient(&http.Client{})}} {
		t.Run(name, func(t *testing.T) {
			src, err := Open(context.Background(), srv.URL+"/x", opts(append(extra, WithDecompress(DecompressNever), WithChecksums(Checksum{Algorithm: SHA256, Hex: sha256Hex(served)}))...)...)
			require.NoError(t, err)
			defer src.Close()
			got, err := io.ReadAll(src)
			require.NoError(t, err)
			assert.Equal(t, len(served), len(got))
		})
	}
}

func TestHTTPErrors(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		switch r.URL.Path {
		case "/forbidden":
			w.WriteHeader(http.StatusForbidden)
		case "/broken":
			w.WriteHeader(http.StatusInternalServerError)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)

	t.Run("404 is not found, not retried", func(t *testing.T) {
		calls.Store(0)
		_, err := Open(context.Background(), srv.URL+"/missing.qcow2", fast...)
		require.Error(t, err)
		assert.ErrorIs(t, err, ErrNotFound)
		var se *HTTPStatusError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, 404, se.StatusCode)
		assert.Equal(t, `fetching "`+srv.URL+`/missing.qcow2": server answered 404 Not Found`, err.Error())
		assert.Equal(t, int32(1), calls.Load())
	})
	t.Run("403 says so", func(t *testing.T) {
		_, err := Open(context.Background(), srv.URL+"/forbidden", fast...)
		require.Error(t, err)
		assert.NotErrorIs(t, err, ErrNotFound)
		assert.Contains(t, err.Error(), "403 Forbidden")
	})
	t.Run("500 retried then given up", func(t *testing.T) {
		calls.Store(0)
		_, err := Open(context.Background(), srv.URL+"/broken", opts(WithRetries(2))...)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "500 Internal Server Error")
		assert.Contains(t, err.Error(), "gave up after 3 attempts")
		assert.Equal(t, int32(3), calls.Load())
	})
}

func TestRetry500Then200(t *testing.T) {
	path := compressedImage(t, CompressionZstd)
	served := readFile(t, path)
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 2 {
			http.Error(w, "try later", http.StatusServiceUnavailable)
			return
		}
		http.ServeFile(w, r, path)
	}))
	t.Cleanup(srv.Close)

	start := time.Now()
	src, err := Open(context.Background(), srv.URL+"/img.zst", WithRetryBackoff(20*time.Millisecond), WithChecksums(Checksum{Algorithm: SHA256, Hex: sha256Hex(served)}))
	require.NoError(t, err)
	defer src.Close()
	_, err = io.Copy(io.Discard, src)
	require.NoError(t, err)
	assert.Equal(t, int32(3), calls.Load())
	assert.GreaterOrEqual(t, time.Since(start), 60*time.Millisecond, "back-off waits 20ms, then 40ms")
}

func TestTruncatedBodyIsAnErrorAndNotRetriedOnceRead(t *testing.T) {
	data := readFile(t, ext4Image(t))
	var calls atomic.Int32
	srv := testenv.CutOffServer(t, data, 1<<20, &calls)

	src, err := Open(context.Background(), srv.URL+"/disk.img", fast...)
	require.NoError(t, err)
	defer src.Close()
	n, err := io.Copy(io.Discard, src)
	require.Error(t, err, "a short body must never look like a complete one")
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Contains(t, err.Error(), srv.URL+"/disk.img")
	assert.Equal(t, int64(1<<20), n)
	assert.Equal(t, int32(1), calls.Load(), "no retry once bytes were handed over")
	_, ok := src.Digests()
	assert.False(t, ok)
}

func TestConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())

	_, err = Open(context.Background(), "http://"+addr+"/image.qcow2", opts(WithRetries(1))...)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "connection refused")
	assert.Contains(t, err.Error(), `"http://`+addr+`/image.qcow2"`)
	assert.Contains(t, err.Error(), "gave up after 2 attempts")
}

// stallServer sends head, flushes, then sends nothing until the test ends.
func stallServer(t *testing.T, head []byte, total int, beforeHeaders bool) *httptest.Server {
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !beforeHeaders {
			w.Header().Set("Content-Length", strconv.Itoa(total))
			_, _ = w.Write(head)
			w.(http.Flusher).Flush()
		}
		select {
		case <-done:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(done); srv.Close() })
	return srv
}

func TestStalledDownloadEndsWithIdleTimeout(t *testing.T) {
	data := readFile(t, ext4Image(t))

	t.Run("mid-body", func(t *testing.T) {
		srv := stallServer(t, data[:256<<10], len(data), false)
		src, err := Open(context.Background(), srv.URL+"/disk.img", opts(WithIdleTimeout(200*time.Millisecond))...)
		require.NoError(t, err)
		defer src.Close()
		start := time.Now()
		n, err := io.Copy(io.Discard, src)
		require.ErrorIs(t, err, ErrIdleTimeout)
		assert.Less(t, time.Since(start), 5*time.Second)
		assert.Equal(t, int64(256<<10), n)
		assert.Contains(t, err.Error(), "no data received for 200ms")
		assert.Contains(t, err.Error(), srv.URL+"/disk.img")
	})
	t.Run("before the headers", func(t *testing.T) {
		srv := stallServer(t, nil, 0, true)
		_, err := Open(context.Background(), srv.URL+"/disk.img", opts(WithIdleTimeout(100*time.Millisecond), WithRetries(1))...)
		require.ErrorIs(t, err, ErrIdleTimeout)
		assert.Contains(t, err.Error(), "gave up after 2 attempts")
	})
}

func TestSlowButSteadyDownloadIsNotAStall(t *testing.T) {
	// Each chunk arrives within the idle timeout, the whole takes longer. The
	// margin between a chunk's pause and the timeout (800 ms) outlasts the
	// scheduling delays of a loaded machine.
	data := readFile(t, ext4Image(t))[:64<<10]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		for i := 0; i < len(data); i += 8 << 10 {
			_, _ = w.Write(data[i : i+8<<10])
			w.(http.Flusher).Flush()
			time.Sleep(200 * time.Millisecond)
		}
	}))
	t.Cleanup(srv.Close)
	src, err := Open(context.Background(), srv.URL+"/x", opts(WithIdleTimeout(time.Second))...)
	require.NoError(t, err)
	defer src.Close()
	got, err := io.ReadAll(src)
	require.NoError(t, err)
	assert.Equal(t, data, got)
}

func TestCredentialsNeverShow(t *testing.T) {
	const user, pass, sig = "alice", "s3/cr@3t:pw", "sig-0123456789" // a password with unescaped "/", "@" and ":"
	path := compressedImage(t, CompressionGzip)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != user || p != pass {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.URL.Path != "/img.gz" {
			http.NotFound(w, r)
			return
		}
		http.ServeFile(w, r, path)
	}))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	base := "http://" + user + ":" + pass + "@" + host

	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := l.Addr().String()
	require.NoError(t, l.Close())

	secretless := func(t *testing.T, s string) {
		t.Helper()
		for _, secret := range []string{user, pass, sig} {
			assert.NotContains(t, s, secret)
		}
	}
	t.Run("userinfo is sent as basic auth", func(t *testing.T) {
		src, err := Open(context.Background(), base+"/img.gz", fast...)
		require.NoError(t, err)
		defer src.Close()
		_, err = io.Copy(io.Discard, src)
		require.NoError(t, err)
		secretless(t, src.URL())
	})
	for name, url := range map[string]string{
		"404":                base + "/nope.gz?X-Amz-Signature=" + sig,
		"connection refused": "http://" + user + ":" + pass + "@" + closed + "/x?temp_url_sig=" + sig,
		"unparsable":         "http://" + user + ":" + pass + "@" + host + ":bad/x",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Open(context.Background(), url, opts(WithRetries(0))...)
			require.Error(t, err)
			secretless(t, err.Error())
			assert.Contains(t, err.Error(), "REDACTED")
		})
	}
	t.Run("checksum mismatch and Download result", func(t *testing.T) {
		dir := t.TempDir()
		_, err := Download(context.Background(), base+"/img.gz", filepath.Join(dir, "img"), opts(WithChecksums(Checksum{Algorithm: SHA256, Hex: strings.Repeat("0", 64)}))...)
		require.ErrorIs(t, err, ErrChecksumMismatch)
		secretless(t, err.Error())
		res, err := Download(context.Background(), base+"/img.gz", filepath.Join(dir, "img"), fast...)
		require.NoError(t, err)
		secretless(t, res.URL)
		assert.Equal(t, "http://REDACTED@"+host+"/img.gz", res.URL)
	})
}

func TestFileSources(t *testing.T) {
	path := compressedImage(t, CompressionBzip2)
	served := readFile(t, path)
	want := readFile(t, ext4Image(t))
	sum := WithChecksums(Checksum{Algorithm: SHA512, Hex: sha512Hex(served)})

	for _, url := range []string{"file://" + path, "file://localhost" + path, path} {
		t.Run(url, func(t *testing.T) {
			src, err := Open(context.Background(), url, sum)
			require.NoError(t, err)
			defer src.Close()
			assert.Equal(t, int64(len(served)), src.Size())
			got, err := io.ReadAll(src)
			require.NoError(t, err)
			assert.True(t, bytes.Equal(want, got))
		})
	}

	missing := filepath.Join(t.TempDir(), "gone.qcow2")
	for url, want := range map[string]string{
		"file://" + missing:              `opening "file://` + missing + `": not found: no such file or directory`,
		missing:                          `opening "` + missing + `": not found: no such file or directory`,
		"file://" + filepath.Dir(path):   "is a directory; expected a file",
		"images/x.qcow2":                 `url "images/x.qcow2": a relative path; expected an http, https or file URL, or an absolute path`,
		"file://files.example.org/x.img": `host "files.example.org" in a file URL`,
		"ftp://example.org/x.img":        `scheme "ftp" is not supported`,
		"":                               `url "": empty`,
	} {
		t.Run("refused "+url, func(t *testing.T) {
			_, err := Open(context.Background(), url, sum)
			require.Error(t, err)
			assert.Contains(t, err.Error(), want)
		})
	}
	_, err := Open(context.Background(), missing)
	assert.ErrorIs(t, err, ErrNotFound)
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestUserAgent(t *testing.T) {
	galaxy := readFile(t, "../../galaxy.yml")
	assert.Contains(t, string(galaxy), "\nversion: "+Version+"\n", "Version follows galaxy.yml")

	got := make(chan string, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.UserAgent()
		_, _ = w.Write([]byte("hello"))
	}))
	t.Cleanup(srv.Close)
	for _, o := range [][]Option{nil, {WithUserAgent("mirror-bot/2")}} {
		src, err := Open(context.Background(), srv.URL, o...)
		require.NoError(t, err)
		src.Close()
	}
	assert.Equal(t, "imageops.cloud/"+Version, <-got)
	assert.Equal(t, "mirror-bot/2", <-got)
}

func TestContextCancelStopsRetriesAndReads(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
	}))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Open(ctx, srv.URL, WithRetryBackoff(time.Hour))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 5*time.Second, "a cancelled Open does not sit out its back-off")
	assert.Contains(t, err.Error(), "502 Bad Gateway")

	// A file source notices the end of its context too.
	fctx, fcancel := context.WithCancel(context.Background())
	src, err := Open(fctx, ext4Image(t))
	require.NoError(t, err)
	defer src.Close()
	_, err = src.Read(make([]byte, 4096))
	require.NoError(t, err)
	fcancel()
	_, err = io.Copy(io.Discard, src)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestPeekDoesNotConsume(t *testing.T) {
	want := readFile(t, ext4Image(t))
	src, err := Open(context.Background(), compressedImage(t, CompressionZstd))
	require.NoError(t, err)
	defer src.Close()
	head, err := src.Peek(FormatHeaderLen)
	require.NoError(t, err)
	assert.Equal(t, want[:FormatHeaderLen], head)
	_, err = src.Peek(MaxPeek + 1)
	assert.ErrorContains(t, err, "expected 0 to 65536")
	got, err := io.ReadAll(src)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(want, got))
}

func TestCorruptCompressedData(t *testing.T) {
	data := readFile(t, compressedImage(t, CompressionGzip))
	bad := append([]byte{}, data...)
	bad[len(bad)/2] ^= 0xff
	path := filepath.Join(t.TempDir(), "bad.gz")
	require.NoError(t, os.WriteFile(path, bad, 0o644))

	src, err := Open(context.Background(), path)
	require.NoError(t, err)
	defer src.Close()
	_, err = io.Copy(io.Discard, src)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `decompressing gzip data from "`+path+`"`)
}

func TestOptionsRejectBadValues(t *testing.T) {
	caMissing := filepath.Join(t.TempDir(), "ca.pem")
	notPEM := filepath.Join(t.TempDir(), "ca.txt")
	require.NoError(t, os.WriteFile(notPEM, []byte("hello"), 0o644))
	for want, o := range map[string][]Option{
		`decompress "sometimes": expected "auto", "always" or "never"`:    {WithDecompress("sometimes")},
		`reading CA file "` + caMissing + `"`:                             {WithCAFile(caMissing)},
		`CA file "` + notPEM + `": no PEM certificate found`:              {WithCAFile(notPEM)},
		"idle timeout 0s: expected a positive duration":                   {WithIdleTimeout(0)},
		"retries -1: expected 0 or more":                                  {WithRetries(-1)},
		`checksum "crc32:abc": algorithm "crc32" is not accepted`:         {WithChecksums(Checksum{Algorithm: "crc32", Hex: "abc"})},
		"WithHTTPClient cannot be combined with [WithInsecureSkipVerify]": {WithHTTPClient(http.DefaultClient), WithInsecureSkipVerify(true)},
	} {
		_, err := Open(context.Background(), "http://127.0.0.1:9/x", o...)
		require.Error(t, err, want)
		assert.Contains(t, err.Error(), want)
	}
}

func TestErrorsKeepTheirKinds(t *testing.T) {
	// Open's errors are inspected with errors.Is/As by community_image.
	var se *HTTPStatusError
	err := error(&HTTPStatusError{URL: "u", StatusCode: 410})
	assert.True(t, errors.As(err, &se))
	assert.ErrorIs(t, err, ErrNotFound)
	assert.NotErrorIs(t, &HTTPStatusError{StatusCode: 500}, ErrNotFound)
}
