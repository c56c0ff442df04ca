package conn

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	tokens3 "github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"
)

// The auth_type values (keystoneauth's plugin names) Connect understands.
const (
	authTypePassword      = "password"
	authTypeV3Password    = "v3password"
	authTypeToken         = "token"
	authTypeV3Token       = "v3token"
	authTypeAppCred       = "v3applicationcredential"
	authTypeAppCredLegacy = "applicationcredential"
)

// supportedAuthTypes is listed in the error for an unknown auth_type.
var supportedAuthTypes = []string{authTypePassword, authTypeV3Password, authTypeToken, authTypeV3Token,
	authTypeAppCred, authTypeAppCredLegacy, authTypeNone}

// ErrTokenNeedsProject is returned when auth_type is token and the auth has no
// project: a token is re-scoped to a project, so that it can be renewed and
// carries a service catalog.
var ErrTokenNeedsProject = errors.New("a token needs a project to be scoped to: add project_name (with project_domain_name or project_domain_id) or project_id to auth")

// applyAuthType keeps, of the credentials gathered from clouds.yaml and the
// auth option, only those of the auth plugin named by authType (keystoneauth
// does the same: the plugin reads only its own keys). Without this a password
// in clouds.yaml would win over a token given with auth_type: token.
func applyAuthType(authType string, auth *gophercloud.AuthOptions) error {
	switch strings.ToLower(authType) {
	case "":
		// openstacksdk's default plugin is password, yet a cloud without
		// auth_type and with only an application credential or a token works
		// there too (it guesses the plugin); gophercloud does the same guess.
		return nil
	case authTypePassword, authTypeV3Password:
		auth.TokenID = ""
		auth.ApplicationCredentialID, auth.ApplicationCredentialName, auth.ApplicationCredentialSecret = "", "", ""
		if auth.Password == "" {
			return fmt.Errorf("auth_type %s needs a password in auth", authType)
		}
	case authTypeToken, authTypeV3Token:
		auth.Username, auth.UserID, auth.Password = "", "", ""
		auth.ApplicationCredentialID, auth.ApplicationCredentialName, auth.ApplicationCredentialSecret = "", "", ""
		auth.DomainID, auth.DomainName = "", ""
		if auth.TokenID == "" {
			return fmt.Errorf("auth_type %s needs a token in auth", authType)
		}
		if auth.Scope == nil || (auth.Scope.ProjectID == "" && auth.Scope.ProjectName == "") {
			return ErrTokenNeedsProject
		}
	case authTypeAppCred, authTypeAppCredLegacy:
		auth.TokenID, auth.Password = "", ""
		// An application credential carries its own project: a scope is refused.
		auth.Scope, auth.TenantID, auth.TenantName = nil, "", ""
		if auth.ApplicationCredentialID == "" && auth.ApplicationCredentialName == "" {
			return fmt.Errorf("auth_type %s needs application_credential_id (or application_credential_name with username) in auth", authType)
		}
		if auth.ApplicationCredentialSecret == "" {
			return fmt.Errorf("auth_type %s needs application_credential_secret in auth", authType)
		}
	default:
		return fmt.Errorf("auth_type %q is not supported; use one of %s", authType, strings.Join(supportedAuthTypes, ", "))
	}
	return nil
}

// explainAuthError says why authenticating failed in words a user can act
// on: wrong credentials, Keystone not answering, a certificate not trusted.
func explainAuthError(err error) error {
	var unauthorized gophercloud.ErrUnexpectedResponseCode
	if errors.As(err, &unauthorized) {
		switch unauthorized.Actual {
		case http.StatusUnauthorized:
			return fmt.Errorf("Keystone refused the credentials (401 %s): check the user, password, token or application credential, and the project and domains: %w",
				ResponseText(unauthorized.Body), errSecretFree)
		case http.StatusNotFound:
			text := ResponseText(unauthorized.Body)
			if strings.Contains(strings.ToLower(text), "token") {
				return fmt.Errorf("Keystone does not accept the token (404 %s): it expired, was revoked or is not a token of this Keystone; get a new one: %w", text, errSecretFree)
			}
			return fmt.Errorf("Keystone answered 404 %s: check auth_url (it usually ends in /v3) and the project and domain names", text)
		}
	}
	var unknownAuthority x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verification *tls.CertificateVerificationError
	switch {
	case errors.As(err, &unknownAuthority), errors.As(err, &verification):
		return fmt.Errorf("the server's TLS certificate is not signed by a trusted CA (set ca_cert, or cacert in clouds.yaml, to the CA that signed it; validate_certs: false skips the check): %w", err)
	case errors.As(err, &hostname), errors.As(err, &invalid):
		return fmt.Errorf("the server's TLS certificate is not valid for it (validate_certs: false skips the check): %w", err)
	}
	var netErr net.Error
	var opErr *net.OpError
	if errors.As(err, &opErr) || errors.As(err, &netErr) {
		return fmt.Errorf("Keystone does not answer: %w", err)
	}
	return err
}

