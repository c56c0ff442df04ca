package fetch

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// convertedImage returns ext4Image converted by qemu-img to format (qemu-img's
// name for it) with the given -o options.
func convertedImage(tb testing.TB, format string, options string) string {
	name := "disk." + format
	if options != "" {
		name += "." + options
	}
	return fixture(tb, name, func(tb testing.TB, path string) {
		args := []string{"convert", "-q", "-f", "raw", "-O", format}
		if options != "" {
			args = append(args, "-o", options)
		}
		run(tb, "qemu-img", append(args, ext4Image(tb), path)...)
	})
}

// isoImage is an ISO 9660 image made by xorriso from real files. xorriso is
// not yet among scripts/install-deps.sh's packages, so without it the ISO
// cases are skipped even under IMAGEOPS_REQUIRE_SERVICES=1.
func isoImage(tb testing.TB) string {
	tb.Helper()
	if _, err := exec.LookPath("xorriso"); err != nil {
		tb.Skipf("xorriso is not installed (apt-get install xorriso): %v", err)
	}
	return fixture(tb, "disk.iso", func(tb testing.TB, path string) {
		run(tb, "xorriso", "-as", "mkisofs", "-quiet", "-V", "FETCHTEST", "-o", path, "/usr/share/doc/e2fsprogs")
	})
}

func header(tb testing.TB, path string) []byte {
	tb.Helper()
	f, err := os.Open(path)
	require.NoError(tb, err)
	defer f.Close()
	b := make([]byte, FormatHeaderLen)
	n, _ := f.Read(b)
	return b[:n]
}

func TestDetectFormatOnQemuImgImages(t *testing.T) {
	cases := []struct{ qemuFormat, options, want string }{
		{"qcow2", "", FormatQCOW2},
		{"qcow2", "compat=0.10", FormatQCOW2},
		{"vmdk", "", FormatVMDK},
		{"vmdk", "subformat=streamOptimized", FormatVMDK},
		{"vhdx", "", FormatVHDX},
		{"vpc", "", FormatVHD},
		{"vpc", "subformat=fixed", FormatRaw}, // its only footer is at the end
		{"vdi", "", FormatVDI},
		{"raw", "", FormatRaw},
	}
	for _, tc := range cases {
		t.Run(tc.qemuFormat+" "+tc.options, func(t *testing.T) {
			assert.Equal(t, tc.want, DetectFormat(header(t, convertedImage(t, tc.qemuFormat, tc.options))))
		})
	}
	t.Run("iso", func(t *testing.T) {
		assert.Equal(t, FormatISO, DetectFormat(header(t, isoImage(t))))
	})
	t.Run("short or empty", func(t *testing.T) {
		assert.Equal(t, FormatRaw, DetectFormat(nil))
		assert.Equal(t, FormatQCOW2, DetectFormat([]byte("QFI\xfb")))
		assert.Equal(t, FormatRaw, DetectFormat([]byte("QFI")))
	})
}

func TestPeekFindsFormatInsideCompression(t *testing.T) {
	// A compressed qcow2, as some publishers ship: the format is detected on
	// the decompressed stream without a temporary file.
	qcow2 := convertedImage(t, "qcow2", "")
	for _, c := range []Compression{CompressionGzip, CompressionZstd, CompressionXZ} {
		t.Run(string(c), func(t *testing.T) {
			path := fixture(t, "disk.qcow2."+string(c), func(tb testing.TB, path string) { compressFile(tb, c, qcow2, path) })
			srv := serveFiles(t, map[string]string{"/image": path})
			src, err := Open(context.Background(), srv.URL+"/image", fast...)
			require.NoError(t, err)
			defer src.Close()
			head, err := src.Peek(FormatHeaderLen)
			require.NoError(t, err)
			assert.Equal(t, FormatQCOW2, DetectFormat(head))

			// The same stream, read without decompressing, is not a qcow2.
			raw, err := Open(context.Background(), srv.URL+"/image", opts(WithDecompress(DecompressNever))...)
			require.NoError(t, err)
			defer raw.Close()
			head, err = raw.Peek(FormatHeaderLen)
			require.NoError(t, err)
			assert.Equal(t, FormatRaw, DetectFormat(head))
		})
	}
	t.Run("iso served plain", func(t *testing.T) {
		src, err := Open(context.Background(), "file://"+filepath.Clean(isoImage(t)))
		require.NoError(t, err)
		defer src.Close()
		head, err := src.Peek(FormatHeaderLen)
		require.NoError(t, err)
		assert.Equal(t, FormatISO, DetectFormat(head))
	})
}
