package conn

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"gopkg.in/yaml.v2"
)

// These tests run against the real Keystone and Glance of scripts/cloud.sh
// (TLS, projects admin/demo/other, an application credential, an image
// endpoint that is public only, in RegionOne). scripts/test.sh starts it and
// sets IMAGEOPS_CLOUD_STATE; without it they skip, unless
// IMAGEOPS_REQUIRE_SERVICES=1.

// keystoneCloud points OS_CLIENT_CONFIG_FILE at the local cloud's clouds.yaml
// and returns its state directory.
func keystoneCloud(t *testing.T) string {
	t.Helper()
	state := os.Getenv("IMAGEOPS_CLOUD_STATE")
	if state == "" {
		if os.Getenv("IMAGEOPS_REQUIRE_SERVICES") == "1" {
			t.Fatal("no local Keystone cloud: IMAGEOPS_CLOUD_STATE is not set (run through scripts/test.sh)")
		}
		t.Skip("no local Keystone cloud (run `make test`, or scripts/cloud.sh start and export IMAGEOPS_CLOUD_STATE)")
	}
	isolate(t)
	t.Setenv("OS_CLIENT_CONFIG_FILE", filepath.Join(state, "clouds.yaml"))
	return state
}

// cloudAuth returns the auth mapping of a cloud in the local cloud's clouds.yaml.
func cloudAuth(t *testing.T, state, cloud string) map[string]string {
	t.Helper()
	content, err := os.ReadFile(filepath.Join(state, "clouds.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Clouds map[string]struct {
			Auth map[string]string `yaml:"auth"`
		} `yaml:"clouds"`
	}
	if err := yaml.Unmarshal(content, &file); err != nil {
		t.Fatal(err)
	}
	return file.Clouds[cloud].Auth
}

// connectTo connects with cfg and lists images, failing the test on an error.
func connectTo(t *testing.T, cfg Config) *Clients {
	t.Helper()
	clients, err := Connect(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Connect(%+v): %v", cfg.Cloud, err)
	}
	image, err := clients.Image()
	if err != nil {
		t.Fatalf("Image: %v", err)
	}
	if _, err := images.List(image, images.ListOpts{Limit: 1}).AllPages(context.Background()); err != nil {
		t.Fatalf("listing images on %s: %v", clients.Name, err)
	}
	return clients
}

func TestKeystoneCredentials(t *testing.T) {
	state := keystoneCloud(t)
	demo := connectTo(t, Config{Cloud: "demo"})
	demoProject := demo.ProjectID()
	if demoProject == "" || demo.Project().Name != "demo" {
		t.Fatalf("demo's token is scoped to %+v", demo.Project())
	}
	// Tokens live IMAGEOPS_CLOUD_TOKEN_TTL seconds (60 in scripts/test.sh):
	// each token case gets a fresh one.
	const token = "<fresh token>"
	for _, c := range []struct {
		name string
		cfg  Config
	}{
		{"password from clouds.yaml", Config{Cloud: "demo"}},
		{"password inline", Config{Cloud: "demo-noauth", Auth: map[string]any{"password": cloudAuth(t, state, "demo")["password"]}}},
		{"everything inline", Config{Auth: map[string]any{"auth_url": cloudAuth(t, state, "demo")["auth_url"],
			"username": "demo", "password": cloudAuth(t, state, "demo")["password"], "project_name": "demo",
			"user_domain_name": "Default", "project_domain_name": "Default"}, CACert: filepath.Join(state, "ca.pem")}},
		{"application credential", Config{Cloud: "appcred"}},
		{"token with a project", Config{Cloud: "keystone", AuthType: "token",
			Auth: map[string]any{"token": token, "project_name": "demo", "project_domain_name": "Default"}}},
		{"token with a project ID", Config{Cloud: "keystone", AuthType: "v3token",
			Auth: map[string]any{"token": token, "project_id": demoProject}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.cfg.Auth["token"] == token {
				c.cfg.Auth["token"] = connectTo(t, Config{Cloud: "demo"}).Provider().Token()
			}
			clients := connectTo(t, c.cfg)
			if got := clients.ProjectID(); got != demoProject {
				t.Errorf("scoped to project %q, want demo's %q", got, demoProject)
			}
		})
	}
}

