package conn

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/config/clouds"
	tokens3 "github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"
	"github.com/imageops/cloud/gomodules/openstack/baremetal"
	"github.com/imageops/cloud/gomodules/openstack/glance"
	"gopkg.in/yaml.v2"

	"github.com/imageops/cloud/gomodules/redact"
)

// defaultUserAgent is sent before gophercloud's own User-Agent.
const defaultUserAgent = "imageops.cloud"

// authTypeNone is openstacksdk's auth_type for services without Keystone.
const authTypeNone = "none"

// Clients is an authenticated connection to one cloud; Image and Compute
// return service clients for it.
type Clients struct {
	// Name says which cloud this is, for messages: `cloud "prod" (/etc/openstack/clouds.yaml)`.
	Name string

	provider        *gophercloud.ProviderClient
	endpointOpts    gophercloud.EndpointOpts
	imageOverride   string
	computeOverride string
	bareOverride    string
}

type options struct {
	secrets   func(string)
	userAgent string
}

// Option configures Connect.
type Option func(*options)

// WithSecretHandler calls handle with every secret Connect reads (passwords,
// tokens, application credential secrets), so that the caller can mask them
// in its output. Default: secrets are not reported.
func WithSecretHandler(handle func(secret string)) Option {
	return func(o *options) { o.secrets = handle }
}

// WithUserAgent prefixes the User-Agent of every request. Default "imageops.cloud".
func WithUserAgent(userAgent string) Option {
	return func(o *options) { o.userAgent = userAgent }
}

// settings is a Config resolved against clouds.yaml.
type settings struct {
	name            string
	authType        string
	auth            gophercloud.AuthOptions
	endpointOpts    gophercloud.EndpointOpts
	tlsConfig       *tls.Config
	imageOverride   string
	computeOverride string
	bareOverride    string
	// fileSecrets are the secrets of the cloud's clouds.yaml/secure.yaml
	// entry, including those inline auth overrides.
	fileSecrets []string
}

// Connect resolves cfg (see the package doc for the precedence) and, unless
// auth_type is none, authenticates against Keystone. Errors name the cloud
// and, for authentication, the Keystone URL.
func Connect(ctx context.Context, cfg Config, opts ...Option) (*Clients, error) {
	o := options{secrets: func(string) {}, userAgent: defaultUserAgent}
	for _, apply := range opts {
		apply(&o)
	}
	reportSecrets(cfg.Auth, o.secrets)
	s, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	secrets := append([]string{s.auth.Password, s.auth.TokenID, s.auth.ApplicationCredentialSecret}, s.fileSecrets...)
	for _, endpoint := range []string{s.auth.IdentityEndpoint, s.imageOverride, s.computeOverride, s.bareOverride} {
		secrets = append(secrets, redact.Secrets(endpoint)...)
	}
	for _, secret := range secrets {
		if secret != "" {
			o.secrets(secret)
		}
	}
	texts := &textErrorsTransport{base: transport(s.tlsConfig), cloud: s.name}
	httpClient := http.Client{Transport: texts}
	clients := &Clients{Name: s.name, endpointOpts: s.endpointOpts,
		imageOverride: s.imageOverride, computeOverride: s.computeOverride, bareOverride: s.bareOverride}
	if s.authType == authTypeNone {
		clients.provider = &gophercloud.ProviderClient{HTTPClient: httpClient}
		clients.provider.UserAgent.Prepend(o.userAgent)
		return clients, nil
	}
	if s.auth.IdentityEndpoint == "" {
		return nil, fmt.Errorf("connecting to %s: no auth_url is set (or use auth_type: none with image_endpoint_override for a cloud without Keystone)", s.name)
	}
	provider, err := openstack.NewClient(s.auth.IdentityEndpoint)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: auth_url %q: %w", s.name, redact.URL(s.auth.IdentityEndpoint), err)
	}
	texts.identity = provider.IdentityBase
	refresh := &refreshingTransport{base: texts, provider: provider}
	refresh.identity, _ = url.Parse(provider.IdentityBase)
	provider.HTTPClient = http.Client{Transport: refresh}
	provider.UserAgent.Prepend(o.userAgent)
	if err := openstack.Authenticate(ctx, provider, s.auth); err != nil {
		return nil, fmt.Errorf("authenticating to %s at %s: %w", s.name, redact.URL(s.auth.IdentityEndpoint), explainAuthError(err))
	}
	refresh.track()
	clients.provider = provider
	return clients, nil
}

