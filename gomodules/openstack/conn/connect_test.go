package conn

import (
	"context"
	"encoding/pem"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/imageops/cloud/gomodules/ansible"
)

func TestAuthTypeNoneUsesTheImageEndpointWithoutKeystone(t *testing.T) {
	for _, suffix := range []string{"", "/", "/v2", "/v2/"} {
		t.Run("override"+suffix, func(t *testing.T) {
			work := isolate(t)
			glance := newGlanceStub(t, false)
			keystone := newStubKeystone(t)
			// An auth_url is present, yet auth_type none must not use it.
			writeFile(t, filepath.Join(work, "clouds.yaml"), fmt.Sprintf(`clouds:
  standalone:
    auth_type: none
    auth:
      auth_url: %s/v3
    image_endpoint_override: %s%s
`, keystone.URL(), glance.URL(), suffix))
			clients, err := Connect(context.Background(), Config{Cloud: "standalone", Interface: "public"})
			if err != nil {
				t.Fatal(err)
			}
			image, err := clients.Image()
			if err != nil {
				t.Fatal(err)
			}
			if want := glance.URL() + "/v2/"; image.ResourceBase != want || image.ResourceBaseURL() != want {
				t.Errorf("ResourceBase = %q, want %q", image.ResourceBase, want)
			}
			if err := listImages(t, image); err != nil {
				t.Fatal(err)
			}
			if got := glance.Requests(); len(got) != 1 || got[0].Path != "/v2/images" || got[0].Token != "" {
				t.Errorf("Glance saw %+v, want one GET /v2/images without a token", got)
			}
			if got := keystone.Requests(); len(got) != 0 {
				t.Errorf("Keystone was called: %v", got)
			}
		})
	}
}

func TestAuthTypeNoneAsModuleOptions(t *testing.T) {
	isolate(t) // no clouds.yaml anywhere
	glance := newGlanceStub(t, false)
	clients := connectAndList(t, Config{AuthType: "none", ImageEndpointOverride: glance.URL() + "/v2"})
	if len(glance.Requests()) != 1 {
		t.Fatalf("Glance saw %v", glance.Requests())
	}
	if !strings.Contains(clients.Name, "options") {
		t.Errorf("Name = %q", clients.Name)
	}
}

