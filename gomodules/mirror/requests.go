package mirror

import (
	"bytes"
	"io"
	"maps"
	"math"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"time"

	"github.com/imageops/cloud/gomodules/registryaccess"
)

// The kinds of request Stats.Requests counts.
const (
	RequestPing          = "ping"          // GET /v2/: the version check before auth
	RequestToken         = "token"         // a token fetch from the registry's auth service
	RequestManifestHead  = "manifest HEAD" // a digest check
	RequestManifestGet   = "manifest GET"
	RequestManifestPut   = "manifest PUT"
	RequestBlobHead      = "blob HEAD" // an existence check before an upload
	RequestBlobGet       = "blob GET"  // a layer or config read
	RequestUpload        = "upload"    // POST, PATCH or PUT of a blob upload
	RequestMount         = "mount"     // a cross-repository mount the registry made
	RequestMountRefused  = "mount refused"
	RequestOther         = "other"
	maxPingBody          = 64 << 10
	protocolMismatchText = "server gave HTTP response to HTTPS client"
)

// requestStats counts the requests of one run by kind, the connections
// they opened and the protocols they were answered in.
type requestStats struct {
	mu          sync.Mutex
	kinds       map[string]int
	took        map[string]time.Duration
	protocols   map[string]int
	connections int
}

func newRequestStats() *requestStats {
	return &requestStats{kinds: map[string]int{}, took: map[string]time.Duration{}, protocols: map[string]int{}}
}

func (s *requestStats) add(kind string, resp *http.Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.kinds[kind]++
	if resp != nil {
		s.protocols[resp.Proto]++
	}
}

// spent adds d, one request's time, to its kind's.
func (s *requestStats) spent(kind string, d time.Duration) {
	s.mu.Lock()
	s.took[kind] += d
	s.mu.Unlock()
}

func (s *requestStats) connected() {
	s.mu.Lock()
	s.connections++
	s.mu.Unlock()
}

// stats returns the counts so far, with the run's seconds and jobs.
func (s *requestStats) stats(seconds float64, jobs int) Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	took := make(map[string]float64, len(s.took))
	for kind, d := range s.took {
		took[kind] = math.Round(d.Seconds()*1000) / 1000
	}
	return Stats{Seconds: seconds, Jobs: jobs, Requests: maps.Clone(s.kinds), RequestSeconds: took,
		Protocols: maps.Clone(s.protocols), Connections: s.connections}
}

// counting counts every request that reaches the network, and every
// connection opened for one (not reused from an earlier request), and times
// each from its sending to the end of its response's body.
type counting struct {
	next  http.RoundTripper
	stats *requestStats
}

func (c counting) RoundTrip(req *http.Request) (*http.Response, error) {
	trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
		if !info.Reused {
			c.stats.connected()
		}
	}}
	sent := time.Now()
	resp, err := c.next.RoundTrip(req.WithContext(httptrace.WithClientTrace(req.Context(), trace)))
	kind := requestKind(req, resp)
	c.stats.add(kind, resp)
	if err != nil || resp.Body == nil {
		c.stats.spent(kind, time.Since(sent))
		return resp, err
	}
	resp.Body = &timedBody{ReadCloser: resp.Body, done: func() { c.stats.spent(kind, time.Since(sent)) }}
	return resp, nil
}

// timedBody calls done once, when the body is closed.
type timedBody struct {
	io.ReadCloser
	once sync.Once
	done func()
}

func (b *timedBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.done)
	return err
}

