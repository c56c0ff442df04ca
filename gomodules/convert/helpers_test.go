package convert_test

import (
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// fixtures are real disk images built once per test binary with mkfs.ext4
// and qemu-img from real files; tests work on copies.
var fixtures struct {
	once sync.Once
	dir  string
	raw  string // 32 MiB ext4 filesystem holding documentation and licence texts
	big  string // 160 MiB ext4 filesystem holding the Go toolchain's binaries
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fixtures.dir != "" {
		os.RemoveAll(fixtures.dir)
	}
	os.Exit(code)
}

func buildFixtures() error {
	dir, err := os.MkdirTemp("", "imageops-convert-test-")
	if err != nil {
		return err
	}
	fixtures.dir = dir
	fixtures.raw = filepath.Join(dir, "docs.raw")
	fixtures.big = filepath.Join(dir, "tools.raw")
	docs, tools := filepath.Join(dir, "docs"), filepath.Join(dir, "tools")
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return &stepError{[]string{"go", "env", "GOROOT"}, "", err}
	}
	steps := [][]string{
		{"mkdir", "-p", docs, tools},
		{"cp", "-r", "/usr/share/doc/qemu-utils", "/usr/share/common-licenses", "/etc/os-release", docs},
		{"mkfs.ext4", "-q", "-F", "-d", docs, fixtures.raw, "32M"},
		// Compiled programs compress slowly enough for a conversion to be
		// caught in the middle.
		{"cp", "-r", filepath.Join(strings.TrimSpace(string(goroot)), "pkg", "tool"), tools},
		{"mkfs.ext4", "-q", "-F", "-d", tools, fixtures.big, "160M"},
	}
	for _, step := range steps {
		if out, err := exec.Command(step[0], step[1:]...).CombinedOutput(); err != nil {
			return &stepError{step, string(out), err}
		}
	}
	return nil
}

type stepError struct {
	argv []string
	out  string
	err  error
}

func (e *stepError) Error() string {
	return strings.Join(e.argv, " ") + ": " + e.err.Error() + ": " + e.out
}

// fixture copies one of the fixture images (fixtures.raw or fixtures.big,
// chosen by pick) into a new temporary directory as name.
func fixture(t *testing.T, pick func() string, name string) string {
	t.Helper()
	fixtures.once.Do(func() { fixtures.err = buildFixtures() })
	require.NoError(t, fixtures.err, "building the test images")
	dest := filepath.Join(t.TempDir(), name)
	run(t, "cp", "--sparse=always", pick(), dest)
	return dest
}

// rawImage is a fresh copy of the 32 MiB ext4 image, in a directory of its own.
func rawImage(t *testing.T) string {
	return fixture(t, func() string { return fixtures.raw }, "disk.raw")
}

// bigRawImage is a fresh copy of the 160 MiB image of compiled programs.
func bigRawImage(t *testing.T) string {
	return fixture(t, func() string { return fixtures.big }, "tools.raw")
}

func run(t *testing.T, argv ...string) string {
	t.Helper()
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	require.NoError(t, err, "%s: %s", strings.Join(argv, " "), out)
	return string(out)
}

// requireSameContent asserts that two images hold the same guest data
// (qemu-img compare, which exits 0 only for identical contents).
func requireSameContent(t *testing.T, a, aFormat, b, bFormat string) {
	t.Helper()
	run(t, "qemu-img", "compare", "-q", "-f", aFormat, "-F", bFormat, a, b)
}

// entries lists the names in dir.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	list, err := os.ReadDir(dir)
	require.NoError(t, err)
	names := make([]string, len(list))
	for i, e := range list {
		names[i] = e.Name()
	}
	return names
}

// corruptQcow2 makes the first data cluster's L2 entry point to an offset
// that is not cluster-aligned (qcow2 specification: L2 entries hold the
// cluster offset in bits 9-55), which qemu-img reports as corruption only
// when it reads that cluster, so qemu-img info still succeeds.
func corruptQcow2(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	require.NoError(t, err)
	defer f.Close()
	read := func(offset int64) uint64 {
		var b [8]byte
		_, err := f.ReadAt(b[:], offset)
		require.NoError(t, err)
		return binary.BigEndian.Uint64(b[:])
	}
	const offsetMask = 0x00fffffffffffe00
	l1 := int64(read(40)) // header field l1_table_offset
	l2 := int64(read(l1) & offsetMask)
	entry := read(l2)
	require.NotZero(t, entry&offsetMask, "the image's first cluster is allocated")
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], entry|0x200)
	_, err = f.WriteAt(b[:], l2)
	require.NoError(t, err)
}