func TestAuthTypeNoneWithoutAnImageEndpoint(t *testing.T) {
	isolate(t)
	clients, err := Connect(context.Background(), Config{AuthType: "none"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = clients.Image()
	if err == nil || !strings.Contains(err.Error(), "image_endpoint_override") {
		t.Fatalf("Image() = %v; want an error asking for image_endpoint_override", err)
	}
	_, err = clients.Compute()
	if err == nil || !strings.Contains(err.Error(), "compute_endpoint_override") {
		t.Fatalf("Compute() = %v; want an error asking for compute_endpoint_override", err)
	}
	_, err = clients.Ironic()
	if err == nil || !strings.Contains(err.Error(), "baremetal_endpoint_override") {
		t.Fatalf("Ironic() = %v; want an error asking for baremetal_endpoint_override", err)
	}
	if clients.HasBaremetal() {
		t.Error("HasBaremetal() = true without an override or a catalog")
	}
}

func TestComputeEndpointOverride(t *testing.T) {
	isolate(t)
	clients, err := Connect(context.Background(), Config{AuthType: "none", ComputeEndpointOverride: "http://127.0.0.1:8774/v2.1"})
	if err != nil {
		t.Fatal(err)
	}
	compute, err := clients.Compute()
	if err != nil {
		t.Fatal(err)
	}
	if got := compute.ServiceURL("servers"); got != "http://127.0.0.1:8774/v2.1/servers" {
		t.Fatalf("servers URL = %q", got)
	}
}

// passwordCloud writes a clouds.yaml with one password cloud "prod" for
// keystone and returns its path.
func passwordCloud(t *testing.T, dir string, keystone *stubKeystone, authURL, password, extra string) string {
	t.Helper()
	return writeFile(t, filepath.Join(dir, "clouds.yaml"), fmt.Sprintf(`clouds:
  prod:
    auth:
      auth_url: %s
      username: %s
      password: %s
      project_name: %s
      user_domain_name: %s
      project_domain_name: %s
    region_name: RegionOne
%s`, authURL, keystone.user, password, keystone.project, keystone.userDomain, keystone.projectDomain, extra))
}

func TestPasswordAuthUsesTheCatalog(t *testing.T) {
	glance := newGlanceStub(t, false)
	catalog := []stubEndpoint{
		{"public", "RegionOne", glance.URL() + "/one-public"},
		{"internal", "RegionOne", glance.URL() + "/one-internal"},
		{"admin", "RegionOne", glance.URL() + "/one-admin"},
		{"public", "RegionTwo", glance.URL() + "/two-public"},
		{"internal", "RegionTwo", glance.URL() + "/two-internal"},
	}
	for _, c := range []struct {
		name       string
		cfg        Config
		cloudExtra string // more keys for the clouds.yaml entry
		authSuffix string
		wantPrefix string
		env        map[string]string
	}{
		{"defaults: the cloud's region, public", Config{Cloud: "prod"}, "", "/v3", "/one-public", nil},
		{"interface internal", Config{Cloud: "prod", Interface: "internal"}, "", "/v3", "/one-internal", nil},
		{"interface admin", Config{Cloud: "prod", Interface: "admin"}, "", "/v3", "/one-admin", nil},
		{"region_name option over the cloud's", Config{Cloud: "prod", RegionName: "RegionTwo"}, "", "/v3", "/two-public", nil},
		{"region and interface", Config{Cloud: "prod", RegionName: "RegionTwo", Interface: "internal"}, "", "/v3", "/two-internal", nil},
		{"the cloud's interface when the option is not given", Config{Cloud: "prod"}, "    interface: internal\n", "/v3", "/one-internal", nil},
		{"the interface option over the cloud's", Config{Cloud: "prod", Interface: "public"}, "    interface: internal\n", "/v3", "/one-public", nil},
		{"auth_url without /v3: version discovery", Config{Cloud: "prod"}, "", "", "/one-public", nil},
		{"OS_REGION_NAME over the cloud's region", Config{Cloud: "prod"}, "", "/v3", "/two-public",
			map[string]string{"OS_REGION_NAME": "RegionTwo"}},
		{"OS_INTERFACE over the cloud's interface", Config{Cloud: "prod"}, "    interface: public\n", "/v3", "/one-internal",
			map[string]string{"OS_INTERFACE": "internal"}},
		{"options over OS_REGION_NAME and OS_INTERFACE", Config{Cloud: "prod", RegionName: "RegionOne", Interface: "admin"},
			"", "/v3", "/one-admin", map[string]string{"OS_REGION_NAME": "RegionTwo", "OS_INTERFACE": "internal"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			work := isolate(t)
			for name, value := range c.env {
				t.Setenv(name, value)
			}
			keystone := newStubKeystone(t, catalog...)
			passwordCloud(t, work, keystone, keystone.URL()+c.authSuffix, keystone.password, c.cloudExtra)
			before := len(glance.Requests())
			clients := connectAndList(t, c.cfg)
			image, _ := clients.Image()
			if want := glance.URL() + c.wantPrefix + "/v2/"; image.ResourceBase != want {
				t.Errorf("ResourceBase = %q, want %q", image.ResourceBase, want)
			}
			got := glance.Requests()[before:]
			if len(got) != 1 || got[0].Path != c.wantPrefix+"/v2/images" || got[0].Token != keystone.token {
				t.Errorf("Glance saw %+v, want GET %s/v2/images with the token", got, c.wantPrefix)
			}
			if !slices.Contains(keystone.Requests(), "POST /v3/auth/tokens") {
				t.Errorf("Keystone saw %v", keystone.Requests())
			}
		})
	}
}

func TestWrongPassword(t *testing.T) {
	work := isolate(t)
	keystone := newStubKeystone(t)
	const wrong = "Tr0ub4dor&3-wrong"
	path := passwordCloud(t, work, keystone, keystone.URL()+"/v3", wrong, "")
	_, err := Connect(context.Background(), Config{Cloud: "prod"})
	if err == nil {
		t.Fatal("Connect succeeded with a wrong password")
	}
	msg := err.Error()
	for _, want := range []string{fmt.Sprintf("cloud %q (%s)", "prod", path), keystone.URL() + "/v3", "401"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not name %q", msg, want)
		}
	}
	t.Logf("the error: %s", msg)
	if strings.Contains(msg, wrong) {
		t.Errorf("error contains the password: %q", msg)
	}
}

func TestInlineAuthIsMergedOverTheCloud(t *testing.T) {
	work := isolate(t)
	glance := newGlanceStub(t, false)
	keystone := newStubKeystone(t, stubEndpoint{"public", "RegionOne", glance.URL()})
	passwordCloud(t, work, keystone, keystone.URL()+"/v3", "stale-password", "")
	var secrets []string
	clients, err := Connect(context.Background(),
		Config{Cloud: "prod", Auth: map[string]any{"password": keystone.password}},
		WithSecretHandler(func(s string) { secrets = append(secrets, s) }))
	if err != nil {
		t.Fatalf("the inline password did not win: %v", err)
	}
	image, _ := clients.Image()
	if err := listImages(t, image); err != nil {
		t.Fatal(err)
	}
	// The rest of the cloud's auth was kept.
	user := dig(keystone.lastAuth, "auth", "identity", "password", "user")
	if dig(user, "name") != keystone.user || dig(keystone.lastAuth, "auth", "scope", "project", "name") != keystone.project {
		t.Errorf("Keystone got %v", keystone.lastAuth)
	}
	for _, secret := range []string{keystone.password, "stale-password"} {
		if !slices.Contains(secrets, secret) {
			t.Errorf("%q was not reported as a secret (reported: %q)", secret, secrets)
		}
	}
}

func TestInlineAuthWithoutCloudsYAML(t *testing.T) {
	isolate(t)
	glance := newGlanceStub(t, false)
	keystone := newStubKeystone(t, stubEndpoint{"public", "RegionOne", glance.URL()},
		stubEndpoint{"internal", "RegionOne", glance.URL() + "/internal"})
	var secrets []string
	cfg := Config{Interface: "internal", RegionName: "RegionOne", Auth: map[string]any{
		"auth_url": keystone.URL() + "/v3", "username": keystone.user, "password": keystone.password,
		"project_name": keystone.project, "user_domain_name": keystone.userDomain,
		"project_domain_name": keystone.projectDomain,
	}}
	clients, err := Connect(context.Background(), cfg, WithSecretHandler(func(s string) { secrets = append(secrets, s) }))
	if err != nil {
		t.Fatal(err)
	}
	image, _ := clients.Image()
	if err := listImages(t, image); err != nil {
		t.Fatal(err)
	}
	if got := glance.Requests(); len(got) != 1 || got[0].Path != "/internal/v2/images" {
		t.Errorf("Glance saw %+v", got)
	}
	// The password is a secret; auth_url and names are not, so that errors can
	// say which Keystone failed.
	if !slices.Contains(secrets, keystone.password) {
		t.Errorf("the password was not reported as a secret: %q", secrets)
	}
	for _, key := range []string{"auth_url", "username", "project_name"} {
		if slices.Contains(secrets, cfg.Auth[key].(string)) {
			t.Errorf("%s %q was reported as a secret", key, cfg.Auth[key])
		}
	}
}

func TestSecretsFromCloudsYAMLAreReported(t *testing.T) {
	work := isolate(t)
	keystone := newStubKeystone(t, stubEndpoint{"public", "RegionOne", "http://127.0.0.1:1"})
	passwordCloud(t, work, keystone, keystone.URL()+"/v3", keystone.password, "")
	var secrets []string
	if _, err := Connect(context.Background(), Config{Cloud: "prod"},
		WithSecretHandler(func(s string) { secrets = append(secrets, s) })); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(secrets, keystone.password) {
		t.Fatalf("the clouds.yaml password was not reported (reported: %q)", secrets)
	}
	// Reported even when authentication fails, so the caller can mask it.
	secrets = nil
	passwordCloud(t, work, keystone, keystone.URL()+"/v3", "not-the-password", "")
	if _, err := Connect(context.Background(), Config{Cloud: "prod"},
		WithSecretHandler(func(s string) { secrets = append(secrets, s) })); err == nil {
		t.Fatal("Connect succeeded with a wrong password")
	}
	if !slices.Contains(secrets, "not-the-password") {
		t.Fatalf("the wrong password was not reported (reported: %q)", secrets)
	}
}

func TestSecureYAMLPasswordIsKeptWithInlineAuth(t *testing.T) {
	work := isolate(t)
	glance := newGlanceStub(t, false)
	keystone := newStubKeystone(t, stubEndpoint{"public", "RegionOne", glance.URL()})
	writeFile(t, filepath.Join(work, "clouds.yaml"), fmt.Sprintf(`clouds:
  prod:
    auth:
      auth_url: %s/v3
      username: %s
      project_name: another-project
      user_domain_name: Default
      project_domain_name: Default
`, keystone.URL(), keystone.user))
	writeFile(t, filepath.Join(work, "secure.yaml"), fmt.Sprintf("clouds:\n  prod:\n    auth:\n      password: %s\n", keystone.password))

	// secure.yaml alone (gophercloud reads it next to clouds.yaml)...
	keystone.project = "another-project"
	connectAndList(t, Config{Cloud: "prod"})
	// ...and with inline auth changing the project: the password must stay.
	keystone.project = "images"
	var secrets []string
	if _, err := Connect(context.Background(), Config{Cloud: "prod", Auth: map[string]any{"project_name": "images"}},
		WithSecretHandler(func(s string) { secrets = append(secrets, s) })); err != nil {
		t.Fatalf("inline auth lost secure.yaml's password: %v", err)
	}
	if !slices.Contains(secrets, keystone.password) {
		t.Fatalf("secure.yaml's password was not reported (reported: %q)", secrets)
	}
}

func TestTLS(t *testing.T) {
	glance := newGlanceStub(t, true)
	certFile := filepath.Join(t.TempDir(), "ca.pem")
	notPEM := writeFile(t, filepath.Join(t.TempDir(), "not-a-ca.pem"), "this is not a certificate\n")
	writeFile(t, certFile, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: glance.server.Certificate().Raw})))
	yes, no := true, false
	for _, c := range []struct {
		name       string
		cfg        Config
		cloudExtra string
		wantErr    string
	}{
		{"ca_cert option", Config{CACert: certFile}, "", ""},
		{"cacert in clouds.yaml", Config{}, "    cacert: " + certFile + "\n", ""},
		{"no CA: the certificate is refused", Config{}, "", "certificate"},
		{"validate_certs false", Config{ValidateCerts: &no}, "", ""},
		{"verify false in clouds.yaml", Config{}, "    verify: false\n", ""},
		{"validate_certs true over verify false", Config{ValidateCerts: &yes}, "    verify: false\n", "certificate"},
		{"a CA file that is not PEM", Config{CACert: notPEM}, "", "CA"},
	} {
		t.Run(c.name, func(t *testing.T) {
			work := isolate(t)
			writeFile(t, filepath.Join(work, "clouds.yaml"), "clouds:\n"+glanceOnlyCloud("tls", glance.URL())+c.cloudExtra)
			cfg := c.cfg
			cfg.Cloud = "tls"
			clients, err := Connect(context.Background(), cfg)
			if err == nil {
				err = listImages(t, mustImage(t, clients))
			}
			switch {
			case c.wantErr == "" && err != nil:
				t.Fatalf("listing images over TLS: %v", err)
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Fatalf("error %v, want one mentioning %q", err, c.wantErr)
			}
		})
	}
}