// errSecretFree ends the wrapped chain of a refused authentication: the
// gophercloud error there would repeat the request's URL only.
var errSecretFree = errors.New("authentication failed")

// endpointNotFound describes a missing endpoint: what was looked for and what
// the catalog offers for that service type.
func endpointNotFound(catalog *tokens3.ServiceCatalog, serviceType string, opts gophercloud.EndpointOpts) error {
	region := opts.Region
	if region == "" {
		region = "any region"
	} else {
		region = fmt.Sprintf("region %q", region)
	}
	var offers []string
	if catalog != nil {
		for _, entry := range catalog.Entries {
			if entry.Type != serviceType {
				continue
			}
			for _, endpoint := range entry.Endpoints {
				offers = append(offers, fmt.Sprintf("%s in %s (%s)", endpoint.Interface, firstSet(endpoint.Region, endpoint.RegionID), endpoint.URL))
			}
		}
	}
	sort.Strings(offers)
	offered := "the catalog has no " + serviceType + " service at all"
	if len(offers) > 0 {
		offered = "the catalog offers " + serviceType + " endpoints: " + strings.Join(offers, ", ")
	}
	return fmt.Errorf("no %s endpoint with interface %s in %s: %s (set region_name and interface to one of those, or image_endpoint_override)",
		serviceType, opts.Availability, region, offered)
}

// tokenInfo returns the project and the expiry of the provider's current token.
func tokenInfo(provider *gophercloud.ProviderClient) (project *tokens3.Project, expires time.Time, catalog *tokens3.ServiceCatalog) {
	type tokenResult interface {
		ExtractToken() (*tokens3.Token, error)
		ExtractProject() (*tokens3.Project, error)
		ExtractServiceCatalog() (*tokens3.ServiceCatalog, error)
	}
	result, ok := provider.GetAuthResult().(tokenResult)
	if !ok {
		return nil, time.Time{}, nil
	}
	if token, err := result.ExtractToken(); err == nil {
		expires = token.ExpiresAt
	}
	project, _ = result.ExtractProject()
	catalog, _ = result.ExtractServiceCatalog()
	return project, expires, catalog
}

// refreshMargin is how long before its expiry a token is renewed ahead of a
// request: a request with a body (an image upload) cannot be repeated after a
// 401, so it must start with a token that Glance still accepts.
const refreshMargin = 2 * time.Minute

// refreshingTransport renews the provider's token before a request when the
// token expires within the margin, and sends the request with the new
// token. gophercloud alone renews only after a 401, and then sends an upload
// body again that it has already read (the Glance layer's upload bodies
// refuse that with glance.ErrDataAlreadySent, and the upload starts afresh).
type refreshingTransport struct {
	base     http.RoundTripper
	provider *gophercloud.ProviderClient
	identity *url.URL // Keystone's URL: its requests are never held back

	mu       sync.Mutex
	token    string
	expires  time.Time
	lifetime time.Duration
}

// track records the provider's current token and its expiry.
func (t *refreshingTransport) track() {
	_, expires, _ := tokenInfo(t.provider)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.token, t.expires = t.provider.Token(), expires
	if !expires.IsZero() {
		t.lifetime = time.Until(expires)
	}
}

// margin is the refresh margin for a token of the given lifetime: a fifth of
// it, at most refreshMargin.
func (t *refreshingTransport) margin() time.Duration {
	if t.lifetime > 0 && t.lifetime/5 < refreshMargin {
		return t.lifetime / 5
	}
	return refreshMargin
}

func (t *refreshingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	sent := req.Header.Get("X-Auth-Token")
	if sent == "" || (t.identity != nil && req.URL.Host == t.identity.Host && strings.HasPrefix(req.URL.Path, t.identity.Path)) {
		return t.base.RoundTrip(req)
	}
	t.mu.Lock()
	changed := sent != t.token
	t.mu.Unlock()
	if changed { // renewed after a 401, or the first request: learn the new expiry
		t.track()
	}
	t.mu.Lock()
	stale := sent == t.token && !t.expires.IsZero() && time.Until(t.expires) < t.margin()
	t.mu.Unlock()
	if stale && t.provider.ReauthFunc != nil {
		if err := t.provider.Reauthenticate(req.Context(), sent); err != nil {
			return nil, fmt.Errorf("renewing the token before it expires: %w", err)
		}
		t.track()
		req = req.Clone(req.Context())
		req.Header.Set("X-Auth-Token", t.provider.Token())
	}
	return t.base.RoundTrip(req)
}