func TestTokenWinsOverThePasswordOfTheCloud(t *testing.T) {
	keystoneCloud(t)
	other := connectTo(t, Config{Cloud: "other"})
	// The demo cloud has demo's password; auth_type token with other's token
	// must authenticate as other, in other's project.
	clients := connectTo(t, Config{Cloud: "demo", AuthType: "token",
		Auth: map[string]any{"token": other.Provider().Token(), "project_name": "other"}})
	if clients.ProjectID() != other.ProjectID() {
		t.Fatalf("scoped to %+v, want other's project %s: the password won over the token", clients.Project(), other.ProjectID())
	}
}

func TestTokenWithoutAProject(t *testing.T) {
	keystoneCloud(t)
	token := connectTo(t, Config{Cloud: "demo"}).Provider().Token()
	_, err := Connect(context.Background(), Config{Cloud: "keystone", AuthType: "token", Auth: map[string]any{"token": token}})
	if err == nil || !strings.Contains(err.Error(), `cloud "keystone"`) ||
		!strings.Contains(err.Error(), "add project_name (with project_domain_name or project_domain_id) or project_id to auth") ||
		strings.Contains(err.Error(), "AllowReauth") || strings.Contains(err.Error(), token) {
		t.Fatalf("error %v", err)
	}
}

func TestKeystoneFailuresNameTheCloudAndWhatWasLookedFor(t *testing.T) {
	state := keystoneCloud(t)
	closed := closedPort(t)
	catalog := `the catalog offers image endpoints: public in RegionOne (` + os.Getenv("IMAGEOPS_CLOUD_GLANCE_URL")
	for _, c := range []struct {
		name    string
		cfg     Config
		image   bool // the failure comes from Image(), after authenticating
		want    []string
		secrets []string
	}{
		{"wrong password", Config{Cloud: "demo", Auth: map[string]any{"password": "not-the-password-123"}}, false,
			[]string{`authenticating to cloud "demo" (` + state, "at https://127.0.0.1:", "Keystone refused the credentials (401"},
			[]string{"not-the-password-123"}},
		{"unknown cloud", Config{Cloud: "prod"}, false,
			[]string{`cloud "prod" not found in ` + filepath.Join(state, "clouds.yaml"), "admin, appcred, demo"}, nil},
		{"Keystone down", Config{Cloud: "demo", Auth: map[string]any{"auth_url": "https://127.0.0.1:" + closed + "/v3"}}, false,
			[]string{`authenticating to cloud "demo"`, "at https://127.0.0.1:" + closed + "/v3", "Keystone does not answer", "connection refused"},
			[]string{cloudAuth(t, state, "demo")["password"]}},
		{"region without an image endpoint", Config{Cloud: "demo", RegionName: "RegionTwo"}, true,
			[]string{`finding the image endpoint of cloud "demo"`, `no image endpoint with interface public in region "RegionTwo"`, catalog}, nil},
		{"interface internal where only public exists", Config{Cloud: "demo", Interface: "internal"}, true,
			[]string{`finding the image endpoint of cloud "demo"`, `no image endpoint with interface internal in region "RegionOne"`, catalog}, nil},
		{"token without auth_type token", Config{Cloud: "keystone", AuthType: "password"}, false,
			[]string{`cloud "keystone"`, "auth_type password needs a password in auth"}, nil},
		{"unknown auth_type", Config{Cloud: "demo", AuthType: "v3oidcpassword"}, false,
			[]string{`cloud "demo"`, `auth_type "v3oidcpassword" is not supported; use one of password, v3password, token`}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			clients, err := Connect(context.Background(), c.cfg)
			if c.image && err == nil {
				_, err = clients.Image()
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, want := range c.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q\ndoes not say %q", err, want)
				}
			}
			for _, secret := range c.secrets {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q shows a secret", err)
				}
			}
		})
	}
}

func TestTLSWithAnotherCA(t *testing.T) {
	keystoneCloud(t)
	otherCA := writeFile(t, filepath.Join(t.TempDir(), "other-ca.pem"), selfSignedCA(t))
	_, err := Connect(context.Background(), Config{Cloud: "demo", CACert: otherCA})
	if err == nil || !strings.Contains(err.Error(), `authenticating to cloud "demo"`) ||
		!strings.Contains(err.Error(), "TLS certificate is not signed by a trusted CA (set ca_cert") {
		t.Fatalf("with another CA: %v", err)
	}
	// validate_certs: false connects anyway, Keystone and Glance both.
	no := false
	connectTo(t, Config{Cloud: "demo", CACert: otherCA, ValidateCerts: &no})
}

