package fetch

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"
	"sync"
	"time"
)

// MaxPeek is the most bytes Source.Peek returns: 64 KiB, enough for
// DetectFormat (FormatHeaderLen).
const MaxPeek = 64 << 10

// copyBufferSize is the chunk Source.WriteTo moves at a time.
const copyBufferSize = 1 << 20

// Digests are the digests of a source, complete once Read has returned io.EOF
// or a *ChecksumMismatchError. Digests are lowercase hex; one that was not
// computed (see WithHashes) is "".
type Digests struct {
	// RawSize is the number of bytes downloaded.
	RawSize int64
	// RawSHA256 and RawSHA512 are the SHA-256 and SHA-512 of the bytes
	// downloaded, what publishers' SHA256SUMS and SHA512SUMS files list.
	RawSHA256, RawSHA512 string
	// Size is the number of bytes Read returned: RawSize unless decompressed.
	Size int64
	// SHA512 is the SHA-512 of the bytes Read returned, RawSHA512 unless
	// decompressed. Uploaded as they are, these are the bytes whose digest
	// Glance stores as os_hash_value (os_hash_algo sha512, Glance's default).
	SHA512 string
}

// Source streams one source's bytes, decompressed as Open decided, and
// verifies its checksums as they pass. It is an io.ReadCloser (and an
// io.WriterTo); it is not safe for concurrent use: to abort a Read from
// another goroutine, cancel the context given to Open.
type Source struct {
	raw          *rawStream
	rawDigest    *digester
	rawBuf       *bufio.Reader
	outDigest    *digester // nil unless decompressed
	out          *bufio.Reader
	release      func()
	compression  Compression
	decompressed bool
	checksums    []Checksum
	// rawByAlgorithm holds every raw digest computed, once complete.
	rawByAlgorithm map[Algorithm]string
	maxSize        int64 // 0: no bound
	returned       int64 // bytes Read has returned

	err      error // sticky: what every further Read returns
	digests  Digests
	complete bool
	closed   bool
}

// Open starts reading the source at url: an http or https URL, a file URL
// (file:///path) or an absolute path. It returns once the source answered and
// its first bytes told its compression, so that errors such as 404 Not Found,
// a missing file or connection refused come from Open. Transient failures
// are retried (WithRetries) before Open returns, never after.
//
// Errors name the URL redacted by RedactURL: a *HTTPStatusError for an HTTP
// answer other than 200, ErrNotFound (errors.Is) for a missing file or a
// 404, ErrIdleTimeout for a stall, the context's error when ctx ends. The
// caller must Close the Source.
//
// Checksums given as a checksum file's URL are resolved first: the file is
// read and the digest it lists under the source's file name is verified.
func Open(ctx context.Context, url string, opts ...Option) (*Source, error) {
	o, err := makeOptions(opts)
	if err != nil {
		return nil, err
	}
	if o.checksums, err = resolveChecksums(ctx, url, o.checksums, o); err != nil {
		return nil, err
	}
	return open(ctx, url, o)
}

// open is Open with options made and checksums resolved.
func open(ctx context.Context, url string, o *options) (*Source, error) {
	loc, err := parseLocation(url)
	if err != nil {
		return nil, err
	}
	if loc.httpURL == nil {
		raw, err := openFile(ctx, loc)
		if err != nil {
			return nil, err
		}
		src, err := newSource(raw, o)
		if err != nil {
			raw.Close()
			return nil, err
		}
		return src, nil
	}

	client, cleanup := o.httpClient()
	backoff := o.retryBackoff
	for attempt := 1; ; attempt++ {
		raw, transient, err := openHTTP(ctx, client, cleanup, loc, o)
		if err == nil {
			var src *Source
			src, err = newSource(raw, o)
			if err == nil {
				return src, nil
			}
			transient = raw.transient()
			raw.cleanup = nil // keep the client for the next attempt
			raw.Close()
		}
		if !transient || attempt > o.retries {
			cleanup()
			if attempt > 1 {
				return nil, fmt.Errorf("%w (gave up after %d attempts)", err, attempt)
			}
			return nil, err
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			cleanup()
			return nil, fmt.Errorf("fetching %q: %w (while waiting to retry after: %v)", loc.display, ctx.Err(), err)
		case <-t.C:
		}
		backoff = min(2*backoff, maxRetryBackoff)
	}
}

