package testenv

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
)

// FailingGlance returns an image client that reaches glance through a proxy
// on 127.0.0.1 which answers 500 ("injected failure") to every request for
// which fail, given the request and its body, is true: a fault injected in
// front of the real Glance. The proxy stops when the test ends.
func FailingGlance(t testing.TB, glance *gophercloud.ServiceClient, fail func(r *http.Request, body []byte) bool) *gophercloud.ServiceClient {
	t.Helper()
	target, err := url.Parse(glance.Endpoint)
	if err != nil {
		t.Fatalf("parsing the Glance endpoint %q: %v", glance.Endpoint, err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		if fail(r, body) {
			http.Error(w, "injected failure", http.StatusInternalServerError)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(server.Close)
	base := server.URL + "/"
	return &gophercloud.ServiceClient{ProviderClient: glance.ProviderClient, Endpoint: base, ResourceBase: base + "v2/", Type: "image"}
}