// requestKind names what req was for, from its method and path
// (distribution's API: /v2/<name>/manifests/<ref>, /v2/<name>/blobs/...).
func requestKind(req *http.Request, resp *http.Response) string {
	path, query := req.URL.Path, req.URL.Query()
	switch {
	case path == "/v2/" || path == "/v2":
		return RequestPing
	case query.Has("scope") || query.Has("service") || (req.Method == http.MethodPost && !strings.Contains(path, "/blobs/")):
		return RequestToken
	case strings.Contains(path, "/manifests/"):
		switch req.Method {
		case http.MethodHead:
			return RequestManifestHead
		case http.MethodGet:
			return RequestManifestGet
		case http.MethodPut:
			return RequestManifestPut
		}
	case strings.Contains(path, "/blobs/uploads/") && query.Has("mount"):
		switch {
		case resp != nil && resp.StatusCode == http.StatusCreated:
			return RequestMount
		case query.Get("origin") != "" && query.Get("origin") != req.URL.Host:
			// go-containerregistry offers the source registry as the origin of
			// every layer it copies: the registry cannot mount from another
			// one, and this is an upload's start.
			return RequestUpload
		case "/v2/"+query.Get("from")+"/blobs/uploads/" == path:
			// A mount offered from the repository itself asks whether it
			// has the blob; it had not, and this is an upload's start.
			return RequestUpload
		}
		return RequestMountRefused
	case strings.Contains(path, "/blobs/uploads/"):
		return RequestUpload
	case strings.Contains(path, "/blobs/") && req.Method == http.MethodHead:
		return RequestBlobHead
	case strings.Contains(path, "/blobs/"):
		return RequestBlobGet
	}
	return RequestOther
}

// pingCache answers the version check (an anonymous GET /v2/) once per
// registry and scheme for the run. go-containerregistry sends it before the
// first request to every repository and again for every new mount scope;
// for a plain-HTTP registry it tries HTTPS first, so without the cache a
// mirror of 129 repositories pays hundreds of round trips for the same
// answer. Answers of 200 and 401 are kept; of the failures only the
// deterministic ones are (HTTPS to a plain-HTTP server, an untrusted
// certificate), so a passing network error or a 5xx is tried again.
type pingCache struct {
	next    http.RoundTripper
	mu      sync.Mutex
	answers map[string]*pingAnswer // scheme://host -> the first answer
}

type pingAnswer struct {
	ready  chan struct{}
	status int
	proto  string
	header http.Header
	body   []byte
	err    error
}

func newPingCache(next http.RoundTripper) *pingCache {
	return &pingCache{next: next, answers: map[string]*pingAnswer{}}
}

func (p *pingCache) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet || req.URL.Path != "/v2/" || req.Header.Get("Authorization") != "" {
		return p.next.RoundTrip(req)
	}
	key := req.URL.Scheme + "://" + req.URL.Host
	p.mu.Lock()
	answer, known := p.answers[key]
	if !known {
		answer = &pingAnswer{ready: make(chan struct{})}
		p.answers[key] = answer
	}
	p.mu.Unlock()
	if !known {
		p.ask(req, key, answer)
	}
	select {
	case <-answer.ready:
	case <-req.Context().Done():
		return nil, req.Context().Err()
	}
	if answer.err != nil {
		return nil, answer.err
	}
	return &http.Response{
		Status: http.StatusText(answer.status), StatusCode: answer.status, Proto: answer.proto,
		ProtoMajor: 1, ProtoMinor: 1, Header: answer.header.Clone(), Request: req,
		Body: io.NopCloser(bytes.NewReader(answer.body)), ContentLength: int64(len(answer.body)),
	}, nil
}

// ask sends the ping and keeps the answer, or forgets the entry when the
// failure might pass.
func (p *pingCache) ask(req *http.Request, key string, answer *pingAnswer) {
	defer close(answer.ready)
	resp, err := p.next.RoundTrip(req)
	if err == nil {
		defer resp.Body.Close()
		answer.body, err = io.ReadAll(io.LimitReader(resp.Body, maxPingBody))
		answer.status, answer.proto, answer.header = resp.StatusCode, resp.Proto, resp.Header
	}
	answer.err = err
	// Only the answers a client goes on with are kept: 200, or 401 with its
	// challenge. A 5xx is the registry's passing trouble, retried above.
	passing := err == nil && answer.status != http.StatusOK && answer.status != http.StatusUnauthorized
	if passing || (err != nil && !isLastingFailure(err)) {
		p.mu.Lock()
		delete(p.answers, key)
		p.mu.Unlock()
	}
}

// isLastingFailure tells whether err will be the same on the next try in
// this run: HTTPS to a plain-HTTP server, or a certificate not trusted.
func isLastingFailure(err error) bool {
	return registryaccess.IsTLSFailure(err) || strings.Contains(err.Error(), protocolMismatchText)
}