// newSource reads the first bytes of raw and sets up decompression and
// digests.
func newSource(raw *rawStream, o *options) (_ *Source, err error) {
	s := &Source{raw: raw, checksums: o.checksums, maxSize: o.maxSize, release: func() {}}
	s.rawDigest = newDigester(raw, o.rawHashes()...)
	defer func() {
		if err != nil {
			s.rawDigest.close()
		}
	}()
	s.rawBuf = bufio.NewReaderSize(s.rawDigest, MaxPeek)
	magic, err := s.rawBuf.Peek(MagicLen)
	if err != nil && err != io.EOF {
		return nil, s.readErr(err)
	}
	s.compression = DetectCompression(magic)

	switch o.decompress {
	case DecompressAlways:
		if s.compression == CompressionNone {
			// Its first bytes are not shown: a source's content is never quoted.
			what := "it is empty"
			if len(magic) > 0 {
				what = "it starts with none of their magic numbers"
			}
			return nil, fmt.Errorf("decompress %q: %q is not gzip, bzip2, xz or zstd data (%s); expected one of those, or decompress %q",
				DecompressAlways, raw.display, what, DecompressAuto)
		}
		s.decompressed = true
	case DecompressAuto:
		s.decompressed = s.compression != CompressionNone && o.diskFormat != "aki" && o.diskFormat != "ari"
	}
	if !s.decompressed {
		if o.maxSize > 0 && raw.size > o.maxSize {
			return nil, s.tooLarge(fmt.Sprintf("it is %d bytes", raw.size))
		}
		s.out = s.rawBuf
		return s, nil
	}
	dec, release, err := newDecompressor(s.compression, s.rawBuf)
	if err != nil {
		if raw.err != nil {
			return nil, raw.err
		}
		return nil, fmt.Errorf("decompressing %s data from %q: %w", s.compression, raw.display, err)
	}
	s.release = release
	s.outDigest = newDigester(dec, o.outputHashes()...)
	s.out = bufio.NewReaderSize(s.outDigest, MaxPeek)
	return s, nil
}

// URL returns the source's URL as given to Open, redacted by RedactURL.
func (s *Source) URL() string { return s.raw.display }

// Size returns the number of bytes to download, from Content-Length or the
// file's size, or -1 when unknown. It counts the bytes before decompression.
func (s *Source) Size() int64 { return s.raw.size }

// Compression returns the compression the source's first bytes show, whether
// or not it is undone (see Decompressed).
func (s *Source) Compression() Compression { return s.compression }

// Decompressed reports whether Read returns decompressed bytes.
func (s *Source) Decompressed() bool { return s.decompressed }

// Peek returns the next n bytes Read would return, without consuming them,
// for example the first FormatHeaderLen bytes for DetectFormat before
// anything is read. n must be at most MaxPeek. Fewer bytes come back, with a
// nil error, only when the stream ends sooner. The peeked bytes are not yet
// verified: a checksum mismatch is reported by Read at the end.
func (s *Source) Peek(n int) ([]byte, error) {
	if n < 0 || n > MaxPeek {
		return nil, fmt.Errorf("peeking %d bytes of %q: expected 0 to %d", n, s.raw.display, MaxPeek)
	}
	if s.err != nil && s.err != io.EOF {
		return nil, s.err
	}
	b, err := s.out.Peek(n)
	if err != nil && err != io.EOF {
		return b, s.readErr(err)
	}
	return b, nil
}

