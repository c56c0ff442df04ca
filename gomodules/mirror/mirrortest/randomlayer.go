package mirrortest

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// RandomLayer is a layer of size bytes of pseudo-random content drawn from
// id: the same id and size give the same bytes, digest and diff ID, so that
// images built with a shared id share that layer, as images built on the
// same base do. Its blob is a real gzip-framed tar (one file, stored
// without compression, as random data does not compress), made on the fly:
// gigabytes of layers cost no memory and no disk.
type RandomLayer struct {
	id        string
	size      int64
	mediaType types.MediaType

	once    sync.Once
	digest  v1.Hash // of the blob
	diffID  v1.Hash // of the tar
	blobLen int64
	err     error
}

// NewRandomLayer returns the layer of size bytes drawn from id, with the
// given media type (a gzip layer type such as types.DockerLayer or
// types.OCILayer).
func NewRandomLayer(id string, size int64, mediaType types.MediaType) *RandomLayer {
	return &RandomLayer{id: id, size: size, mediaType: mediaType}
}

// Digest implements v1.Layer: the sha256 of the blob, computed on first use
// by generating the blob once.
func (l *RandomLayer) Digest() (v1.Hash, error) {
	l.measure()
	return l.digest, l.err
}

// DiffID implements v1.Layer: the sha256 of the uncompressed tar.
func (l *RandomLayer) DiffID() (v1.Hash, error) {
	l.measure()
	return l.diffID, l.err
}

// Size implements v1.Layer: the blob's length in bytes.
func (l *RandomLayer) Size() (int64, error) {
	l.measure()
	return l.blobLen, l.err
}

// MediaType implements v1.Layer.
func (l *RandomLayer) MediaType() (types.MediaType, error) { return l.mediaType, nil }

// Compressed implements v1.Layer: the blob, generated as it is read.
func (l *RandomLayer) Compressed() (io.ReadCloser, error) {
	return l.pipe(func(w io.Writer) error {
		zw, err := gzip.NewWriterLevel(w, gzip.NoCompression)
		if err != nil {
			return err
		}
		if err := l.writeTar(zw); err != nil {
			return err
		}
		return zw.Close()
	}), nil
}

// Uncompressed implements v1.Layer: the tar, generated as it is read.
func (l *RandomLayer) Uncompressed() (io.ReadCloser, error) {
	return l.pipe(l.writeTar), nil
}

// measure generates the blob once, hashing the tar and the blob in one pass.
func (l *RandomLayer) measure() {
	l.once.Do(func() {
		blobHash, tarHash := sha256.New(), sha256.New()
		counter := &countingWriter{w: blobHash}
		zw, err := gzip.NewWriterLevel(counter, gzip.NoCompression)
		if err != nil {
			l.err = err
			return
		}
		if err := l.writeTar(io.MultiWriter(zw, tarHash)); err != nil {
			l.err = fmt.Errorf("generating layer %s: %w", l.id, err)
			return
		}
		if err := zw.Close(); err != nil {
			l.err = err
			return
		}
		l.blobLen = counter.n
		l.digest = v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", blobHash.Sum(nil))}
		l.diffID = v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", tarHash.Sum(nil))}
	})
}

// writeTar writes a tar holding one file of l.size random bytes.
func (l *RandomLayer) writeTar(w io.Writer) error {
	tw := tar.NewWriter(w)
	hdr := &tar.Header{Name: "data/" + safeName(l.id), Mode: 0o644, Size: l.size, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	if _, err := io.CopyN(tw, randomStream(l.id), l.size); err != nil {
		return err
	}
	return tw.Close()
}

func (l *RandomLayer) pipe(write func(io.Writer) error) io.ReadCloser {
	r, w := io.Pipe()
	go func() { w.CloseWithError(write(w)) }()
	return r
}

// randomStream is an endless stream of bytes seeded by id.
func randomStream(id string) io.Reader {
	return rand.NewChaCha8(sha256.Sum256([]byte(id)))
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// safeName keeps the letters, digits, dots and dashes of id for a file name.
func safeName(id string) string {
	out := []byte(id)
	for i, c := range out {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			out[i] = '_'
		}
	}
	return string(out)
}
