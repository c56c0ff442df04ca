package conn

import (
	"context"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
)

// stubKeystone is a STUB of Keystone's identity v3 API: Keystone is not
// running on this machine, so this small server stands in for it. It follows
// the real API's shapes for what gophercloud uses: GET / answers version
// discovery (300 Multiple Choices, as Keystone does); POST /v3/auth/tokens
// with the right password answers 201 with the token in X-Subject-Token and a
// token body carrying the service catalog; a wrong password gets 401 with
// Keystone's error body. It binds 127.0.0.1 only (httptest's default).
type stubKeystone struct {
	server                     *httptest.Server
	user, password, userDomain string
	project, projectDomain     string
	token                      string
	// catalog holds the image service's endpoints.
	catalog []stubEndpoint

	mu       sync.Mutex
	requests []string       // "METHOD /path"
	lastAuth map[string]any // the last auth request's body
	issued   []string       // tokens handed out
}

type stubEndpoint struct {
	Interface, Region, URL string
}

func newStubKeystone(t *testing.T, catalog ...stubEndpoint) *stubKeystone {
	t.Helper()
	k := &stubKeystone{user: "demo", password: "correct-horse", userDomain: "Default",
		project: "images", projectDomain: "Default", token: "gAAAAAB-stub-token", catalog: catalog}
	k.server = httptest.NewServer(http.HandlerFunc(k.serve))
	t.Cleanup(k.server.Close)
	return k
}

func (k *stubKeystone) URL() string { return k.server.URL }

func (k *stubKeystone) Requests() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]string(nil), k.requests...)
}

func (k *stubKeystone) serve(w http.ResponseWriter, r *http.Request) {
	k.mu.Lock()
	k.requests = append(k.requests, r.Method+" "+r.URL.Path)
	k.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == http.MethodGet && (r.URL.Path == "/" || r.URL.Path == ""):
		w.WriteHeader(http.StatusMultipleChoices)
		writeJSON(w, map[string]any{"versions": map[string]any{"values": []any{map[string]any{
			"id": "v3.14", "status": "stable", "updated": "2020-04-07T00:00:00Z",
			"links":       []any{map[string]any{"rel": "self", "href": k.server.URL + "/v3/"}},
			"media-types": []any{map[string]any{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}},
		}}}})
	case r.Method == http.MethodPost && r.URL.Path == "/v3/auth/tokens":
		k.authenticate(w, r)
	default:
		w.WriteHeader(http.StatusNotFound)
		writeJSON(w, map[string]any{"error": map[string]any{"code": 404, "title": "Not Found",
			"message": "The resource could not be found."}})
	}
}

func (k *stubKeystone) authenticate(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		writeJSON(w, map[string]any{"error": map[string]any{"code": 400, "title": "Bad Request", "message": err.Error()}})
		return
	}
	k.mu.Lock()
	k.lastAuth = body
	k.mu.Unlock()
	user := dig(body, "auth", "identity", "password", "user")
	if dig(user, "name") != k.user || dig(user, "password") != k.password || dig(user, "domain", "name") != k.userDomain ||
		dig(body, "auth", "scope", "project", "name") != k.project {
		w.WriteHeader(http.StatusUnauthorized)
		writeJSON(w, map[string]any{"error": map[string]any{"code": 401, "title": "Unauthorized",
			"message": "The request you have made requires authentication."}})
		return
	}
	endpoints := make([]any, len(k.catalog))
	for i, e := range k.catalog {
		endpoints[i] = map[string]any{"id": "endpoint-" + e.Interface + "-" + e.Region, "interface": e.Interface,
			"region": e.Region, "region_id": e.Region, "url": e.URL}
	}
	k.mu.Lock()
	k.issued = append(k.issued, k.token)
	k.mu.Unlock()
	w.Header().Set("X-Subject-Token", k.token)
	w.WriteHeader(http.StatusCreated)
	domain := map[string]any{"id": "default", "name": k.userDomain}
	writeJSON(w, map[string]any{"token": map[string]any{
		"methods":    []any{"password"},
		"expires_at": "2099-01-01T00:00:00.000000Z",
		"issued_at":  "2026-01-01T00:00:00.000000Z",
		"audit_ids":  []any{"stub-audit"},
		"user":       map[string]any{"id": "user-id", "name": k.user, "domain": domain, "password_expires_at": nil},
		"project":    map[string]any{"id": "project-id", "name": k.project, "domain": domain},
		"roles":      []any{map[string]any{"id": "role-id", "name": "member"}},
		"catalog": []any{map[string]any{"id": "glance-id", "type": "image", "name": "glance", "endpoints": endpoints},
			map[string]any{"id": "keystone-id", "type": "identity", "name": "keystone", "endpoints": []any{
				map[string]any{"id": "identity-public", "interface": "public", "region": "RegionOne",
					"region_id": "RegionOne", "url": k.server.URL + "/v3/"}}}},
	}})
}

