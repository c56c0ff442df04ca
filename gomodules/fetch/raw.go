package fetch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"time"
)

// rawStream reads a source's bytes as they arrive and turns every failure
// into an error that says which source and what happened.
type rawStream struct {
	body    io.ReadCloser
	ctx     context.Context // the caller's
	cancel  context.CancelFunc
	wd      *watchdog // nil for files
	size    int64     // -1 when unknown
	display string
	cleanup func()
	err     error // the first read error, described
}

func (s *rawStream) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	if err := s.ctx.Err(); err != nil {
		s.err = fmt.Errorf("reading %q: %w", s.display, err)
		return 0, s.err
	}
	if s.wd != nil {
		s.wd.start()
	}
	n, err := s.body.Read(p)
	if s.wd != nil {
		s.wd.stop()
	}
	if err != nil && err != io.EOF {
		s.err = s.describe(err)
		err = s.err
	}
	return n, err
}

func (s *rawStream) describe(err error) error {
	switch {
	case s.wd != nil && s.wd.fired.Load():
		return fmt.Errorf("reading %q: no data received for %s: %w", s.display, s.wd.d, ErrIdleTimeout)
	case s.ctx.Err() != nil:
		return fmt.Errorf("reading %q: %w", s.display, s.ctx.Err())
	}
	return fmt.Errorf("reading %q: %w", s.display, stripURLErrors(err))
}

// transient reports whether the stream failed in a way a new attempt may not.
func (s *rawStream) transient() bool {
	return s.err != nil && s.ctx.Err() == nil && s.wd != nil
}

func (s *rawStream) Close() error {
	if s.wd != nil {
		s.wd.stop()
	}
	err := s.body.Close()
	if s.cancel != nil {
		s.cancel()
	}
	if s.cleanup != nil {
		s.cleanup()
	}
	return err
}

// watchdog cancels a request when the server sends nothing for d.
type watchdog struct {
	d      time.Duration
	cancel context.CancelFunc
	timer  *time.Timer
	fired  atomic.Bool
}

func newWatchdog(d time.Duration, cancel context.CancelFunc) *watchdog {
	w := &watchdog{d: d, cancel: cancel}
	w.timer = time.AfterFunc(d, func() {
		w.fired.Store(true)
		w.cancel()
	})
	w.timer.Stop()
	return w
}

func (w *watchdog) start() { w.timer.Reset(w.d) }
func (w *watchdog) stop()  { w.timer.Stop() }

// httpClient returns the client Open uses for http and https.
func (o *options) httpClient() (*http.Client, func()) {
	if o.client != nil {
		return o.client, func() {}
	}
	dialer := &net.Dialer{Timeout: o.connectTimeout, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         dialer.DialContext,
		TLSHandshakeTimeout: o.connectTimeout,
		TLSClientConfig: &tls.Config{
			InsecureSkipVerify: o.insecure, //nolint:gosec // validate_certs: false, asked for by the user
			RootCAs:            o.roots,
			MinVersion:         tls.VersionTLS12,
		},
		// The bytes must reach the checksum as the server stores them.
		DisableCompression: true,
		ForceAttemptHTTP2:  true,
		IdleConnTimeout:    90 * time.Second,
	}
	return &http.Client{Transport: tr}, tr.CloseIdleConnections
}

// openHTTP makes one GET request. transient says whether a failure may go
// away on another attempt.
func openHTTP(ctx context.Context, client *http.Client, cleanup func(), loc location, o *options) (s *rawStream, transient bool, err error) {
	actx, cancel := context.WithCancel(ctx)
	wd := newWatchdog(o.idleTimeout, cancel)
	req, err := http.NewRequestWithContext(actx, http.MethodGet, loc.httpURL.String(), nil)
	if err != nil {
		cancel()
		return nil, false, fmt.Errorf("fetching %q: %w", loc.display, stripURLErrors(err))
	}
	req.Header.Set("User-Agent", o.userAgent)
	// "identity" also keeps a caller's transport from undoing a
	// Content-Encoding: gzip behind the checksum's back.
	req.Header.Set("Accept-Encoding", "identity")

	wd.start()
	resp, err := client.Do(req)
	wd.stop()
	if err != nil {
		cancel()
		switch {
		case wd.fired.Load():
			return nil, true, fmt.Errorf("fetching %q: no answer for %s: %w", loc.display, o.idleTimeout, ErrIdleTimeout)
		case ctx.Err() != nil:
			return nil, false, fmt.Errorf("fetching %q: %w", loc.display, ctx.Err())
		}
		err = stripURLErrors(err)
		return nil, transientTransportError(err), fmt.Errorf("fetching %q: %w", loc.display, err)
	}
	if resp.StatusCode != http.StatusOK {
		// Read a little of an error body so the connection can be reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		cancel()
		se := &HTTPStatusError{URL: loc.display, StatusCode: resp.StatusCode}
		return nil, se.transient(), se
	}
	return &rawStream{
		body:    resp.Body,
		ctx:     ctx,
		cancel:  cancel,
		wd:      wd,
		size:    resp.ContentLength,
		display: loc.display,
		cleanup: cleanup,
	}, false, nil
}

// transientTransportError reports whether a transport error may go away:
// everything but certificate problems and names that do not exist.
func transientTransportError(err error) bool {
	var (
		unknownAuthority x509.UnknownAuthorityError
		invalidCert      x509.CertificateInvalidError
		hostname         x509.HostnameError
		verify           *tls.CertificateVerificationError
		dns              *net.DNSError
	)
	switch {
	case errors.As(err, &unknownAuthority), errors.As(err, &invalidCert),
		errors.As(err, &hostname), errors.As(err, &verify):
		return false
	case errors.As(err, &dns) && dns.IsNotFound:
		return false
	}
	return true
}

// openFile opens a local file.
func openFile(ctx context.Context, loc location) (*rawStream, error) {
	f, err := os.Open(loc.path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("opening %q: %w: %w", loc.display, ErrNotFound, err)
		}
		return nil, fmt.Errorf("opening %q: %w", loc.display, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("opening %q: %w", loc.display, err)
	}
	if fi.IsDir() {
		f.Close()
		return nil, fmt.Errorf("opening %q: is a directory; expected a file", loc.display)
	}
	size := int64(-1)
	if fi.Mode().IsRegular() {
		size = fi.Size()
	}
	return &rawStream{body: f, ctx: ctx, size: size, display: loc.display}, nil
}
