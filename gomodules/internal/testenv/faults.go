package testenv

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
)

// Fault is what a FaultProxy does to one request.
type Fault int

// The faults a FaultProxy injects.
const (
	// Pass forwards the request and its answer.
	Pass Fault = iota
	// Fail answers 500 ("injected failure") without forwarding.
	Fail
	// LoseAnswer forwards the request, so that Glance does what it asks,
	// then closes the connection without an answer: a create or an upload
	// whose answer was lost.
	LoseAnswer
	// Reset closes the connection without forwarding (a connection reset).
	Reset
)

// FaultProxy is an HTTP reverse proxy in front of a real Glance that
// injects faults: Decide chooses one for each request, given the request,
// its body and its number (from 1).
type FaultProxy struct {
	target *url.URL
	proxy  *httputil.ReverseProxy
	decide func(r *http.Request, body []byte, n int) Fault

	mu       sync.Mutex
	n        int
	injected map[Fault]int
}

// NewFaultProxy returns a proxy to the Glance at target (its base URL).
func NewFaultProxy(target string, decide func(r *http.Request, body []byte, n int) Fault) (*FaultProxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	return &FaultProxy{target: u, proxy: httputil.NewSingleHostReverseProxy(u), decide: decide, injected: map[Fault]int{}}, nil
}

// SetTransport makes the proxy reach Glance through rt (a transport that
// trusts the cloud's CA, for a Glance behind TLS). Default:
// http.DefaultTransport.
func (p *FaultProxy) SetTransport(rt http.RoundTripper) { p.proxy.Transport = rt }

// HoldUntilTokenExpires holds the first request that match selects until
// the token it carries (X-Auth-Token) has expired, by the expiry Keystone
// gives for it (GET /v3/auth/tokens, the token validating itself), then
// passes it on: Glance's own authentication refuses it (401), as it refuses
// a request that reached it too late. The proxy has read the request's body
// by then, as a client streaming an upload has. keystone is Keystone's base
// URL (ending in /v3), client reaches it; logf says what was held.
func HoldUntilTokenExpires(client *http.Client, keystone string, match func(*http.Request) bool, logf func(string, ...any)) func(*http.Request, []byte, int) Fault {
	held := false
	return func(r *http.Request, _ []byte, _ int) Fault {
		if held || !match(r) {
			return Pass
		}
		held = true
		expires, err := tokenExpiry(client, keystone, r.Header.Get("X-Auth-Token"))
		if err != nil {
			logf("not holding %s %s: %v", r.Method, r.URL.Path, err)
			return Pass
		}
		wait := time.Until(expires) + time.Second
		logf("holding %s %s for %s, until its token has expired (%s)", r.Method, r.URL.Path, wait.Round(time.Millisecond), expires.Format(time.RFC3339))
		time.Sleep(wait)
		return Pass
	}
}

// tokenExpiry asks Keystone when token expires.
func tokenExpiry(client *http.Client, keystone, token string) (time.Time, error) {
	req, err := http.NewRequest(http.MethodGet, strings.TrimSuffix(keystone, "/")+"/auth/tokens", nil)
	if err != nil {
		return time.Time{}, err
	}
	req.Header.Set("X-Auth-Token", token)
	req.Header.Set("X-Subject-Token", token)
	resp, err := client.Do(req)
	if err != nil {
		return time.Time{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return time.Time{}, fmt.Errorf("validating the token: %s", resp.Status)
	}
	var body struct {
		Token struct {
			ExpiresAt time.Time `json:"expires_at"`
		} `json:"token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return time.Time{}, fmt.Errorf("reading the token's expiry: %w", err)
	}
	return body.Token.ExpiresAt, nil
}

// OneIn fails one request in nth, at random (from seed, so that a run can
// be repeated), cycling through Fail, LoseAnswer and Reset, so that a whole
// run meets every kind of fault. The first request always passes. Decide is
// called under the proxy's lock, so the generator needs none of its own.
func OneIn(nth int, seed uint64) func(*http.Request, []byte, int) Fault {
	random := rand.New(rand.NewPCG(seed, seed))
	failures := 0
	return func(_ *http.Request, _ []byte, n int) Fault {
		if n == 1 || random.IntN(nth) != 0 {
			return Pass
		}
		failures++
		return []Fault{Fail, LoseAnswer, Reset}[failures%3]
	}
}

// Injected returns how many faults of a kind were injected.
func (p *FaultProxy) Injected(f Fault) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.injected[f]
}

// ServeHTTP applies the fault Decide chooses.
func (p *FaultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	p.mu.Lock()
	p.n++
	fault := p.decide(r, body, p.n)
	p.injected[fault]++
	p.mu.Unlock()
	switch fault {
	case Fail:
		http.Error(w, "injected failure", http.StatusInternalServerError)
	case LoseAnswer:
		p.proxy.ServeHTTP(httptest.NewRecorder(), r)
		hangUp(w)
	case Reset:
		hangUp(w)
	default:
		p.proxy.ServeHTTP(w, r)
	}
}

// hangUp closes the client's connection without an answer.
func hangUp(w http.ResponseWriter) {
	if hijacker, ok := w.(http.Hijacker); ok {
		if conn, _, err := hijacker.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// FaultyGlance returns an image client that reaches glance through a
// FaultProxy on 127.0.0.1, and the proxy. The proxy stops when the test ends.
func FaultyGlance(t testing.TB, glance *gophercloud.ServiceClient, decide func(r *http.Request, body []byte, n int) Fault) (*gophercloud.ServiceClient, *FaultProxy) {
	t.Helper()
	proxy, err := NewFaultProxy(glance.Endpoint, decide)
	if err != nil {
		t.Fatalf("parsing the Glance endpoint %q: %v", glance.Endpoint, err)
	}
	server := httptest.NewServer(proxy)
	t.Cleanup(server.Close)
	base := server.URL + "/"
	return &gophercloud.ServiceClient{ProviderClient: glance.ProviderClient, Endpoint: base, ResourceBase: base + "v2/", Type: "image"}, proxy
}

// FailingGlance returns an image client that reaches glance through a
// proxy on 127.0.0.1 which answers 500 ("injected failure") to every request for
// which fail, given the request and its body, is true: a fault injected in
// front of the real Glance. The proxy stops when the test ends.
func FailingGlance(t testing.TB, glance *gophercloud.ServiceClient, fail func(r *http.Request, body []byte) bool) *gophercloud.ServiceClient {
	t.Helper()
	client, _ := FaultyGlance(t, glance, func(r *http.Request, body []byte, _ int) Fault {
		if fail(r, body) {
			return Fail
		}
		return Pass
	})
	return client
}

// CutOffServer serves data on 127.0.0.1 at any path, announcing all of it
// (Content-Length) but sending only its first n bytes before it drops the
// connection: a download that breaks midway. calls, when not nil, counts
// the requests. The server stops when the test ends.
func CutOffServer(t testing.TB, data []byte, n int, calls *atomic.Int32) *httptest.Server {
	t.Helper()
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if calls != nil {
			calls.Add(1)
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(data[:n])
		w.(http.Flusher).Flush()
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.Close()
		}
	}))
	t.Cleanup(server.Close)
	return server
}