// Read reads decompressed (or raw) bytes. At the end of the source it
// returns io.EOF only if every checksum matched; otherwise a
// *ChecksumMismatchError (errors.Is ErrChecksumMismatch). Errors while
// reading name the URL; after an error every Read returns the same error.
func (s *Source) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	if s.closed {
		return 0, fmt.Errorf("reading %q: %w", s.raw.display, errSourceClosed)
	}
	if s.maxSize > 0 && int64(len(p)) > s.maxSize-s.returned+1 {
		// Read at most one byte past the bound: enough to know it is passed.
		p = p[:s.maxSize-s.returned+1]
	}
	n, err := s.out.Read(p)
	s.returned += int64(n)
	if s.maxSize > 0 && s.returned > s.maxSize {
		s.err = s.tooLarge("it goes on past that")
		return 0, s.err
	}
	if err == nil {
		return n, nil
	}
	if err == io.EOF {
		err = s.finish()
		if err == nil {
			err = io.EOF
		}
	} else {
		err = s.readErr(err)
	}
	s.err = err
	if n > 0 {
		return n, nil
	}
	return 0, err
}

var errSourceClosed = errors.New("source is closed")

// WriteTo copies the rest of the stream to w, 1 MiB at a time, and returns
// the number of bytes written. Like Read, it fails on a checksum mismatch;
// w has then received every byte, so the caller must discard what it wrote.
func (s *Source) WriteTo(w io.Writer) (int64, error) {
	buf := make([]byte, copyBufferSize)
	var written int64
	for {
		n, err := s.Read(buf)
		if n > 0 {
			m, werr := w.Write(buf[:n])
			written += int64(m)
			if werr != nil {
				return written, werr
			}
			if m != n {
				return written, io.ErrShortWrite
			}
		}
		if err == io.EOF {
			return written, nil
		}
		if err != nil {
			return written, err
		}
	}
}

// DropHashes stops computing the digests of algorithms that WithHashes
// asked for and that turn out not to be needed, such as the SHA-512 of a
// source that is converted rather than uploaded as it comes: Digests then
// reports them as "". The digests of the checksums' algorithms are never
// dropped. Call it before the stream is read to its end.
func (s *Source) DropHashes(algorithms ...Algorithm) {
	for _, algorithm := range algorithms {
		if slices.ContainsFunc(s.checksums, func(c Checksum) bool { return c.Algorithm == algorithm }) {
			continue
		}
		s.rawDigest.drop(algorithm)
		if s.outDigest != nil {
			s.outDigest.drop(algorithm)
		}
	}
}

// Digests returns the digests of the whole source, and false until the
// stream has been read to its end (see Digests).
func (s *Source) Digests() (Digests, bool) { return s.digests, s.complete }

// Close releases the connection or file and the decompressor. It is safe to
// call more than once; reads after Close fail.
func (s *Source) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	s.release()
	err := s.raw.Close()
	s.rawDigest.close()
	if s.outDigest != nil {
		s.outDigest.close()
	}
	return err
}

// tooLarge is the error of a source past WithMaxSize's bound; how says what
// showed it.
func (s *Source) tooLarge(how string) error {
	what := "holds"
	if s.decompressed {
		what = fmt.Sprintf("decompresses (%s) to", s.compression)
	}
	return fmt.Errorf("reading %q: it %s more than the %d bytes allowed (%s): %w", s.raw.display, what, s.maxSize, how, ErrTooLarge)
}

// readErr describes an error from the output reader: the raw stream's own
// description when the bytes stopped coming, else a decompression error.
func (s *Source) readErr(err error) error {
	if s.raw.err != nil {
		return s.raw.err
	}
	if s.decompressed {
		return fmt.Errorf("decompressing %s data from %q: %w", s.compression, s.raw.display, err)
	}
	return fmt.Errorf("reading %q: %w", s.raw.display, err)
}

