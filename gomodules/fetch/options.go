package fetch

import (
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"slices"
	"time"
)

// Version is the collection's version, sent in the default User-Agent. It is
// kept equal to galaxy.yml's version (a test checks that it is).
const Version = "1.0.0"

const (
	// DefaultUserAgent is the User-Agent header sent unless WithUserAgent says
	// otherwise.
	DefaultUserAgent = "imageops.cloud/" + Version

	defaultRetries        = 3
	defaultRetryBackoff   = time.Second
	maxRetryBackoff       = 30 * time.Second
	defaultConnectTimeout = 30 * time.Second
	defaultIdleTimeout    = 60 * time.Second
)

// DecompressMode says when Open undoes compression.
type DecompressMode string

const (
	// DecompressAuto decompresses gzip, bzip2, xz and zstd streams, recognised
	// by their magic bytes, except for kernels and ramdisks (WithDiskFormat
	// "aki" or "ari"), which are passed on as they come.
	DecompressAuto DecompressMode = "auto"
	// DecompressAlways decompresses every stream, and fails Open on a stream
	// that starts with no known compression magic.
	DecompressAlways DecompressMode = "always"
	// DecompressNever passes every stream on as it comes.
	DecompressNever DecompressMode = "never"
)

// Option configures Open and Download. Options reject bad values when Open
// applies them, with an error naming the value.
type Option func(*options) error

type options struct {
	checksums      []Checksum
	decompress     DecompressMode
	diskFormat     string
	client         *http.Client
	insecure       bool
	caFile         string
	roots          *x509.CertPool
	userAgent      string
	connectTimeout time.Duration
	idleTimeout    time.Duration
	retries        int
	retryBackoff   time.Duration
	hashes         []Algorithm // nil: defaultHashes
	maxSize        int64       // 0: no bound

	// transportSet records options that configure our own transport, which
	// cannot be combined with WithHTTPClient.
	transportSet []string
}

func makeOptions(opts []Option) (*options, error) {
	o := &options{
		decompress:     DecompressAuto,
		userAgent:      DefaultUserAgent,
		connectTimeout: defaultConnectTimeout,
		idleTimeout:    defaultIdleTimeout,
		retries:        defaultRetries,
		retryBackoff:   defaultRetryBackoff,
	}
	for _, opt := range opts {
		if err := opt(o); err != nil {
			return nil, err
		}
	}
	if o.client != nil && len(o.transportSet) > 0 {
		return nil, fmt.Errorf("WithHTTPClient cannot be combined with %v: configure the client's transport instead", o.transportSet)
	}
	return o, nil
}

// WithChecksums adds digests the downloaded bytes (before decompression) must
// have; all of them are verified. Each must be a Checksum as ParseChecksum
// returns it. The default is none: nothing is verified, and digests are still
// computed.
func WithChecksums(sums ...Checksum) Option {
	return func(o *options) error {
		for _, c := range sums {
			if err := c.validate(); err != nil {
				return err
			}
		}
		o.checksums = append(o.checksums, sums...)
		return nil
	}
}

// defaultHashes are the digests computed unless WithHashes says otherwise.
var defaultHashes = []Algorithm{SHA256, SHA512}

// WithHashes sets the digests Open computes, so that a caller pays only for
// those it uses: with SHA256, Digests.RawSHA256; with SHA512,
// Digests.RawSHA512 and, for a decompressed stream, Digests.SHA512 of the
// bytes Read returns. The digests of WithChecksums' algorithms are computed
// whatever this says. A digest not computed is "" in Digests. The default is
// SHA256 and SHA512.
func WithHashes(algorithms ...Algorithm) Option {
	return func(o *options) error {
		for _, algorithm := range algorithms {
			if algorithm != SHA256 && algorithm != SHA512 {
				return fmt.Errorf("hash %q: expected %q or %q", algorithm, SHA256, SHA512)
			}
		}
		o.hashes = append([]Algorithm{}, algorithms...)
		return nil
	}
}

// rawHashes are the digests of the bytes as downloaded: those asked for and
// those the checksums need, each once.
func (o *options) rawHashes() []Algorithm {
	out := defaultHashes
	if o.hashes != nil {
		out = o.hashes
	}
	out = slices.Clone(out)
	for _, c := range o.checksums {
		if !slices.Contains(out, c.Algorithm) {
			out = append(out, c.Algorithm)
		}
	}
	return out
}

// outputHashes are the digests of decompressed bytes: SHA-512 unless
// WithHashes left it out.
func (o *options) outputHashes() []Algorithm {
	if o.hashes == nil || slices.Contains(o.hashes, SHA512) {
		return []Algorithm{SHA512}
	}
	return nil
}

// WithDecompress sets when streams are decompressed: DecompressAuto,
// DecompressAlways or DecompressNever. The default is DecompressAuto.
func WithDecompress(mode DecompressMode) Option {
	return func(o *options) error {
		switch mode {
		case DecompressAuto, DecompressAlways, DecompressNever:
			o.decompress = mode
			return nil
		}
		return fmt.Errorf("decompress %q: expected %q, %q or %q", string(mode), DecompressAuto, DecompressAlways, DecompressNever)
	}
}

