package novastub

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Project is the project ID of the stub's caller: the servers listed without
// all_tenants.
const Project = "stub-caller-project"

// DefaultMaxLimit is Nova's default [api]max_limit: the largest page.
const DefaultMaxLimit = 1000

// Server is one server the stub lists.
type Server struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Status   string `json:"status"`    // ACTIVE, SHUTOFF, SHELVED_OFFLOADED, ERROR, ...
	TenantID string `json:"tenant_id"` // the server's project
	ImageID  string `json:"image_id"`  // empty: booted from a volume
}

// Stub serves the servers on 127.0.0.1.
type Stub struct {
	// URL is the compute endpoint, with its /v2.1 suffix, for
	// compute_endpoint_override.
	URL string

	server   *http.Server
	listener net.Listener
	maxLimit int
	requests atomic.Int64
	mu       sync.Mutex
	servers  []Server
	failWith int
	logf     func(format string, args ...any)
}

// Option configures a Stub.
type Option func(*Stub)

// WithMaxLimit sets the largest page (Nova's [api]max_limit). Default DefaultMaxLimit.
func WithMaxLimit(n int) Option { return func(s *Stub) { s.maxLimit = n } }

// WithRequestLog calls logf with each request's method and URI. Default: no log.
func WithRequestLog(logf func(format string, args ...any)) Option {
	return func(s *Stub) { s.logf = logf }
}

// Start serves servers on a free port of 127.0.0.1 until Close.
func Start(servers []Server, opts ...Option) (*Stub, error) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listening on 127.0.0.1: %w", err)
	}
	s := &Stub{listener: listener, maxLimit: DefaultMaxLimit, servers: servers, logf: func(string, ...any) {}}
	for _, apply := range opts {
		apply(s)
	}
	s.URL = "http://" + listener.Addr().String() + "/v2.1"
	s.server = &http.Server{Handler: http.HandlerFunc(s.handle), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.server.Serve(listener) }()
	return s, nil
}

// Close stops serving.
func (s *Stub) Close() error { return s.server.Close() }

// Requests is the number of requests served so far.
func (s *Stub) Requests() int { return int(s.requests.Load()) }

// SetServers replaces the servers listed.
func (s *Stub) SetServers(servers []Server) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.servers = servers
}

// FailWith makes every request answer status (as a Nova fault) until it is
// called with 0.
func (s *Stub) FailWith(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failWith = status
}

func (s *Stub) handle(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	s.logf("%s %s", r.Method, r.URL.RequestURI())
	s.mu.Lock()
	servers, failWith := s.servers, s.failWith
	s.mu.Unlock()
	switch {
	case failWith != 0:
		fault(w, failWith, "computeFault", "The stub was told to fail.")
	case r.Method != http.MethodGet || r.URL.Path != "/v2.1/servers/detail":
		fault(w, http.StatusNotFound, "itemNotFound", "The resource could not be found.")
	default:
		s.list(w, r, servers)
	}
}

func (s *Stub) list(w http.ResponseWriter, r *http.Request, all []Server) {
	query := r.URL.Query()
	visible := make([]Server, 0, len(all))
	allTenants := isTrue(query.Get("all_tenants"))
	for _, server := range all {
		if allTenants || server.TenantID == Project {
			visible = append(visible, server)
		}
	}
	limit := s.maxLimit
	if text := query.Get("limit"); text != "" {
		n, err := strconv.Atoi(text)
		if err != nil || n < 0 {
			fault(w, http.StatusBadRequest, "badRequest", fmt.Sprintf("Invalid input for query parameters limit. Value: %s.", text))
			return
		}
		limit = min(n, s.maxLimit)
	}
	start := 0
	if marker := query.Get("marker"); marker != "" {
		start = -1
		for i, server := range visible {
			if server.ID == marker {
				start = i + 1
			}
		}
		if start < 0 {
			fault(w, http.StatusBadRequest, "badRequest", fmt.Sprintf("marker [%s] not found", marker))
			return
		}
	}
	end := min(start+limit, len(visible))
	page := visible[start:end]
	body := map[string]any{"servers": s.render(r, page)}
	if len(page) == limit && len(page) > 0 {
		next := url.Values{}
		for key, values := range query {
			next[key] = values
		}
		next.Set("marker", page[len(page)-1].ID)
		body["servers_links"] = []map[string]string{{"rel": "next", "href": s.URL + "/servers/detail?" + next.Encode()}}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(body)
}

func (s *Stub) render(r *http.Request, page []Server) []map[string]any {
	out := make([]map[string]any, len(page))
	for i, server := range page {
		var image any = ""
		if server.ImageID != "" {
			image = map[string]any{"id": server.ImageID, "links": []map[string]string{
				{"rel": "bookmark", "href": "http://" + r.Host + "/images/" + server.ImageID}}}
		}
		out[i] = map[string]any{
			"id": server.ID, "name": server.Name, "status": server.Status, "tenant_id": server.TenantID,
			"user_id": "stub-user", "image": image,
			"flavor":  map[string]any{"original_name": "m1.small", "vcpus": 1, "ram": 2048, "disk": 20},
			"created": "2024-01-02T03:04:05Z", "updated": "2024-01-02T03:04:05Z",
			"addresses": map[string]any{}, "metadata": map[string]string{},
			"links":               []map[string]string{{"rel": "self", "href": s.URL + "/servers/" + server.ID}},
			"OS-EXT-STS:vm_state": strings.ToLower(server.Status),
		}
	}
	return out
}

// isTrue reads all_tenants as Nova does (oslo's bool_from_string).
func isTrue(value string) bool {
	switch strings.ToLower(value) {
	case "1", "t", "true", "on", "y", "yes":
		return true
	}
	return false
}

// fault writes Nova's error body: {"<name>": {"code": N, "message": "..."}}.
func fault(w http.ResponseWriter, status int, name, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{name: map[string]any{"code": status, "message": message}})
}