// dig follows keys through nested JSON objects.
func dig(value any, keys ...string) any {
	for _, key := range keys {
		object, ok := value.(map[string]any)
		if !ok {
			return nil
		}
		value = object[key]
	}
	return value
}

func writeJSON(w http.ResponseWriter, value any) {
	_ = json.NewEncoder(w).Encode(value)
}

// glanceStub is a STUB of Glance's image API (no Glance runs in these unit
// tests), for the calls these tests make, answered in Glance's shapes: version
// discovery, GET <prefix>/ (300 Multiple Choices with the "versions" list,
// which gophercloud reads before using a catalog endpoint), and
// GET <prefix>/v2/images (an empty listing). It records the image listings'
// paths and X-Auth-Token headers.
type glanceStub struct {
	server   *httptest.Server
	mu       sync.Mutex
	requests []glanceRequest
}

type glanceRequest struct {
	Path, Token string
}

func newGlanceStub(t *testing.T, tls bool) *glanceStub {
	t.Helper()
	g := &glanceStub{}
	g.server = httptest.NewUnstartedServer(http.HandlerFunc(g.serve))
	// Refused certificates are what some tests want; keep their log quiet.
	g.server.Config.ErrorLog = log.New(io.Discard, "", 0)
	if tls {
		g.server.StartTLS()
	} else {
		g.server.Start()
	}
	t.Cleanup(g.server.Close)
	return g
}

func (g *glanceStub) URL() string { return g.server.URL }

func (g *glanceStub) Requests() []glanceRequest {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]glanceRequest(nil), g.requests...)
}

func (g *glanceStub) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/v2/images"):
		g.mu.Lock()
		g.requests = append(g.requests, glanceRequest{Path: r.URL.Path, Token: r.Header.Get("X-Auth-Token")})
		g.mu.Unlock()
		writeJSON(w, map[string]any{"images": []any{}, "schemas": "/v2/schemas/images", "first": "/v2/images"})
	case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/") && !strings.Contains(r.URL.Path, "/v2/"):
		base := "http://" + r.Host + r.URL.Path
		w.WriteHeader(http.StatusMultipleChoices)
		writeJSON(w, map[string]any{"versions": []any{
			map[string]any{"id": "v2.16", "status": "CURRENT", "links": []any{map[string]any{"rel": "self", "href": base + "v2/"}}},
			map[string]any{"id": "v2.15", "status": "SUPPORTED", "links": []any{map[string]any{"rel": "self", "href": base + "v2/"}}},
		}})
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

// listImages lists images with gophercloud's images package, as modules do.
func listImages(t *testing.T, client *gophercloud.ServiceClient) error {
	t.Helper()
	pages, err := images.List(client, images.ListOpts{}).AllPages(context.Background())
	if err != nil {
		return err
	}
	found, err := images.ExtractImages(pages)
	if err != nil {
		return err
	}
	if len(found) != 0 {
		t.Fatalf("the stub lists no images, got %v", found)
	}
	return nil
}

// isolate gives the test an environment without any OpenStack settings: an
// empty working directory, HOME and XDG_CONFIG_HOME, and no OS_* variables.
// It returns the working directory.
func isolate(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"OS_CLOUD", "OS_CLIENT_CONFIG_FILE", "OS_REGION_NAME", "OS_INTERFACE",
		"OS_CACERT", "OS_CERT", "OS_KEY", "OS_AUTH_URL", "OS_PASSWORD", "OS_USERNAME"} {
		t.Setenv(name, "")
	}
	root := t.TempDir()
	home := filepath.Join(root, "home")
	work := filepath.Join(root, "work")
	for _, dir := range []string{home, work} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	t.Chdir(work)
	return work
}

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
