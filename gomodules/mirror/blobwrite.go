package mirror

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"sync"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// blobWriters writes blobs to target repositories with fewer round trips
// than remote.Pusher.Upload, which sends, for every blob, a HEAD (does the
// repository have it?), a POST (start an upload, offering a mount), a PATCH
// (the bytes) and a PUT (commit): four requests, two of them for a blob the
// run knows it can mount. Here, following the distribution API
// (https://distribution.github.io/distribution/spec/api/):
//
//   - a blob this run already put in another repository of the registry is
//     mounted with one POST (?mount=&from=), without a HEAD first; a registry
//     that refuses the mount answers with an upload session, which the blob
//     is then uploaded into;
//   - a blob this run already put in the same repository costs nothing;
//   - any other blob of an image new to its tag is offered as a mount from
//     the target repository itself (one POST ?mount=&from=<repo>): a
//     registry that holds it there links it again and answers 201, else it
//     answers with an upload session (202), into which one monolithic PUT
//     (?digest=) carries the bytes and commits them. That is two requests for
//     a missing blob instead of a HEAD, a POST and a PUT. CNCF distribution
//     (Debian's docker-registry 2.8) honours it;
//   - a blob of an image that replaces another at its tag (most of its
//     layers are likely there already, and a registry that ignored the
//     self-mount would get their bytes again) costs a HEAD first, then the
//     POST and the PUT when it is missing.
//
// At Atmosphere's scale that is about a third fewer requests on a first
// run. Manifests still go through remote.Pusher. Each write is retried as a
// whole (a new upload session) on 408, 429, 5xx and passing network errors,
// with the run's back-off.
type blobWriters struct {
	base      http.RoundTripper // the run's transport: shared connections, version checks, counts
	keychain  authn.Keychain
	userAgent string
	retry     retryPolicy

	mu    sync.Mutex
	repos map[string]*repoWriter // repository name -> its writer
}

// retryPolicy is the back-off of retried writes: Steps tries, waiting
// Duration, then Factor times longer each time, plus up to Jitter of it.
type retryPolicy struct {
	Duration time.Duration
	Factor   float64
	Jitter   float64
	Steps    int
}

// repoWriter holds the authenticated client of one target repository, for
// pushing to it and pulling from the repositories it mounts from.
type repoWriter struct {
	repo   name.Repository
	parent *blobWriters
	auth   authn.Authenticator

	mu     sync.Mutex
	client *http.Client
	scopes []string
	scoped map[string]bool
}

func newBlobWriters(base http.RoundTripper, keychain authn.Keychain, userAgent string, retry retryPolicy) *blobWriters {
	return &blobWriters{base: transport.NewUserAgent(base, userAgent), keychain: keychain, userAgent: userAgent,
		retry: retry, repos: map[string]*repoWriter{}}
}

// writer returns repo's writer, made on first use.
func (b *blobWriters) writer(repo name.Repository) *repoWriter {
	b.mu.Lock()
	defer b.mu.Unlock()
	w, ok := b.repos[repo.Name()]
	if !ok {
		w = &repoWriter{repo: repo, parent: b}
		b.repos[repo.Name()] = w
	}
	return w
}

// clientFor returns the client of w, authorised to push to w.repo and, when
// from is not nil, to pull from it; a new scope costs a token fetch on a
// registry that hands out tokens (the version check is the run's).
func (w *repoWriter) clientFor(ctx context.Context, from *name.Repository) (*http.Client, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.auth == nil {
		auth, err := authn.Resolve(ctx, w.parent.keychain, w.repo)
		if err != nil {
			return nil, fmt.Errorf("finding the credentials for %s: %w", w.repo.RegistryStr(), err)
		}
		w.auth, w.scoped = auth, map[string]bool{}
		w.scopes = []string{w.repo.Scope(transport.PushScope)}
	}
	stale := w.client == nil
	if from != nil && from.Name() != w.repo.Name() {
		if scope := from.Scope(transport.PullScope); !w.scoped[scope] {
			w.scoped[scope] = true
			w.scopes = append(w.scopes, scope)
			stale = true
		}
	}
	if stale {
		t, err := transport.NewWithContext(ctx, w.repo.Registry, w.auth, w.parent.base, w.scopes)
		if err != nil {
			return nil, err
		}
		w.client = &http.Client{Transport: t}
	}
	return w.client, nil
}

