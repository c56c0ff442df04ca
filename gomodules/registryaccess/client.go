package registryaccess

import (
	"crypto/tls"
	"net/http"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Client is how to reach registries, from Options: what go-containerregistry
// needs (remote and name options, the keychain) and the HTTP transport below
// them. It holds no connection itself; the transport does.
type Client struct {
	o *options
}

// New resolves opts; a bad option is an error that names the value.
func New(opts ...Option) (*Client, error) {
	o, err := makeOptions(opts)
	if err != nil {
		return nil, err
	}
	return &Client{o: o}, nil
}

// RemoteOptions are go-containerregistry's options over base (a transport
// built on Transport): a Puller and a Pusher made with the same base share
// tokens and connections.
func (c *Client) RemoteOptions(base http.RoundTripper) []remote.Option {
	return []remote.Option{
		remote.WithTransport(base),
		remote.WithAuthFromKeychain(c.Keychain()),
		remote.WithRetryBackoff(c.o.retry),
		remote.WithUserAgent(c.o.userAgent),
	}
}

// NameOptions are the name options for references on registry host: plain
// HTTP is allowed for insecure registries.
func (c *Client) NameOptions(host string) []name.Option {
	if c.o.insecure[normalizeHost(host)] {
		return []name.Option{name.Insecure}
	}
	return nil
}

// Keychain answers with WithAuth's credentials for their registries and asks
// WithKeychain's keychain for the others.
func (c *Client) Keychain() authn.Keychain {
	return staticKeychain{auth: c.o.auth, next: c.o.keychain}
}

// Retry is WithRetry's back-off.
func (c *Client) Retry() remote.Backoff { return c.o.retry }

// UserAgent is WithUserAgent's product.
func (c *Client) UserAgent() string { return c.o.userAgent }

// Transport is the HTTP transport with the response timeout and the trusted
// roots, routing insecure registries to a transport that does not verify
// certificates. Each call makes new clones of WithTransport's transport.
func (c *Client) Transport() http.RoundTripper {
	o := c.o
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
