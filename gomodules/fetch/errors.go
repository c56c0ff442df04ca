package fetch

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// ErrNotFound is matched (errors.Is) by the error of a source that does not
// exist: an HTTP 404 or 410 answer, or a file path that names nothing.
var ErrNotFound = errors.New("not found")

// ErrIdleTimeout is matched (errors.Is) by the error of a download during
// which the server sent nothing for the idle timeout (WithIdleTimeout).
var ErrIdleTimeout = errors.New("idle timeout")

// HTTPStatusError reports an HTTP answer other than 200 OK.
type HTTPStatusError struct {
	// URL is the requested URL, redacted as by RedactURL.
	URL string
	// StatusCode is the answer's status code, RFC 9110 section 15.
	StatusCode int
}

// Error says which URL got which status, such as
// `fetching "https://example.org/x.img": server answered 404 Not Found`.
func (e *HTTPStatusError) Error() string {
	text := http.StatusText(e.StatusCode)
	if text == "" {
		text = "unknown status"
	}
	msg := fmt.Sprintf("fetching %q: server answered %d %s", e.URL, e.StatusCode, text)
	switch e.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden:
		msg += " (check the credentials in the URL, or whether the file is public)"
	}
	return msg
}

// Is makes errors.Is(err, ErrNotFound) true for 404 Not Found and 410 Gone.
func (e *HTTPStatusError) Is(target error) bool {
	return target == ErrNotFound && (e.StatusCode == http.StatusNotFound || e.StatusCode == http.StatusGone)
}

// transient reports whether the same request may succeed later: 408, 429,
// and 5xx other than 501 Not Implemented and 505 HTTP Version Not Supported.
func (e *HTTPStatusError) transient() bool {
	switch e.StatusCode {
	case http.StatusRequestTimeout, http.StatusTooManyRequests:
		return true
	case http.StatusNotImplemented, http.StatusHTTPVersionNotSupported:
		return false
	}
	return e.StatusCode >= 500 && e.StatusCode <= 599
}

// stripURLErrors removes the *url.Error layers net/http wraps around
// transport errors: they repeat the URL, credentials and all.
func stripURLErrors(err error) error {
	for {
		var ue *url.Error
		if !errors.As(err, &ue) || ue.Err == nil {
			return err
		}
		err = ue.Err
	}
}