// write puts blob l (digest h) in w.repo: mounted from from when it is not
// nil, else uploaded unless the repository has it, which is asked with a
// HEAD when probe is true and with a mount offer from w.repo itself when it
// is false.
func (w *repoWriter) write(ctx context.Context, l v1.Layer, h v1.Hash, from *name.Repository, probe bool) error {
	return w.parent.retry.do(ctx, func() error {
		client, err := w.clientFor(ctx, from)
		if err != nil {
			return err
		}
		var query url.Values
		switch {
		case from != nil:
			query = url.Values{"mount": {h.String()}, "from": {from.RepositoryStr()}}
		case probe:
			if present, err := w.has(ctx, client, h); err != nil || present {
				return err
			}
		default:
			query = url.Values{"mount": {h.String()}, "from": {w.repo.RepositoryStr()}}
		}
		location, mounted, err := w.start(ctx, client, query)
		if err != nil || mounted {
			return err
		}
		return w.put(ctx, client, location, l, h)
	})
}

func (w *repoWriter) url(path string) string {
	u := url.URL{Scheme: w.repo.Scheme(), Host: w.repo.RegistryStr(), Path: fmt.Sprintf("/v2/%s/%s", w.repo.RepositoryStr(), path)}
	return u.String()
}

// has asks whether the repository holds blob h (HEAD).
func (w *repoWriter) has(ctx context.Context, client *http.Client, h v1.Hash) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, w.url("blobs/"+h.String()), nil)
	if err != nil {
		return false, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	if err := transport.CheckError(resp, http.StatusOK, http.StatusNotFound); err != nil {
		return false, err
	}
	return resp.StatusCode == http.StatusOK, nil
}

// start opens an upload session (POST), with query's mount offer if any:
// mounted is true when the registry linked the blob (201), else location is
// where the bytes go (202).
func (w *repoWriter) start(ctx context.Context, client *http.Client, query url.Values) (location string, mounted bool, err error) {
	target := w.url("blobs/uploads/")
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, nil)
	if err != nil {
		return "", false, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", false, err
	}
	defer resp.Body.Close()
	if err := transport.CheckError(resp, http.StatusCreated, http.StatusAccepted); err != nil {
		return "", false, err
	}
	if resp.StatusCode == http.StatusCreated {
		return "", true, nil
	}
	loc, err := nextLocation(resp)
	return loc, false, err
}

// put sends the whole blob to the session at location and commits it, in
// one PUT ?digest= (a monolithic upload).
func (w *repoWriter) put(ctx context.Context, client *http.Client, location string, l v1.Layer, h v1.Hash) error {
	u, err := url.Parse(location)
	if err != nil {
		return fmt.Errorf("reading the upload location %q: %w", location, err)
	}
	query := u.Query()
	query.Set("digest", h.String())
	u.RawQuery = query.Encode()
	size, err := l.Size()
	if err != nil {
		return err
	}
	body, err := l.Compressed()
	if err != nil {
		return err
	}
	defer body.Close()
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u.String(), body)
	if err != nil {
		return err
	}
	req.ContentLength = size
	// A bearer token refreshed on a 401 resends the request: from a new read.
	req.GetBody = l.Compressed
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return transport.CheckError(resp, http.StatusCreated)
}

// nextLocation is the absolute URL of an upload session from resp's
// Location header (which may be a path, or carry a query). Like
// go-containerregistry, it refuses a redirection of the bytes to another
// host on a private or link-local address.
func nextLocation(resp *http.Response) (string, error) {
	loc := resp.Header.Get("Location")
	if loc == "" {
		return "", errors.New("starting a blob upload: the registry gave no Location")
	}
	u, err := url.Parse(loc)
	if err != nil {
		return "", fmt.Errorf("starting a blob upload: reading the Location %q: %w", loc, err)
	}
	resolved := resp.Request.URL.ResolveReference(u)
	if host := resolved.Hostname(); host != resp.Request.URL.Hostname() && isPrivateAddress(host) {
		return "", fmt.Errorf("starting a blob upload: the registry sends the bytes to the private address %s; refused", host)
	}
	return resolved.String(), nil
}

// isPrivateAddress tells whether host is an IP literal in a private,
// loopback or link-local range.
func isPrivateAddress(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && (ip.IsPrivate() || ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsUnspecified())
}

// do runs try until it succeeds, fails for good, ctx ends or the tries run out.
func (p retryPolicy) do(ctx context.Context, try func() error) error {
	wait := p.Duration
	for attempt := 1; ; attempt++ {
		err := try()
		if err == nil || attempt >= p.Steps || ctx.Err() != nil || !isPassing(err) {
			return err
		}
		pause := wait + time.Duration(rand.Float64()*p.Jitter*float64(wait))
		select {
		case <-time.After(pause):
		case <-ctx.Done():
			return err
		}
		wait = time.Duration(float64(wait) * p.Factor)
	}
}

// isPassing tells whether err may not happen again: 408, 429, 5xx, a
// connection reset or cut short, a timeout. A connection refused is not
// (the run's transport remembers the host as unreachable).
func isPassing(err error) bool {
	var terr *transport.Error
	if errors.As(err, &terr) {
		switch terr.StatusCode {
		case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
			http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return true
		}
		return false
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	var netErr net.Error
	return errors.As(err, &netErr) && netErr.Timeout()
}
