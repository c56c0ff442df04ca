package registryaccess

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
)

// FailFast wraps next for one run: it remembers the hosts that could not be
// connected to (DNS failure, refused or timed-out connection) and fails later
// requests to them at once with the first error. Without it every image from
// a registry behind a firewall that drops packets would wait for its own
// connection timeout, and then again for the plain-HTTP fallback.
func FailFast(next http.RoundTripper) http.RoundTripper {
	return &unreachable{next: next, down: map[string]error{}}
}

type unreachable struct {
	next http.RoundTripper
	mu   sync.Mutex
	down map[string]error // host[:port] -> why it could not be reached
}

func (u *unreachable) RoundTrip(req *http.Request) (*http.Response, error) {
	host := req.URL.Host
	u.mu.Lock()
	err, down := u.down[host]
	u.mu.Unlock()
	if down {
		return nil, err
	}
	resp, err := u.next.RoundTrip(req)
	if err != nil && req.Context().Err() == nil && isConnectFailure(err) {
		u.mu.Lock()
		if _, known := u.down[host]; !known {
			u.down[host] = fmt.Errorf("%s could not be reached earlier in this run: %w", host, err)
		}
		u.mu.Unlock()
	}
	return resp, err
}

// isConnectFailure tells whether err means no connection could be made.
func isConnectFailure(err error) bool {
	var opErr *net.OpError
	var dnsErr *net.DNSError
	return errors.As(err, &dnsErr) || (errors.As(err, &opErr) && opErr.Op == "dial")
}
