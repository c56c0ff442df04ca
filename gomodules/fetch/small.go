package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// MaxChecksumFileSize bounds a checksum file Open reads: 4 MiB, far more than
// the SHA256SUMS of a release directory, far less than an image.
const MaxChecksumFileSize = 4 << 20

// ErrTooLarge is matched (errors.Is) by ReadSmall's error for a file longer
// than its limit, and by Read's (or Open's) for a source that holds, or
// decompresses to, more bytes than WithMaxSize allows.
var ErrTooLarge = errors.New("larger than expected")

// ReadSmall reads a whole small file (a checksum file, a JSON manifest) from
// an http, https or file URL or an absolute path, as it is stored: never
// decompressed, with Open's retries, timeouts and TLS options. A file longer
// than maxBytes is an error matching ErrTooLarge; errors name the URL
// redacted by RedactURL. Options that concern images (WithChecksums,
// WithDecompress, WithDiskFormat) are overridden.
func ReadSmall(ctx context.Context, url string, maxBytes int64, opts ...Option) ([]byte, error) {
	o, err := makeOptions(opts)
	if err != nil {
		return nil, err
	}
	return readSmall(ctx, url, maxBytes, o)
}

func readSmall(ctx context.Context, url string, maxBytes int64, o *options) ([]byte, error) {
	plain := *o
	plain.checksums, plain.decompress, plain.diskFormat = nil, DecompressNever, ""
	src, err := open(ctx, url, &plain)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	data, err := io.ReadAll(io.LimitReader(src, maxBytes+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > maxBytes {
		return nil, fmt.Errorf("reading %q: %w: more than %d bytes", src.URL(), ErrTooLarge, maxBytes)
	}
	return data, nil
}

// resolveChecksums reads the checksum files that sums name and returns sums
// with each one's digest for sourceURL's file name in place of its FileURL.
// A file is read once even when several checksums name it.
func resolveChecksums(ctx context.Context, sourceURL string, sums []Checksum, o *options) ([]Checksum, error) {
	out := make([]Checksum, len(sums))
	files := map[string]string{}
	for i, c := range sums {
		out[i] = c
		if c.FileURL == "" {
			continue
		}
		text, read := files[c.FileURL]
		if !read {
			data, err := readSmall(ctx, c.FileURL, MaxChecksumFileSize, o)
			if err != nil {
				return nil, fmt.Errorf("reading the checksum file of %q: %w", RedactURL(sourceURL), err)
			}
			text = string(data)
			files[c.FileURL] = text
		}
		digest, err := findInChecksumFile(text, c.Algorithm, sourceFileName(sourceURL), c.FileURL)
		if err != nil {
			return nil, err
		}
		out[i] = Checksum{Algorithm: c.Algorithm, Hex: digest}
	}
	return out, nil
}