// reportSecrets passes the secrets of an inline auth dict (AuthSecretKeys,
// and credentials written into auth_url) to handle.
func reportSecrets(auth map[string]any, handle func(string)) {
	for _, key := range AuthSecretKeys {
		if text, ok := auth[key].(string); ok && text != "" {
			handle(text)
		}
	}
	if authURL, ok := auth["auth_url"].(string); ok {
		for _, secret := range redact.Secrets(authURL) {
			handle(secret)
		}
	}
}

func transport(tlsConfig *tls.Config) http.RoundTripper {
	base := http.DefaultTransport.(*http.Transport).Clone()
	if tlsConfig != nil {
		base.TLSClientConfig = tlsConfig
	}
	return base
}

// resolve finds the cloud's settings: clouds.yaml through gophercloud, with
// inline auth and the module's options over it.
func (cfg Config) resolve() (settings, error) {
	name := cfg.Cloud
	if name == "" {
		name = os.Getenv("OS_CLOUD")
	}
	var s settings
	var raw rawCloud
	var source []clouds.ParseOption
	switch {
	case name != "":
		path, err := findCloudsYAML()
		if err != nil {
			return settings{}, fmt.Errorf("finding cloud %q: %w", name, err)
		}
		entry, entryRaw, err := readCloudEntry(path, name)
		if err != nil {
			return settings{}, err
		}
		raw, s.name = entryRaw, fmt.Sprintf("cloud %q (%s)", name, path)
		if auth, ok := entry["auth"].(map[string]any); ok {
			for _, key := range AuthSecretKeys {
				if value, ok := auth[key]; ok && value != nil {
					s.fileSecrets = append(s.fileSecrets, fmt.Sprint(value)) // YAML may read 123456 as an int
				}
			}
			if authURL, ok := auth["auth_url"].(string); ok {
				s.fileSecrets = append(s.fileSecrets, redact.Secrets(authURL)...)
			}
		}
		// clouds.Parse gets the entry we read (secure.yaml merged in, inline
		// auth over it) rather than reading the files again.
		source = inlineSource(name, mergeAuth(entry, cfg.Auth))
	case cfg.Auth != nil || cfg.AuthType == authTypeNone:
		s.name = "the cloud given by the module's options"
		source = inlineSource("inline", mergeAuth(map[string]any{}, cfg.Auth))
	default:
		return settings{}, fmt.Errorf("no cloud to connect to: give the cloud option, set OS_CLOUD, or give auth (or auth_type: none with image_endpoint_override)")
	}
	s.authType = firstSet(cfg.AuthType, raw.AuthType)
	s.imageOverride = firstSet(cfg.ImageEndpointOverride, raw.ImageEndpointOverride)
	s.computeOverride = firstSet(cfg.ComputeEndpointOverride, raw.ComputeEndpointOverride)
	s.bareOverride = firstSet(cfg.BaremetalEndpointOverride, raw.BaremetalEndpointOverride)
	auth, endpointOpts, tlsConfig, err := clouds.Parse(append(source, cfg.parseOverrides()...)...)
	if err != nil {
		return settings{}, fmt.Errorf("reading %s: %w", s.name, err)
	}
	s.auth, s.endpointOpts, s.tlsConfig = auth, endpointOpts, tlsConfig
	if err := s.normalizeAuthURL(); err != nil {
		return settings{}, err
	}
	if s.authType != authTypeNone {
		if err := applyAuthType(s.authType, &s.auth); err != nil {
			return settings{}, fmt.Errorf("reading %s: %w", s.name, err)
		}
	}
	s.auth.AllowReauth = true
	return s, nil
}