func mustImage(t *testing.T, clients *Clients) *gophercloud.ServiceClient {
	t.Helper()
	image, err := clients.Image()
	if err != nil {
		t.Fatal(err)
	}
	return image
}

// TestModuleOptionsKeepTheCloudsInterface goes the way a module does: the
// task's options are validated against Options and decoded into Config. A
// task that does not set interface must use the one in clouds.yaml.
func TestModuleOptionsKeepTheCloudsInterface(t *testing.T) {
	glance := newGlanceStub(t, false)
	catalog := []stubEndpoint{
		{"public", "RegionOne", glance.URL() + "/public"},
		{"internal", "RegionOne", glance.URL() + "/internal"},
	}
	for _, c := range []struct {
		name       string
		options    map[string]any
		wantPrefix string
	}{
		{"interface not given", map[string]any{"cloud": "prod"}, "/internal"},
		{"interface given", map[string]any{"cloud": "prod", "interface": "public"}, "/public"},
		{"endpoint_type alias given", map[string]any{"cloud": "prod", "endpoint_type": "public"}, "/public"},
	} {
		t.Run(c.name, func(t *testing.T) {
			work := isolate(t)
			keystone := newStubKeystone(t, catalog...)
			passwordCloud(t, work, keystone, keystone.URL()+"/v3", keystone.password, "    interface: internal\n")
			spec := ansible.Spec{Name: "imageops.cloud.test", Options: Options}
			params, err := spec.Validate(c.options)
			if err != nil {
				t.Fatal(err)
			}
			var cfg Config
			if err := (&ansible.Module{Params: params}).Decode(&cfg); err != nil {
				t.Fatal(err)
			}
			before := len(glance.Requests())
			connectAndList(t, cfg)
			if got := glance.Requests()[before:]; len(got) != 1 || got[0].Path != c.wantPrefix+"/v2/images" {
				t.Fatalf("Glance saw %+v, want %s/v2/images", got, c.wantPrefix)
			}
		})
	}
}

