package mirror

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/imageops/cloud/gomodules/registryaccess"
)

// DefaultJobs is how many images are copied at the same time by default.
// Each copies up to 4 blobs at once, so 8 jobs keep up to 32 transfers in
// flight: enough to hide tens of milliseconds of latency per request, few
// enough for one registry.
const DefaultJobs = 8

// checksPerJob is how many images are checked (a HEAD at the source, one at
// the target) per copy slot: checks are small requests, and a run where
// nothing is to be copied is as fast as they are.
const checksPerJob = 4

// options is the resolved configuration of Mirror.
type options struct {
	jobs      int
	platforms []v1.Platform
	dryRun    bool
	access    []registryaccess.Option // how to reach registries, applied in order
	registry  *registryaccess.Client  // access resolved
}

// Option configures Mirror; it rejects bad values with an error that names
// the value.
type Option func(*options) error

func makeOptions(opts []Option) (*options, error) {
	o := &options{jobs: DefaultJobs}
	for _, apply := range opts {
		if err := apply(o); err != nil {
			return nil, err
		}
	}
	var err error
	if o.registry, err = registryaccess.New(o.access...); err != nil {
		return nil, err
	}
	return o, nil
}

// WithJobs sets how many images are copied at once (n >= 1); up to 4×n
// images have their digests checked at once. Default DefaultJobs (8).
func WithJobs(n int) Option {
	return func(o *options) error {
		if n < 1 {
			return fmt.Errorf("jobs must be at least 1, got %d", n)
		}
		o.jobs = n
		return nil
	}
}

// WithPlatforms restricts multi-platform images to the given platforms,
// each "os/arch[/variant]" such as "linux/amd64" or "linux/arm64/v8"; the
// target gets an index holding only those (so its digest differs from the
// source's). Single-platform images are copied as they are; an index pinned
// by digest that has other platforms too fails (ErrPinnedIndex). Default:
// every platform, and every digest preserved.
func WithPlatforms(platforms ...string) Option {
	return func(o *options) error {
		for _, text := range platforms {
			p, err := v1.ParsePlatform(text)
			if err != nil || p.OS == "" || p.Architecture == "" || strings.Count(text, "/") < 1 {
				return fmt.Errorf("platform %q: expected os/arch[/variant], such as linux/amd64", text)
			}
			o.platforms = append(o.platforms, *p)
		}
		return nil
	}
}

// WithAccess sets how registries are reached: registryaccess's options
// (credentials, TLS, retries, response timeout, transport), applied in order
// after those given before. Default: registryaccess's defaults.
func WithAccess(opts ...registryaccess.Option) Option {
	return func(o *options) error {
		o.access = append(o.access, opts...)
		return nil
	}
}

// WithAuth is WithAccess(registryaccess.WithAuth(registry, cfg)).
func WithAuth(registry string, cfg authn.AuthConfig) Option {
	return WithAccess(registryaccess.WithAuth(registry, cfg))
}

// WithInsecure is WithAccess(registryaccess.WithInsecure(registries...)).
func WithInsecure(registries ...string) Option {
	return WithAccess(registryaccess.WithInsecure(registries...))
}

// WithCACert is WithAccess(registryaccess.WithCACert(file)).
func WithCACert(file string) Option { return WithAccess(registryaccess.WithCACert(file)) }

// WithRetry is WithAccess(registryaccess.WithRetry(backoff)).
func WithRetry(backoff remote.Backoff) Option { return WithAccess(registryaccess.WithRetry(backoff)) }

// WithResponseTimeout is WithAccess(registryaccess.WithResponseTimeout(d)).
func WithResponseTimeout(d time.Duration) Option {
	return WithAccess(registryaccess.WithResponseTimeout(d))
}

// WithTransport is WithAccess(registryaccess.WithTransport(t)).
func WithTransport(t http.RoundTripper) Option { return WithAccess(registryaccess.WithTransport(t)) }

// WithDryRun makes Mirror only decide: it reads the source and target digests
// and reports as copied what it would copy, writing nothing. Default false.
func WithDryRun(dryRun bool) Option {
	return func(o *options) error {
		o.dryRun = dryRun
		return nil
	}
}