// WithMaxSize bounds the bytes Read returns (after decompression): past n
// bytes, Read fails with an error matching ErrTooLarge, so that a
// decompression bomb or an endless stream ends instead of filling a disk.
// A source that is not decompressed and announces more than n bytes
// (Content-Length, a file's size) fails Open at once. n must be positive.
// The default is no bound.
func WithMaxSize(n int64) Option {
	return func(o *options) error {
		if n <= 0 {
			return fmt.Errorf("max size %d: expected a positive number of bytes", n)
		}
		o.maxSize = n
		return nil
	}
}

// WithDiskFormat gives the Glance disk_format the source is meant to have
// (source_disk_format). Only "aki" and "ari" change anything: a kernel or
// ramdisk is not decompressed in DecompressAuto mode. The default is "", an
// unknown format.
func WithDiskFormat(format string) Option {
	return func(o *options) error {
		o.diskFormat = format
		return nil
	}
}

// WithHTTPClient makes Open use c for http and https URLs, for example to go
// through a proxy or to reuse connections. The idle timeout still applies to
// the body; the connect timeout and the TLS options belong to c's transport
// and cannot be combined with it. The default is a client of Open's own,
// which honours HTTP_PROXY, HTTPS_PROXY and NO_PROXY.
func WithHTTPClient(c *http.Client) Option {
	return func(o *options) error {
		if c == nil {
			return fmt.Errorf("WithHTTPClient: the client is nil")
		}
		o.client = c
		return nil
	}
}

// WithInsecureSkipVerify turns off verification of https servers'
// certificates (validate_certs: false). The default is false: certificates
// are verified.
func WithInsecureSkipVerify(skip bool) Option {
	return func(o *options) error {
		o.insecure = skip
		o.transportSet = append(o.transportSet, "WithInsecureSkipVerify")
		return nil
	}
}

// WithCAFile adds the PEM certificates in the file at path to the system's
// trusted roots for https, for mirrors behind a private certificate
// authority. The file is read when the option is applied; an unreadable file
// or one without a PEM certificate is an error naming the path. The default
// is "": the system's roots only.
func WithCAFile(path string) Option {
	return func(o *options) error {
		pem, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("reading CA file %q: %w", path, err)
		}
		roots, err := x509.SystemCertPool()
		if err != nil || roots == nil {
			roots = x509.NewCertPool()
		}
		if !roots.AppendCertsFromPEM(pem) {
			return fmt.Errorf("CA file %q: no PEM certificate found; expected one or more \"-----BEGIN CERTIFICATE-----\" blocks", path)
		}
		o.caFile, o.roots = path, roots
		o.transportSet = append(o.transportSet, "WithCAFile")
		return nil
	}
}

// WithUserAgent sets the User-Agent header of http and https requests; it
// must not be empty. The default is DefaultUserAgent, "imageops.cloud/<Version>".
func WithUserAgent(ua string) Option {
	return func(o *options) error {
		if ua == "" {
			return fmt.Errorf("user agent %q: expected a non-empty string", ua)
		}
		o.userAgent = ua
		return nil
	}
}

// WithConnectTimeout bounds the time to open a TCP connection and to finish
// the TLS handshake, each; it must be positive. The default is 30s.
func WithConnectTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("connect timeout %s: expected a positive duration", d)
		}
		o.connectTimeout = d
		o.transportSet = append(o.transportSet, "WithConnectTimeout")
		return nil
	}
}

// WithIdleTimeout bounds how long the server may send nothing: from the
// request to the response headers, and then during each read of the body. A
// stalled download ends with an error matching ErrIdleTimeout instead of
// hanging. It must be positive. The default is 60s.
func WithIdleTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("idle timeout %s: expected a positive duration", d)
		}
		o.idleTimeout = d
		return nil
	}
}

// WithRetries sets how many times Open tries again after a transient failure
// (a connection error, a stall, or HTTP 5xx, 408 or 429) that happened before
// any byte was handed to the caller; 0 turns retries off, negative numbers
// are an error. The default is 3, so at most 4 attempts.
func WithRetries(n int) Option {
	return func(o *options) error {
		if n < 0 {
			return fmt.Errorf("retries %d: expected 0 or more", n)
		}
		o.retries = n
		return nil
	}
}

// WithRetryBackoff sets the wait before the first retry; each further retry
// waits twice as long as the one before, up to 30s. It must not be negative.
// The default is 1s (so 1s, 2s, 4s).
func WithRetryBackoff(d time.Duration) Option {
	return func(o *options) error {
		if d < 0 {
			return fmt.Errorf("retry backoff %s: expected 0 or a positive duration", d)
		}
		o.retryBackoff = d
		return nil
	}
}
