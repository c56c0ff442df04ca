package registryaccess

import (
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// DefaultResponseTimeout is how long a request waits for the registry's
// response headers by default, once the request is sent. It bounds the wait
// on a registry that accepts connections but never answers, and leaves time
// for a registry to commit a large layer after its upload.
const DefaultResponseTimeout = 2 * time.Minute

// DefaultRetry is the default back-off for requests that fail with 408, 429,
// 5xx or a temporary network error: 4 tries, waiting 0.5 s, 1.5 s, 4.5 s.
var DefaultRetry = remote.Backoff{Duration: 500 * time.Millisecond, Factor: 3, Jitter: 0.1, Steps: 4}

// DefaultUserAgent is the User-Agent's product by default.
const DefaultUserAgent = "imageops.cloud"

// options is how to reach registries, resolved.
type options struct {
	keychain  authn.Keychain
	auth      map[string]authn.AuthConfig // normalized registry host -> credentials
	insecure  map[string]bool             // normalized registry host -> plain HTTP or unverified TLS allowed
	roots     *x509.CertPool              // nil: the system's roots
	retry     remote.Backoff
	timeout   time.Duration     // response header timeout
	transport http.RoundTripper // nil: a clone of remote.DefaultTransport
	userAgent string
}

// Option configures how registries are reached (New, Resolve); it rejects
// bad values with an error that names the value.
type Option func(*options) error

func makeOptions(opts []Option) (*options, error) {
	o := &options{
		keychain:  authn.DefaultKeychain,
		auth:      map[string]authn.AuthConfig{},
		insecure:  map[string]bool{},
		retry:     DefaultRetry,
		timeout:   DefaultResponseTimeout,
		userAgent: DefaultUserAgent,
	}
	for _, apply := range opts {
		if err := apply(o); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// WithKeychain sets where credentials come from for registries WithAuth does
// not name. Default authn.DefaultKeychain (the Docker config at
// $DOCKER_CONFIG/config.json or ~/.docker/config.json, and its credential helpers).
func WithKeychain(keychain authn.Keychain) Option {
	return func(o *options) error {
		o.keychain = keychain
		return nil
	}
}

// WithAuth sets the credentials for one registry ("host[:port]"; "docker.io"
// is Docker Hub): a username and password, or a registry token (sent as a
// Bearer token). Default: none, the keychain decides.
func WithAuth(registry string, cfg authn.AuthConfig) Option {
	return func(o *options) error {
		if registry == "" {
			return fmt.Errorf("registry credentials need a registry host, got an empty name")
		}
		hasBasic := cfg.Username != "" || cfg.Password != ""
		hasToken := cfg.RegistryToken != ""
		switch {
		case hasBasic && hasToken:
			return fmt.Errorf("credentials for registry %q: give username and password, or a token, not both", registry)
		case !hasBasic && !hasToken:
			return fmt.Errorf("credentials for registry %q: expected username and password, or a token", registry)
		case hasBasic && (cfg.Username == "" || cfg.Password == ""):
			return fmt.Errorf("credentials for registry %q: username and password must both be given", registry)
		}
		o.auth[normalizeHost(registry)] = cfg
		return nil
	}
}

// WithInsecure allows plain HTTP and unverified TLS for the given registries
// ("host[:port]"). Default: none; every registry must have a certificate
// trusted by the system or by WithCACert. (go-containerregistry itself falls
// back to plain HTTP for localhost and private addresses.)
func WithInsecure(registries ...string) Option {
	return func(o *options) error {
		for _, r := range registries {
			if strings.TrimSpace(r) == "" {
				return fmt.Errorf("insecure registry names must not be empty")
			}
			o.insecure[normalizeHost(r)] = true
		}
		return nil
	}
}

// WithCACert trusts the PEM certificates in file (a CA bundle) for every
// registry, besides the system's roots. Default: the system's roots only
// (which also honour SSL_CERT_FILE and SSL_CERT_DIR).
func WithCACert(file string) Option {
	return func(o *options) error {
		if file == "" {
			return nil
		}
		pem, err := os.ReadFile(file)
		if err != nil {
			return fmt.Errorf("reading the CA certificates %s: %w", file, err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("reading the CA certificates %s: no PEM certificate found in it", file)
		}
		o.roots = pool
		return nil
	}
}

// WithRetry sets the back-off for retried requests (Steps is the number of
// tries). Default DefaultRetry.
func WithRetry(backoff remote.Backoff) Option {
	return func(o *options) error {
		if backoff.Steps < 1 {
			return fmt.Errorf("retry steps must be at least 1, got %d", backoff.Steps)
		}
		o.retry = backoff
		return nil
	}
}

// WithResponseTimeout sets how long a request waits for the registry's
// response headers once it is sent (d > 0); a request that times out is
// retried as WithRetry says, then the image fails with reason network. It
// applies when the transport is an *http.Transport without its own
// ResponseHeaderTimeout. Default DefaultResponseTimeout (2 minutes).
func WithResponseTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("response timeout must be positive, got %s", d)
		}
		o.timeout = d
		return nil
	}
}

// WithTransport sets the HTTP transport below authentication and retries
// (for proxies or tests). WithInsecure and WithCACert then apply only when it
// is an *http.Transport. Default: a clone of remote.DefaultTransport.
func WithTransport(t http.RoundTripper) Option {
	return func(o *options) error {
		o.transport = t
		return nil
	}
}

// WithUserAgent sets the User-Agent's product. Default DefaultUserAgent ("imageops.cloud").
func WithUserAgent(ua string) Option {
	return func(o *options) error {
		o.userAgent = ua
		return nil
	}
}

// normalizeHost maps Docker Hub's aliases to "index.docker.io", the name
// go-containerregistry uses, and lowercases.
func normalizeHost(host string) string {
	host = strings.ToLower(strings.TrimSpace(host))
	host = strings.TrimPrefix(strings.TrimPrefix(host, "https://"), "http://")
	host, _, _ = strings.Cut(host, "/")
	switch host {
	case "docker.io", "registry-1.docker.io", "index.docker.io":
		return "index.docker.io"
	}
	return host
}
