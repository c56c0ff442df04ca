package mirror

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// remoteOptions turns o into go-containerregistry's options over base (the
// run's httpTransport), shared by the Puller and the Pusher so that tokens
// and connections are reused.
func (o *options) remoteOptions(base http.RoundTripper) []remote.Option {
	return []remote.Option{
		remote.WithTransport(base),
		remote.WithAuthFromKeychain(staticKeychain{auth: o.auth, next: o.keychain}),
		remote.WithRetryBackoff(o.retry),
		remote.WithUserAgent(o.userAgent),
	}
}

// nameOptions are the name options for references on registry host: plain
// HTTP is allowed for insecure registries.
func (o *options) nameOptions(host string) []name.Option {
	if o.insecure[normalizeHost(host)] {
		return []name.Option{name.Insecure}
	}
	return nil
}

// httpTransport is the transport with the trusted roots, routing insecure
// registries to a transport that does not verify certificates, failing at
// once the requests to a host that could not be connected to before,
// answering the version check once per registry, and counting in stats the
// requests that reach the network.
func (o *options) httpTransport(stats *requestStats) http.RoundTripper {
	counted := counting{next: o.tlsTransport(), stats: stats}
	return newPingCache(&unreachable{next: counted, down: map[string]error{}})
}

func (o *options) tlsTransport() http.RoundTripper {
	base := o.transport
	if base == nil {
		base = remote.DefaultTransport
	}
	t, ok := base.(*http.Transport)
	if !ok {
		return base
	}
	if t.ResponseHeaderTimeout == 0 {
		t = t.Clone()
		t.ResponseHeaderTimeout = o.timeout
	}
	secure := t.Clone()
	if o.roots != nil {
		secure.TLSClientConfig = &tls.Config{RootCAs: o.roots, MinVersion: tls.VersionTLS12}
	}
	if len(o.insecure) == 0 {
		return secure
	}
	loose := t.Clone()
	loose.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // only for registries the user listed as insecure
	return hostRouter{secure: secure, insecure: loose, hosts: o.insecure}
}

// hostRouter sends requests for insecure hosts through the unverified transport.
type hostRouter struct {
	secure, insecure http.RoundTripper
	hosts            map[string]bool
}

func (h hostRouter) RoundTrip(req *http.Request) (*http.Response, error) {
	if h.hosts[normalizeHost(req.URL.Host)] {
		return h.insecure.RoundTrip(req)
	}
	return h.secure.RoundTrip(req)
}

// staticKeychain answers with the configured credentials for their
// registries and asks next for the others.
type staticKeychain struct {
	auth map[string]authn.AuthConfig
	next authn.Keychain
}

func (k staticKeychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	if cfg, ok := k.auth[normalizeHost(r.RegistryStr())]; ok {
		return authn.FromConfig(cfg), nil
	}
	if k.next == nil {
		return authn.Anonymous, nil
	}
	return k.next.Resolve(r)
}

// unreachable remembers, for one run, the hosts that could not be connected
// to (DNS failure, refused or timed-out connection) and fails later requests
// to them at once with the first error. Without it every image from a
// registry behind a firewall that drops packets would wait for its own
// connection timeout, and then again for the plain-HTTP fallback.
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