func TestPasswordInAuthURLNeverShows(t *testing.T) {
	work := isolate(t)
	keystone := newStubKeystone(t)
	const urlPassword = "Au/th@Pw:x"
	authURL := strings.Replace(keystone.URL(), "http://", "http://admin:"+urlPassword+"@", 1) + "/v3"
	passwordCloud(t, work, keystone, authURL, "not-the-password", "")
	var secrets []string
	_, err := Connect(context.Background(), Config{Cloud: "prod"}, WithSecretHandler(func(s string) { secrets = append(secrets, s) }))
	if err == nil {
		t.Fatal("Connect succeeded with a wrong password")
	}
	msg := err.Error()
	if !strings.Contains(msg, "REDACTED@") {
		t.Errorf("the error does not name the Keystone URL redacted: %q", msg)
	}
	// The module masks every reported secret: nothing of the URL's password may remain.
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	for _, secret := range secrets {
		msg = strings.ReplaceAll(msg, secret, "********")
	}
	for _, part := range []string{"Au/th", "th@Pw", "Au%2Fth", "not-the-password"} {
		if strings.Contains(msg, part) {
			t.Errorf("the masked error still shows %q: %q", part, msg)
		}
	}
	if !strings.Contains(msg, "401") {
		t.Errorf("the request did not reach Keystone with the URL's host: %q", msg)
	}
}
