package fetch

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/stretchr/testify/require"
)

// debianInitrd is a real gzip-compressed initrd, from Debian's package
// debian-installer-12-netboot-amd64 (scripts/install-deps.sh installs it).
const debianInitrd = "/usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64/initrd.gz"

// fixtureDir holds the files the tests make once per run; TestMain removes it.
var fixtureDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "fetch-fixtures-")
	if err != nil {
		panic(err)
	}
	fixtureDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// requireTool returns the path of a command-line tool, skipping the test when
// it is missing unless IMAGEOPS_REQUIRE_SERVICES=1 (make test), where a
// missing tool is a failure.
func requireTool(tb testing.TB, name string) string {
	tb.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("IMAGEOPS_REQUIRE_SERVICES") == "1" {
			tb.Fatalf("%s is needed (scripts/install-deps.sh installs it): %v", name, err)
		}
		tb.Skipf("%s is not installed: %v", name, err)
	}
	return p
}

// requireFile is requireTool for a file a Debian package provides.
func requireFile(tb testing.TB, path string) {
	tb.Helper()
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("IMAGEOPS_REQUIRE_SERVICES") == "1" {
			tb.Fatalf("%s is needed (scripts/install-deps.sh installs it): %v", path, err)
		}
		tb.Skipf("%s is missing: %v", path, err)
	}
}

func run(tb testing.TB, name string, args ...string) {
	tb.Helper()
	out, err := exec.Command(requireTool(tb, name), args...).CombinedOutput()
	require.NoError(tb, err, "%s %v: %s", name, args, out)
}

var (
	fixtureMu sync.Mutex
	fixtures  = map[string]*fixtureEntry{}
)

type fixtureEntry struct {
	mu   sync.Mutex
	path string
}

// fixture returns the path of a fixture, making it with make the first time.
// make may itself ask for other fixtures.
func fixture(tb testing.TB, name string, make func(tb testing.TB, path string)) string {
	tb.Helper()
	fixtureMu.Lock()
	e, ok := fixtures[name]
	if !ok {
		e = &fixtureEntry{}
		fixtures[name] = e
	}
	fixtureMu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.path == "" {
		p := filepath.Join(fixtureDir, name)
		make(tb, p)
		e.path = p
	}
	return e.path
}

// ext4Image is an 8 MiB ext4 file system holding real files (Go's and
// Debian's documentation), made with mkfs.ext4 -d: a real raw disk image.
func ext4Image(tb testing.TB) string {
	return fixture(tb, "disk.ext4", func(tb testing.TB, path string) {
		src := "/usr/share/doc/e2fsprogs"
		if _, err := os.Stat(src); err != nil {
			src = "/usr/share/doc"
		}
		run(tb, "mkfs.ext4", "-q", "-F", "-d", src, path, "8M")
	})
}

// compressedImage returns ext4Image compressed with c: gzip by Go's
// compress/gzip, the others by the xz, zstd and bzip2 tools.
func compressedImage(tb testing.TB, c Compression) string {
	raw := ext4Image(tb)
	if c == CompressionNone {
		return raw
	}
	return fixture(tb, "disk.ext4."+string(c), func(tb testing.TB, path string) {
		compressFile(tb, c, raw, path)
	})
}

func compressFile(tb testing.TB, c Compression, src, dst string) {
	tb.Helper()
	switch c {
	case CompressionGzip:
		in, err := os.Open(src)
		require.NoError(tb, err)
		defer in.Close()
		out, err := os.Create(dst)
		require.NoError(tb, err)
		zw := gzip.NewWriter(out)
		_, err = io.Copy(zw, in)
		require.NoError(tb, err)
		require.NoError(tb, zw.Close())
		require.NoError(tb, out.Close())
	case CompressionXZ:
		run(tb, "sh", "-c", `xz -1 -T2 -c "$1" > "$2"`, "sh", src, dst)
	case CompressionZstd:
		run(tb, "zstd", "-q", "-f", "-o", dst, src)
	case CompressionBzip2:
		run(tb, "sh", "-c", `bzip2 -c "$1" > "$2"`, "sh", src, dst)
	default:
		tb.Fatalf("no compressor for %q", c)
	}
}

func readFile(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	require.NoError(tb, err)
	return b
}

func sha256Hex(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
func sha512Hex(b []byte) string { s := sha512.Sum512(b); return hex.EncodeToString(s[:]) }

// listDir names the entries of dir, to check that nothing was left behind.
func listDir(tb testing.TB, dir string) []string {
	tb.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(tb, err)
	names := []string{}
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}