// normalizeAuthURL percent-encodes credentials written into auth_url
// (https://user:pa/ss@keystone/v3), which gophercloud would otherwise take
// for a host and a path, and records them, in both forms, as secrets.
func (s *settings) normalizeAuthURL() error {
	written := s.auth.IdentityEndpoint
	secrets := redact.Secrets(written)
	if len(secrets) == 0 {
		return nil
	}
	s.fileSecrets = append(s.fileSecrets, secrets...)
	u, err := redact.ParseURL(written)
	if err != nil {
		return fmt.Errorf("reading %s: auth_url %q is not a valid URL", s.name, redact.URL(written))
	}
	s.auth.IdentityEndpoint = u.String()
	s.fileSecrets = append(s.fileSecrets, redact.Secrets(s.auth.IdentityEndpoint)...)
	return nil
}

// parseOverrides turns the module's connection options into clouds.Parse options.
func (cfg Config) parseOverrides() []clouds.ParseOption {
	var out []clouds.ParseOption
	if cfg.RegionName != "" {
		out = append(out, clouds.WithRegion(cfg.RegionName))
	}
	if cfg.Interface != "" {
		out = append(out, clouds.WithEndpointType(cfg.Interface))
	}
	if cfg.ValidateCerts != nil {
		out = append(out, clouds.WithInsecure(!*cfg.ValidateCerts))
	}
	if cfg.CACert != "" {
		out = append(out, clouds.WithCACertPath(cfg.CACert))
	}
	return out
}

// inlineSource hands clouds.Parse a one-cloud clouds.yaml made from entry.
func inlineSource(name string, entry map[string]any) []clouds.ParseOption {
	document, _ := yaml.Marshal(map[string]any{"clouds": map[string]any{name: entry}})
	return []clouds.ParseOption{clouds.WithCloudName(name), clouds.WithCloudsYAML(bytes.NewReader(document))}
}

// mergeAuth returns entry with the inline auth keys set over its own auth. The
// result always has an auth mapping: clouds.Parse dereferences it, and a cloud
// with auth_type none usually has none.
func mergeAuth(entry map[string]any, inline map[string]any) map[string]any {
	merged := map[string]any{}
	for key, value := range entry {
		merged[key] = value
	}
	auth := map[string]any{}
	if existing, ok := entry["auth"].(map[string]any); ok {
		for key, value := range existing {
			auth[key] = value
		}
	}
	for key, value := range inline {
		auth[key] = value
	}
	merged["auth"] = auth
	return merged
}

func firstSet(values ...string) string {
	for _, value := range values {
		if value != "" {
			return value
		}
	}
	return ""
}

// Image returns a client for Glance's v2 API: at image_endpoint_override when
// set, else from the service catalog.
func (c *Clients) Image() (*gophercloud.ServiceClient, error) {
	return c.serviceClient(endpointKind{service: "image", option: "image_endpoint_override", override: c.imageOverride,
		version: "v2", fromCatalog: openstack.NewImageV2})
}

// Glance returns the Glance layer's client (see package glance) for the
// image endpoint that Image finds, scoped to the credentials' project
// (glance.WithProject): it looks up only that project's images unless opts
// name another owner (glance.WithOwner).
func (c *Clients) Glance(opts ...glance.Option) (*glance.Client, error) {
	image, err := c.Image()
	if err != nil {
		return nil, err
	}
	return glance.New(image, append([]glance.Option{glance.WithProject(c.ProjectID())}, opts...)...)
}

// Compute returns a client for Nova's v2.1 API: at compute_endpoint_override
// when set, else from the service catalog.
func (c *Clients) Compute() (*gophercloud.ServiceClient, error) {
	return c.serviceClient(endpointKind{service: "compute", option: "compute_endpoint_override", override: c.computeOverride,
		fromCatalog: openstack.NewComputeV2})
}

// Baremetal returns a client for Ironic's v1 API: at
// baremetal_endpoint_override when set (Ironic's root URL; a /v1 suffix is
// dropped), else the service catalog's baremetal endpoint. Its microversion
// is gophercloud's default; Ironic sets the baremetal layer's own.
func (c *Clients) Baremetal() (*gophercloud.ServiceClient, error) {
	return c.serviceClient(c.baremetalKind())
}

func (c *Clients) baremetalKind() endpointKind {
	return endpointKind{service: "baremetal", option: "baremetal_endpoint_override", override: c.bareOverride,
		version: "v1", fromCatalog: openstack.NewBareMetalV1}
}