// finish runs at the end of the output: it reads what the decompressor left
// of the raw stream, so that the digests cover every byte downloaded, and
// compares them with the checksums.
func (s *Source) finish() error {
	if s.decompressed {
		if _, err := io.Copy(io.Discard, s.rawBuf); err != nil {
			return s.readErr(err)
		}
	}
	s.rawByAlgorithm = s.rawDigest.sums()
	s.digests = Digests{
		RawSize:   s.rawDigest.n,
		RawSHA256: s.rawByAlgorithm[SHA256],
		RawSHA512: s.rawByAlgorithm[SHA512],
		Size:      s.rawDigest.n,
		SHA512:    s.rawByAlgorithm[SHA512],
	}
	if s.outDigest != nil {
		s.digests.Size = s.outDigest.n
		s.digests.SHA512 = s.outDigest.sums()[SHA512]
	}
	s.complete = true
	for _, c := range s.checksums {
		if actual := s.rawByAlgorithm[c.Algorithm]; actual != c.Hex {
			return &ChecksumMismatchError{URL: s.raw.display, Algorithm: c.Algorithm, Expected: c.Hex, Actual: actual}
		}
	}
	return nil
}

// hashChunk is how many bytes digester gathers before handing them to the
// hashing goroutines: decompressors return 32 KiB or less per Read, and
// waking the hashers that often costs more than the copy.
const hashChunk = 256 << 10

// digester counts and hashes the bytes read through it. Each hash runs on
// its own goroutine over a copy of the bytes read, while the next bytes are
// read and decompressed: with SHA-256 and SHA-512 both needed, hashing in
// line would cap throughput at their combined speed. Two buffers of
// hashChunk bytes take turns: one filled by Read, one being hashed.
type digester struct {
	r          io.Reader
	algorithms []Algorithm
	hashes     []hash.Hash
	n          int64
	work       []chan []byte
	dropped    []bool         // per hash: no longer computed (drop)
	active     int            // hashes still computed: none, no copy of what is read
	pending    sync.WaitGroup // the hashers working on spare
	fill       []byte         // gathering bytes for the next hand-over
	spare      []byte         // being hashed, or free once pending is done
	closed     bool
}

func newDigester(r io.Reader, algorithms ...Algorithm) *digester {
	hashes := make([]hash.Hash, len(algorithms))
	for i, algorithm := range algorithms {
		hashes[i] = algorithm.newHash()
	}
	d := &digester{
		r: r, algorithms: algorithms, hashes: hashes, work: make([]chan []byte, len(hashes)), dropped: make([]bool, len(hashes)),
		fill: make([]byte, 0, hashChunk), spare: make([]byte, 0, hashChunk), active: len(hashes),
	}
	for i, h := range hashes {
		ch := make(chan []byte)
		d.work[i] = ch
		go func() {
			for b := range ch {
				h.Write(b)
				d.pending.Done()
			}
		}()
	}
	return d
}

func (d *digester) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	d.n += int64(n)
	if d.active == 0 {
		return n, err
	}
	for data := p[:n]; len(data) > 0; {
		k := copy(d.fill[len(d.fill):cap(d.fill)], data)
		d.fill = d.fill[:len(d.fill)+k]
		data = data[k:]
		if len(d.fill) == cap(d.fill) {
			d.flush()
		}
	}
	return n, err
}

// flush hands the gathered bytes to the hashers once they are done with the
// previous hand-over.
func (d *digester) flush() {
	d.pending.Wait()
	for i, ch := range d.work {
		if !d.dropped[i] {
			d.pending.Add(1)
			ch <- d.fill
		}
	}
	d.fill, d.spare = d.spare[:0], d.fill
}

// drop stops computing the digest of algorithm, if it was: sums leaves it out.
func (d *digester) drop(algorithm Algorithm) {
	for i, a := range d.algorithms {
		if a == algorithm && !d.dropped[i] {
			d.dropped[i] = true
			d.active--
		}
	}
}

// sums waits for the hashing of what was read and returns the digests in
// lowercase hex, by algorithm.
func (d *digester) sums() map[Algorithm]string {
	if len(d.fill) > 0 {
		d.flush()
	}
	d.pending.Wait()
	out := make(map[Algorithm]string, len(d.hashes))
	for i, h := range d.hashes {
		if !d.dropped[i] {
			out[d.algorithms[i]] = hex.EncodeToString(h.Sum(nil))
		}
	}
	return out
}

// close ends the hashing goroutines; sums must not be called after it.
func (d *digester) close() {
	if d.closed {
		return
	}
	d.closed = true
	d.pending.Wait()
	for _, ch := range d.work {
		close(ch)
	}
}