func TestGlanceErrorsAreText(t *testing.T) {
	keystoneCloud(t)
	clients := connectTo(t, Config{Cloud: "demo"})
	image, err := clients.Image()
	if err != nil {
		t.Fatal(err)
	}
	// A member may not make an image public: Glance answers 403 with an HTML page.
	created, err := images.Create(context.Background(), image, images.CreateOpts{Name: "imageops-conn-public",
		Visibility: ptr(images.ImageVisibilityPublic), DiskFormat: "raw", ContainerFormat: "bare"}).Extract()
	if err == nil {
		_ = images.Delete(context.Background(), image, created.ID).ExtractErr()
		t.Fatal("Glance let a member create a public image")
	}
	msg := err.Error()
	for _, want := range []string{"403", "You are not authorized to complete publicize_image action.",
		"Glance lets only admins make an image public (policy publicize_image)",
		`[cloud "demo" (`, os.Getenv("IMAGEOPS_CLOUD_GLANCE_URL") + "/v2/images"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not say %q", msg, want)
		}
	}
	if strings.Contains(msg, "<br") || strings.Contains(msg, "<h1>") {
		t.Errorf("error %q has HTML in it", msg)
	}
}

func TestTokenRenewal(t *testing.T) {
	keystoneCloud(t)

	t.Run("renewed before it expires", func(t *testing.T) {
		clients := connectTo(t, Config{Cloud: "demo"})
		refresh := clients.provider.HTTPClient.Transport.(*refreshingTransport)
		before := clients.provider.Token()
		// As if the token expired within the margin: the next request renews it
		// first, at the real Keystone, and Glance accepts the new one.
		refresh.mu.Lock()
		refresh.expires = time.Now().Add(time.Second)
		refresh.mu.Unlock()
		image, _ := clients.Image()
		if _, err := images.List(image, images.ListOpts{Limit: 1}).AllPages(context.Background()); err != nil {
			t.Fatalf("listing after the renewal: %v", err)
		}
		if clients.provider.Token() == before {
			t.Fatal("the token was not renewed")
		}
	})

	t.Run("renewed after a 401", func(t *testing.T) {
		clients := connectTo(t, Config{Cloud: "demo"})
		// Glance caches what Keystone said of a token, so a revoked one would
		// still pass for minutes: a token Keystone never issued gets the 401.
		clients.provider.SetToken("gAAAAABnot-a-token-keystone-issued")
		before := clients.provider.Token()
		image, _ := clients.Image()
		if _, err := images.List(image, images.ListOpts{Limit: 1}).AllPages(context.Background()); err != nil {
			t.Fatalf("listing with a revoked token: %v", err)
		}
		if clients.provider.Token() == before {
			t.Fatal("the token was not renewed")
		}
	})

	t.Run("expired for real", func(t *testing.T) {
		clients := connectTo(t, Config{Cloud: "demo"})
		_, expires, _ := tokenInfo(clients.provider)
		wait := time.Until(expires) + time.Second
		if wait > 70*time.Second {
			t.Skipf("the cloud's tokens live %s; this case waits for one to expire only when they live at most 70 s (IMAGEOPS_CLOUD_TOKEN_TTL)", wait)
		}
		before := clients.provider.Token()
		time.Sleep(wait)
		image, _ := clients.Image()
		if _, err := images.List(image, images.ListOpts{Limit: 1}).AllPages(context.Background()); err != nil {
			t.Fatalf("listing after the token expired: %v", err)
		}
		if clients.provider.Token() == before {
			t.Fatal("the token was not renewed")
		}
	})
}

// closedPort returns a port on 127.0.0.1 where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(listener.Addr().String())
	listener.Close()
	return port
}

// selfSignedCA returns the PEM certificate of a fresh CA that signed nothing.
func selfSignedCA(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	template := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "another CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func ptr[T any](v T) *T { return &v }
