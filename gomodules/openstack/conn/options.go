package conn

import (
	"time"

	"github.com/imageops/cloud/gomodules/ansible"
	"github.com/imageops/cloud/gomodules/openstack/glance"
)

// Options is the argument-spec fragment every OpenStack module adds to its own
// options with ansible.Spec.With. Its documentation is the doc fragment
// plugins/doc_fragments/openstack.py.
//
// interface has no default on purpose: an unset interface leaves the cloud's
// own (clouds.yaml, else OS_INTERFACE), which in turn defaults to public.
var Options = map[string]ansible.Option{
	"cloud":                       {Type: ansible.TypeStr},
	"auth":                        {Type: ansible.TypeDict, NoLog: true, SecretKeys: AuthSecretKeys},
	"auth_type":                   {Type: ansible.TypeStr},
	"region_name":                 {Type: ansible.TypeStr},
	"interface":                   {Type: ansible.TypeStr, Choices: []any{"public", "internal", "admin"}, Aliases: []string{"endpoint_type"}},
	"validate_certs":              {Type: ansible.TypeBool, Aliases: []string{"verify"}},
	"ca_cert":                     {Type: ansible.TypePath, Aliases: []string{"cacert"}},
	"image_endpoint_override":     {Type: ansible.TypeStr},
	"compute_endpoint_override":   {Type: ansible.TypeStr},
	"baremetal_endpoint_override": {Type: ansible.TypeStr},
	"api_retries":                 {Type: ansible.TypeInt, Default: glance.DefaultRetries},
	"api_retry_delay":             {Type: ansible.TypeFloat, Default: glance.DefaultRetryDelay.Seconds()},
	"upload_stale_after":          {Type: ansible.TypeInt, Default: int(glance.DefaultStaleAfter.Seconds())},
}

// OwnerOption is the owner option of the modules that act on one project's
// images (community_image, community_image_batch, image_deployer): a project
// name or ID, as openstack.cloud.image's owner; unset, the credentials'
// project (see Clients.GlanceOf). Like the connection options, a role gives
// it once for all.
var OwnerOption = map[string]ansible.Option{"owner": {Type: ansible.TypeStr}}

// AuthSecretKeys are the keys of an auth dict that hold secrets; they are
// masked in every result, while auth_url, username and project names stay
// readable so that errors can say which endpoint failed.
var AuthSecretKeys = []string{"password", "token", "application_credential_secret", "passcode", "totp",
	"client_secret", "access_token", "secret"}

// Config is the decoded form of Options; embed it in a module's options
// struct. Field tags are the option names.
type Config struct {
	// Cloud names a clouds.yaml entry; empty means $OS_CLOUD.
	Cloud string `json:"cloud"`
	// Auth is an inline auth dict (auth_url, username, password, project_name,
	// user_domain_name, project_domain_name, token, application_credential_id,
	// application_credential_secret, ...); its keys override the cloud's.
	Auth map[string]any `json:"auth"`
	// AuthType is the auth plugin; "none" skips Keystone.
	AuthType string `json:"auth_type"`
	// RegionName selects the region in the service catalog.
	RegionName string `json:"region_name"`
	// Interface is the endpoint interface: public, internal or admin; empty
	// means the cloud's interface, else public.
	Interface string `json:"interface"`
	// ValidateCerts, when set, overrides the cloud's TLS verification.
	ValidateCerts *bool `json:"validate_certs"`
	// CACert is a PEM bundle that signs the cloud's TLS certificates.
	CACert string `json:"ca_cert"`
	// ImageEndpointOverride is Glance's URL, used instead of the catalog's
	// (with or without its /v2 suffix).
	ImageEndpointOverride string `json:"image_endpoint_override"`
	// ComputeEndpointOverride is Nova's URL (with its /v2.1 suffix), used
	// instead of the catalog's.
	ComputeEndpointOverride string `json:"compute_endpoint_override"`
	// BaremetalEndpointOverride is Ironic's URL (without /v1), used instead
	// of the catalog's baremetal endpoint.
	BaremetalEndpointOverride string `json:"baremetal_endpoint_override"`
	// APIRetries is how many times a Glance call that failed with a 5xx or
	// 429, or without an answer, is tried again (glance.WithRetries).
	APIRetries *int `json:"api_retries"`
	// APIRetryDelay is the wait before the first retry, in seconds; it
	// doubles at each next one (glance.WithRetryDelay).
	APIRetryDelay *float64 `json:"api_retry_delay"`
	// UploadStaleAfter is how long, in seconds, an unfinished image of this
	// collection may show no progress before any run deletes it as a
	// leftover (glance.WithStaleAfter).
	UploadStaleAfter *int `json:"upload_stale_after"`
}

// GlanceOptions returns the Glance client options that cfg sets.
func (cfg Config) GlanceOptions() []glance.Option {
	var opts []glance.Option
	if cfg.APIRetries != nil {
		opts = append(opts, glance.WithRetries(*cfg.APIRetries))
	}
	if cfg.APIRetryDelay != nil {
		opts = append(opts, glance.WithRetryDelay(time.Duration(*cfg.APIRetryDelay*float64(time.Second))))
	}
	if cfg.UploadStaleAfter != nil {
		opts = append(opts, glance.WithStaleAfter(time.Duration(*cfg.UploadStaleAfter)*time.Second))
	}
	return opts
}
