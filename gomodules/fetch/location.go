package fetch

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/imageops/cloud/gomodules/redact"
)

// location is a parsed source: an http(s) URL or a local path.
type location struct {
	httpURL *url.URL // for http and https
	path    string   // for file URLs and absolute paths
	display string   // the source as errors and results show it: redacted
}

const expectedURL = "expected an http, https or file URL, or an absolute path"

// parseLocation accepts http://, https://, file:///path, file://localhost/path
// and absolute paths; see the package documentation.
func parseLocation(raw string) (location, error) {
	if raw == "" {
		return location{}, fmt.Errorf("url %q: empty; %s", raw, expectedURL)
	}
	if strings.HasPrefix(raw, "/") {
		return location{path: raw, display: raw}, nil
	}
	display := RedactURL(raw)
	u, err := redact.ParseURL(raw)
	if err != nil {
		// url.Parse's error repeats the URL, and its reason may quote part of
		// the userinfo: say only that it does not parse.
		return location{}, fmt.Errorf("url %q: not a valid URL; %s", display, expectedURL)
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		if u.Host == "" {
			return location{}, fmt.Errorf("url %q: no host; expected %s://host/path", display, u.Scheme)
		}
		return location{httpURL: u, display: display}, nil
	case "file":
		if u.Opaque != "" || !strings.HasPrefix(u.Path, "/") {
			return location{}, fmt.Errorf("url %q: not an absolute file URL; expected file:///path", display)
		}
		if u.Host != "" && u.Host != "localhost" {
			return location{}, fmt.Errorf("url %q: host %q in a file URL; expected file:///path or file://localhost/path, a file on the managed host", display, u.Host)
		}
		if u.User != nil || u.RawQuery != "" {
			return location{}, fmt.Errorf("url %q: a file URL takes no user or query; expected file:///path", display)
		}
		return location{path: u.Path, display: display}, nil
	case "":
		return location{}, fmt.Errorf("url %q: a relative path; %s", display, expectedURL)
	}
	return location{}, fmt.Errorf("url %q: scheme %q is not supported; %s", display, u.Scheme, expectedURL)
}