// endpointKind says where a service's endpoint comes from.
type endpointKind struct {
	service string // the catalog's service type, for messages
	option  string // the override option's name, for messages
	// override is the option's value; "" means the catalog.
	override string
	// version is the API version path under the override's root ("v2"),
	// dropped from the override when given with it; "" keeps the override
	// as it is (Nova's URL includes its version).
	version     string
	fromCatalog func(*gophercloud.ProviderClient, gophercloud.EndpointOpts) (*gophercloud.ServiceClient, error)
}

// serviceClient returns the client of one service: at its override when
// set, else from the service catalog.
func (c *Clients) serviceClient(kind endpointKind) (*gophercloud.ServiceClient, error) {
	if kind.override != "" {
		root := strings.TrimSuffix(kind.override, "/")
		if kind.version == "" {
			return &gophercloud.ServiceClient{ProviderClient: c.provider, Endpoint: root + "/", Type: kind.service}, nil
		}
		root = strings.TrimSuffix(root, "/"+kind.version) + "/"
		return &gophercloud.ServiceClient{ProviderClient: c.provider, Endpoint: root, ResourceBase: root + kind.version + "/", Type: kind.service}, nil
	}
	if c.provider.EndpointLocator == nil {
		return nil, fmt.Errorf("finding the %s endpoint of %s: it uses auth_type none, so there is no service catalog: set %s to %s's URL",
			kind.service, c.Name, kind.option, serviceNames[kind.service])
	}
	client, err := kind.fromCatalog(c.provider, c.endpointOpts)
	if err != nil {
		return nil, fmt.Errorf("finding the %s endpoint of %s: %w", kind.service, c.Name, c.explainEndpointError(kind.service, err))
	}
	return client, nil
}

// serviceNames are the projects behind the service types, for messages.
var serviceNames = map[string]string{"image": "Glance", "compute": "Nova", "baremetal": "Ironic"}

// HasBaremetal tells whether the cloud has a baremetal endpoint: an
// override, or a baremetal service in the token's catalog. Modules that only
// consult Ironic when there is one (image_cleaner) ask this first.
func (c *Clients) HasBaremetal() bool {
	if c.bareOverride != "" {
		return true
	}
	if c.provider.EndpointLocator == nil {
		return false
	}
	_, err := c.baremetalKind().fromCatalog(c.provider, c.endpointOpts)
	return err == nil
}

// Ironic returns the baremetal layer's client (see package baremetal) for
// the endpoint that Baremetal finds.
func (c *Clients) Ironic(opts ...baremetal.Option) (*baremetal.Client, error) {
	sc, err := c.Baremetal()
	if err != nil {
		return nil, err
	}
	return baremetal.New(sc, opts...)
}

// explainEndpointError replaces gophercloud's "No suitable endpoint could be
// found in the service catalog." with what was looked for and what the
// catalog offers for the service type.
func (c *Clients) explainEndpointError(serviceType string, err error) error {
	var notFound *gophercloud.ErrEndpointNotFound
	if !errors.As(err, &notFound) {
		var plain gophercloud.ErrEndpointNotFound
		if !errors.As(err, &plain) {
			return err
		}
	}
	_, _, catalog := tokenInfo(c.provider)
	return endpointNotFound(catalog, serviceType, c.endpointOpts)
}

// ProjectID returns the ID of the project the credentials are scoped to (the
// token's project), or "" for auth_type none and for unscoped tokens. Images
// are looked up among that project's own images.
func (c *Clients) ProjectID() string {
	if project := c.Project(); project != nil {
		return project.ID
	}
	return ""
}

// Project returns the project the token is scoped to (ID, name, domain), or
// nil for auth_type none and for unscoped tokens.
func (c *Clients) Project() *tokens3.Project {
	if c.provider == nil {
		return nil
	}
	project, _, _ := tokenInfo(c.provider)
	return project
}

// Provider returns the authenticated gophercloud provider client, for
// service clients this package does not make (for instance identity).
func (c *Clients) Provider() *gophercloud.ProviderClient { return c.provider }
