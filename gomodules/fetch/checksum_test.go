package fetch

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseChecksum(t *testing.T) {
	h256 := strings.Repeat("0a", 32)
	h512 := strings.Repeat("b1", 64)
	md5Hex := strings.Repeat("c", 32)
	accepted := map[string]Checksum{
		"sha256:" + h256:                    {Algorithm: SHA256, Hex: h256},
		"sha512:" + h512:                    {Algorithm: SHA512, Hex: h512},
		"SHA256:" + strings.ToUpper(h256):   {Algorithm: SHA256, Hex: h256},
		"  " + h256 + "\n":                  {Algorithm: SHA256, Hex: h256},
		h512:                                {Algorithm: SHA512, Hex: h512},
		"sha512: " + strings.ToUpper(h512):  {Algorithm: SHA512, Hex: h512},
		"md5:" + md5Hex:                     {Algorithm: MD5, Hex: md5Hex},
		"sha1:" + strings.Repeat("d", 40):   {Algorithm: SHA1, Hex: strings.Repeat("d", 40)},
		"sha224:" + strings.Repeat("e", 56): {Algorithm: SHA224, Hex: strings.Repeat("e", 56)},
		strings.Repeat("e", 56):             {Algorithm: SHA224, Hex: strings.Repeat("e", 56)},
		"sha384:" + strings.Repeat("f", 96): {Algorithm: SHA384, Hex: strings.Repeat("f", 96)},
		strings.Repeat("f", 96):             {Algorithm: SHA384, Hex: strings.Repeat("f", 96)},
		"sha256:https://cloud-images.ubuntu.com/noble/current/SHA256SUMS": {
			Algorithm: SHA256, FileURL: "https://cloud-images.ubuntu.com/noble/current/SHA256SUMS"},
		"sha512:file:///srv/images/SHA512SUMS": {Algorithm: SHA512, FileURL: "file:///srv/images/SHA512SUMS"},
	}
	for in, want := range accepted {
		got, err := ParseChecksum(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
		assert.NoError(t, got.validate())
	}
	weak, _ := ParseChecksum("md5:" + md5Hex)
	strong, _ := ParseChecksum("sha256:" + h256)
	assert.True(t, weak.Weak(), "md5 is weak")
	assert.False(t, strong.Weak(), "sha256 is not weak")
	assert.True(t, SHA1.Weak())

	refusedInputs := map[string]string{
		"":                                    `checksum "": empty; expected <algorithm>:<hex digits> or <algorithm>:<URL of a checksum file>`,
		"d41d8cd98f00b204e9800998ecf8427e":    `32 hex digits look like md5, which is weak and must be named: write md5:<hex>`,
		strings.Repeat("a", 40):               `40 hex digits look like sha1, which is weak and must be named`,
		"md5:abc":                             `md5 needs 32 hex digits, got 3`,
		"crc32:1234abcd":                      `unknown algorithm "crc32"`,
		"sha256:" + h512:                      `sha256 needs 64 hex digits, got 128`,
		"sha256:" + strings.Repeat("g", 64):   `is neither hex digits nor an http, https or file URL`,
		strings.Repeat("a", 63):               `63 hex digits match no accepted algorithm`,
		h256 + "  ubuntu-24.04.img":           `is not hex digits`,
		"sha256:ftp://example.org/SHA256SUMS": `is neither hex digits nor an http, https or file URL`,
		"sha256:file://host/srv/SHA256SUMS":   `the checksum file's url "file://host/srv/SHA256SUMS": host "host" in a file URL`,
		"sha256:https://u:pw@/SHA256SUMS":     `no host`,
	}
	for in, want := range refusedInputs {
		_, err := ParseChecksum(in)
		require.Error(t, err, in)
		assert.Contains(t, err.Error(), want)
		assert.NotContains(t, err.Error(), ":pw@", "a checksum file URL's password shows nowhere")
	}
}

func TestParseChecksums(t *testing.T) {
	h256 := strings.Repeat("0a", 32)
	h512 := strings.Repeat("b1", 64)
	other512 := strings.Repeat("c2", 64)

	sums, err := ParseChecksums("", "")
	require.NoError(t, err)
	assert.Empty(t, sums)

	sums, err = ParseChecksums("sha256:"+h256, h512)
	require.NoError(t, err)
	assert.Equal(t, []Checksum{{Algorithm: SHA256, Hex: h256}, {Algorithm: SHA512, Hex: h512}}, sums, "both are verified")

	sums, err = ParseChecksums(h512, "sha512:"+h512)
	require.NoError(t, err)
	assert.Equal(t, []Checksum{{Algorithm: SHA512, Hex: h512}}, sums, "the same digest twice is verified once")

	sums, err = ParseChecksums("sha256:http://127.0.0.1/SHA256SUMS", "sha512:http://127.0.0.1/SHA512SUMS")
	require.NoError(t, err)
	assert.Equal(t, []Checksum{{Algorithm: SHA256, FileURL: "http://127.0.0.1/SHA256SUMS"},
		{Algorithm: SHA512, FileURL: "http://127.0.0.1/SHA512SUMS"}}, sums)

	_, err = ParseChecksums(h512, other512)
	assert.ErrorContains(t, err, "two different SHA-512 digests cannot both match")

	_, err = ParseChecksums("", h256)
	assert.ErrorContains(t, err, `checksum_sha512 "`+h256+`": this is a sha256 checksum`)
	_, err = ParseChecksums("", "sha256:https://alice:s3cret@example.org/SHA256SUMS")
	assert.ErrorContains(t, err, `checksum_sha512 "sha256:https://REDACTED@example.org/SHA256SUMS": this is a sha256 checksum`)

	_, err = ParseChecksums("md5:abc", "")
	assert.ErrorContains(t, err, `checksum "md5:abc": md5 needs 32 hex digits`)
	_, err = ParseChecksums("", "sha512:xyz")
	assert.ErrorContains(t, err, `checksum_sha512 "sha512:xyz": "xyz" is neither hex digits nor an http, https or file URL`)
}

func TestFindInChecksumFile(t *testing.T) {
	a := strings.Repeat("a", 64)
	b := strings.Repeat("b", 64)
	const url = "https://example.org/SHA256SUMS"
	files := map[string]string{
		"coreutils text mode":   a + "  other.img\n" + b + "  disk.qcow2\n",
		"coreutils binary mode": a + " *other.img\n" + b + " *disk.qcow2\n",
		"leading ./":            b + "  ./disk.qcow2\n",
		"CRLF line ends":        a + "  other.img\r\n" + b + "  disk.qcow2\r\n",
		"one bare digest":       strings.ToUpper(b) + "\n",
		"BSD style":             "SHA256 (other.img) = " + a + "\nSHA256 (disk.qcow2) = " + b + "\n",
		"PGP-signed, comments": "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n# disk.qcow2: 64 MiB\n" +
			"SHA256 (disk.qcow2) = " + b + "\n-----BEGIN PGP SIGNATURE-----\n\nabc==\n-----END PGP SIGNATURE-----\n",
		"first entry wins": b + "  disk.qcow2\n" + a + "  disk.qcow2\n",
	}
	for name, text := range files {
		got, err := findInChecksumFile(text, SHA256, "disk.qcow2", url)
		require.NoError(t, err, name)
		assert.Equal(t, b, got, name)
	}

	_, err := findInChecksumFile(a+"  other.img\n", SHA256, "disk.qcow2", url)
	assert.ErrorIs(t, err, ErrNoChecksumEntry)
	assert.ErrorContains(t, err, `checksum file "https://example.org/SHA256SUMS" lists no sha256 checksum for "disk.qcow2"`)

	_, err = findInChecksumFile("SHA512 (disk.qcow2) = "+strings.Repeat("c", 128)+"\n", SHA256, "disk.qcow2", url)
	assert.ErrorIs(t, err, ErrNoChecksumEntry, "a BSD line of another algorithm is not the entry")

	_, err = findInChecksumFile(strings.Repeat("c", 128)+"  disk.qcow2\n", SHA256, "disk.qcow2", url)
	assert.ErrorContains(t, err, `gives a 128-character value for "disk.qcow2", which is not a sha256 digest (64 hex digits)`)
	assert.NotContains(t, err.Error(), "cccc", "what the file holds is never quoted")
}

func TestSourceFileName(t *testing.T) {
	for in, want := range map[string]string{
		"https://example.org/images/disk.qcow2":           "disk.qcow2",
		"https://example.org/images/disk.qcow2?sig=abc":   "disk.qcow2",
		"https://example.org/images/my%20disk.qcow2":      "my disk.qcow2",
		"file:///srv/images/disk.raw.xz":                  "disk.raw.xz",
		"/srv/images/disk.img":                            "disk.img",
		"http://127.0.0.1:8000/openhpc-RL9-260818-0723-3": "openhpc-RL9-260818-0723-3",
	} {
		assert.Equal(t, want, sourceFileName(in), in)
	}
}

func hexOf(h hash.Hash, data []byte) string {
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

// TestOpenVerifiesEveryAlgorithm downloads a real image with a checksum of
// each algorithm get_url takes: the right digest passes, a wrong one fails
// at the end of the stream naming the algorithm.
func TestOpenVerifiesEveryAlgorithm(t *testing.T) {
	path := compressedImage(t, CompressionXZ)
	served := readFile(t, path)
	srv := serveFiles(t, map[string]string{"/disk.raw.xz": path})
	right := map[Algorithm]string{
		MD5: hexOf(md5.New(), served), SHA1: hexOf(sha1.New(), served), SHA224: hexOf(sha256.New224(), served),
		SHA256: sha256Hex(served), SHA384: hexOf(sha512.New384(), served), SHA512: sha512Hex(served),
	}
	for algo, digest := range right {
		t.Run(string(algo), func(t *testing.T) {
			sum, err := ParseChecksum(string(algo) + ":" + digest)
			require.NoError(t, err)
			src, err := Open(context.Background(), srv.URL+"/disk.raw.xz", opts(WithChecksums(sum))...)
			require.NoError(t, err)
			_, err = io.Copy(io.Discard, src)
			src.Close()
			require.NoError(t, err, "the right %s digest passes", algo)

			wrong := Checksum{Algorithm: algo, Hex: strings.Repeat("0", len(digest))}
			src, err = Open(context.Background(), srv.URL+"/disk.raw.xz", opts(WithChecksums(sum, wrong))...)
			require.NoError(t, err)
			_, err = io.Copy(io.Discard, src)
			src.Close()
			var mismatch *ChecksumMismatchError
			require.True(t, errors.As(err, &mismatch), "a wrong %s digest fails: %v", algo, err)
			assert.Equal(t, algo, mismatch.Algorithm)
			assert.Equal(t, digest, mismatch.Actual)
		})
	}
}

// TestOpenReadsChecksumFiles serves an image beside the SHA256SUMS and
// SHA512SUMS files sha256sum and sha512sum write, over HTTP and as files.
func TestOpenReadsChecksumFiles(t *testing.T) {
	dir := t.TempDir()
	image := compressedImage(t, CompressionGzip)
	served := readFile(t, image)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "disk.raw.gz"), served, 0o644))
	sums256 := fmt.Sprintf("%s  other.img\n%s  disk.raw.gz\n", strings.Repeat("1", 64), sha256Hex(served))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "SHA256SUMS"), []byte(sums256), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "SHA512SUMS"), []byte(sha512Hex(served)+" *disk.raw.gz\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "BADSUMS"), []byte(strings.Repeat("2", 64)+"  disk.raw.gz\n"), 0o644))
	var sumRequests atomic.Int32
	files := http.FileServer(http.Dir(dir))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "SUMS") {
			sumRequests.Add(1)
		}
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)

	read := func(url string, sums ...string) error {
		parsed := make([]Checksum, len(sums))
		for i, s := range sums {
			c, err := ParseChecksum(s)
			require.NoError(t, err)
			parsed[i] = c
		}
		src, err := Open(context.Background(), url, opts(WithChecksums(parsed...))...)
		if err != nil {
			return err
		}
		defer src.Close()
		_, err = io.Copy(io.Discard, src)
		return err
	}

	t.Run("http", func(t *testing.T) {
		sumRequests.Store(0)
		require.NoError(t, read(srv.URL+"/disk.raw.gz", "sha256:"+srv.URL+"/SHA256SUMS", "sha512:"+srv.URL+"/SHA512SUMS"))
		assert.Equal(t, int32(2), sumRequests.Load(), "each checksum file is read once")
	})
	t.Run("file", func(t *testing.T) {
		require.NoError(t, read("file://"+dir+"/disk.raw.gz", "sha256:file://"+dir+"/SHA256SUMS"))
	})
	t.Run("wrong digest in the file", func(t *testing.T) {
		err := read(srv.URL+"/disk.raw.gz", "sha256:"+srv.URL+"/BADSUMS")
		assert.ErrorIs(t, err, ErrChecksumMismatch)
	})
	t.Run("no entry for the file", func(t *testing.T) {
		require.NoError(t, os.Link(filepath.Join(dir, "disk.raw.gz"), filepath.Join(dir, "renamed.gz")))
		err := read(srv.URL+"/renamed.gz", "sha256:"+srv.URL+"/SHA256SUMS")
		assert.ErrorIs(t, err, ErrNoChecksumEntry)
		assert.ErrorContains(t, err, `checksum file "`+srv.URL+`/SHA256SUMS" lists no sha256 checksum for "renamed.gz"`)
	})
	t.Run("missing checksum file", func(t *testing.T) {
		err := read(srv.URL+"/disk.raw.gz", "sha256:"+srv.URL+"/MISSING")
		assert.ErrorIs(t, err, ErrNotFound)
		assert.ErrorContains(t, err, `reading the checksum file of "`+srv.URL+`/disk.raw.gz": fetching "`+srv.URL+`/MISSING": server answered 404`)
	})
	t.Run("checksum file too large", func(t *testing.T) {
		big := filepath.Join(dir, "HUGESUMS")
		require.NoError(t, os.WriteFile(big, make([]byte, MaxChecksumFileSize+1), 0o644))
		err := read(srv.URL+"/disk.raw.gz", "sha256:"+srv.URL+"/HUGESUMS")
		assert.ErrorIs(t, err, ErrTooLarge)
	})
}
