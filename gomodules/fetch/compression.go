package fetch

import (
	"bytes"
	"compress/bzip2"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// Compression names a compressed data format recognised by its magic bytes.
type Compression string

const (
	// CompressionNone is data that starts with no known compression magic.
	CompressionNone Compression = "none"
	// CompressionGzip is gzip, RFC 1952: 1f 8b, then method 08 (deflate).
	CompressionGzip Compression = "gzip"
	// CompressionBzip2 is bzip2: "BZh", a block size digit 1-9, then the
	// block magic 31 41 59 26 53 59 or the end-of-stream magic 17 72 45 38 50 90.
	CompressionBzip2 Compression = "bzip2"
	// CompressionXZ is xz (.xz file format 1.0.4, section 2.1.1.1): fd 37 7a 58 5a 00.
	CompressionXZ Compression = "xz"
	// CompressionZstd is a Zstandard frame, RFC 8878 section 3.1.1: 28 b5 2f fd.
	CompressionZstd Compression = "zstd"
)

// MagicLen is the number of leading bytes DetectCompression looks at.
const MagicLen = 10

var (
	magicGzip   = []byte{0x1f, 0x8b, 0x08}
	magicXZ     = []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}
	magicZstd   = []byte{0x28, 0xb5, 0x2f, 0xfd}
	bzip2Block  = []byte{0x31, 0x41, 0x59, 0x26, 0x53, 0x59}
	bzip2Empty  = []byte{0x17, 0x72, 0x45, 0x38, 0x50, 0x90}
	magicBzip2H = []byte("BZh")
)

// DetectCompression names the compression whose magic bytes start header, or
// CompressionNone. It needs the first MagicLen bytes of the stream (fewer
// only when the stream is shorter); file names are never consulted.
func DetectCompression(header []byte) Compression {
	switch {
	case bytes.HasPrefix(header, magicGzip):
		return CompressionGzip
	case bytes.HasPrefix(header, magicXZ):
		return CompressionXZ
	case bytes.HasPrefix(header, magicZstd):
		return CompressionZstd
	case len(header) >= 10 && bytes.HasPrefix(header, magicBzip2H) && header[3] >= '1' && header[3] <= '9' &&
		(bytes.Equal(header[4:10], bzip2Block) || bytes.Equal(header[4:10], bzip2Empty)):
		return CompressionBzip2
	}
	return CompressionNone
}

// newDecompressor returns a reader of r's data decompressed from c, and the
// function that releases it.
func newDecompressor(c Compression, r io.Reader) (io.Reader, func(), error) {
	switch c {
	case CompressionGzip:
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, nil, err
		}
		return zr, func() { zr.Close() }, nil
	case CompressionBzip2:
		return bzip2.NewReader(r), func() {}, nil
	case CompressionXZ:
		zr, err := xz.NewReader(r)
		if err != nil {
			return nil, nil, err
		}
		return zr, func() {}, nil
	case CompressionZstd:
		zr, err := zstd.NewReader(r)
		if err != nil {
			return nil, nil, err
		}
		return zr, zr.Close, nil
	}
	return nil, nil, fmt.Errorf("no decompressor for %q", c)
}
