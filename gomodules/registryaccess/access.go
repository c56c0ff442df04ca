package registryaccess

import (
	"fmt"
	"sort"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/imageops/cloud/gomodules/ansible"
)

// AccessOptions is the argument-spec fragment of the modules that talk to
// registries (mirror_images, image_manifest with pin_digests): credentials
// and TLS per registry. Access is its decoded form.
var AccessOptions = map[string]ansible.Option{
	"registry_auth":       {Type: ansible.TypeDict, NoLog: true, SecretKeys: []string{"password", "token"}},
	"insecure_registries": {Type: ansible.TypeList, Elements: ansible.TypeStr, Default: []any{}},
	"ca_cert":             {Type: ansible.TypePath, Aliases: []string{"cacert"}},
}

// Access is how to reach registries, as the modules' options give it.
type Access struct {
	// RegistryAuth maps a registry ("host[:port]", "docker.io" for Docker Hub)
	// to {username, password} or {token}. Values are secrets: they never
	// appear in errors.
	RegistryAuth map[string]any `json:"registry_auth"`
	// InsecureRegistries may be reached over plain HTTP or unverified TLS.
	InsecureRegistries []string `json:"insecure_registries"`
	// CACert is a PEM bundle trusted for every registry besides the system's roots.
	CACert string `json:"ca_cert"`
}

// Options turns a into Options. A registry_auth entry that is
// not a dict of username and password, or of token, is an error naming the
// registry and the key, never the value.
func (a Access) Options() ([]Option, error) {
	opts := []Option{WithInsecure(a.InsecureRegistries...), WithCACert(a.CACert)}
	hosts := make([]string, 0, len(a.RegistryAuth))
	for host := range a.RegistryAuth {
		hosts = append(hosts, host)
	}
	sort.Strings(hosts)
	for _, host := range hosts {
		entry, ok := a.RegistryAuth[host].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("registry_auth[%q]: expected a dict with username and password, or token", host)
		}
		var cfg authn.AuthConfig
		for key, value := range entry {
			text, ok := value.(string)
			if !ok {
				return nil, fmt.Errorf("registry_auth[%q].%s: expected a string", host, key)
			}
			switch key {
			case "username":
				cfg.Username = text
			case "password":
				cfg.Password = text
			case "token":
				cfg.RegistryToken = text
			default:
				return nil, fmt.Errorf("registry_auth[%q]: unknown key %q; expected username and password, or token", host, key)
			}
		}
		opts = append(opts, WithAuth(host, cfg))
	}
	return opts, nil
}
