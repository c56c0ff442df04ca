package fetch

import (
	"context"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readAll opens path with opts, reads it to its end and returns its digests.
func readAll(t *testing.T, path string, opts ...Option) Digests {
	t.Helper()
	src, err := Open(context.Background(), path, opts...)
	require.NoError(t, err)
	defer src.Close()
	_, err = io.Copy(io.Discard, src)
	require.NoError(t, err)
	d, complete := src.Digests()
	require.True(t, complete)
	return d
}

func TestWithHashesComputesOnlyWhatIsAskedAndWhatChecksumsNeed(t *testing.T) {
	path := ext4Image(t)
	data := readFile(t, path)

	d := readAll(t, path)
	assert.Equal(t, sha256Hex(data), d.RawSHA256, "both by default")
	assert.Equal(t, sha512Hex(data), d.RawSHA512)

	d = readAll(t, path, WithHashes())
	assert.Empty(t, d.RawSHA256, "none asked, no checksum")
	assert.Empty(t, d.RawSHA512)
	assert.Empty(t, d.SHA512)
	assert.Equal(t, int64(len(data)), d.RawSize, "the size is counted all the same")

	d = readAll(t, path, WithHashes(), WithChecksums(Checksum{Algorithm: SHA256, Hex: sha256Hex(data)}))
	assert.Equal(t, sha256Hex(data), d.RawSHA256, "the checksum's algorithm")
	assert.Empty(t, d.RawSHA512)

	d = readAll(t, path, WithHashes(SHA512))
	assert.Empty(t, d.RawSHA256)
	assert.Equal(t, sha512Hex(data), d.RawSHA512)
	assert.Equal(t, sha512Hex(data), d.SHA512, "not decompressed: the bytes read are the bytes downloaded")

	gz := compressedImage(t, CompressionGzip)
	d = readAll(t, gz, WithHashes(SHA512))
	assert.Equal(t, sha512Hex(readFile(t, gz)), d.RawSHA512)
	assert.Equal(t, sha512Hex(data), d.SHA512, "the decompressed bytes' SHA-512")
	d = readAll(t, gz, WithHashes(SHA256))
	assert.Empty(t, d.SHA512, "no SHA-512 of the decompressed bytes unless asked")
}

func TestWithHashesRefusesUnknownAlgorithms(t *testing.T) {
	_, err := Open(context.Background(), ext4Image(t), WithHashes("md5"))
	require.ErrorContains(t, err, `hash "md5"`)
}

func TestDropHashesLeavesOutWhatIsNoLongerNeeded(t *testing.T) {
	path := compressedImage(t, CompressionGzip)
	raw := readFile(t, path)
	src, err := Open(context.Background(), path, WithChecksums(Checksum{Algorithm: SHA256, Hex: sha256Hex(raw)}))
	require.NoError(t, err)
	defer src.Close()
	_, err = src.Peek(FormatHeaderLen) // what a caller reads before it knows what it needs
	require.NoError(t, err)
	src.DropHashes(SHA512, SHA256)
	_, err = io.Copy(io.Discard, src)
	require.NoError(t, err, "the checksum is still verified")
	d, _ := src.Digests()
	assert.Empty(t, d.RawSHA512, "dropped")
	assert.Empty(t, d.SHA512, "dropped for the decompressed bytes too")
	assert.Equal(t, sha256Hex(raw), d.RawSHA256, "a checksum's digest is never dropped")
}
