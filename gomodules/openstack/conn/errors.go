package conn

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"mime"
	"net/http"
	"regexp"
	"strings"
)

// maxErrorBody is how much of an error response is read to make its text.
const maxErrorBody = 64 << 10

var (
	htmlHead  = regexp.MustCompile(`(?is)<head>.*?</head>`)
	htmlTitle = regexp.MustCompile(`(?is)<h1>(.*?)</h1>`)
	htmlTag   = regexp.MustCompile(`(?s)<[^>]*>`)
	spaces    = regexp.MustCompile(`\s+`)
)

// ResponseText turns an OpenStack error body into one line of plain text:
// Keystone's JSON {"error": {"message": ...}}, Nova's {"<kind>": {"message":
// ...}}, Glance's HTML pages ("<h1>403 Forbidden</h1> You are not authorized to
// complete publicize_image action.<br /><br />" becomes "403 Forbidden: You are
// not authorized to complete publicize_image action."), or the text itself
// with its whitespace collapsed.
func ResponseText(body []byte) string {
	if text, ok := jsonMessage(body); ok {
		return text
	}
	page := htmlHead.ReplaceAllString(string(body), " ")
	heading := ""
	if match := htmlTitle.FindStringSubmatch(page); match != nil {
		heading = plainText(match[1])
		page = strings.Replace(page, match[0], " ", 1)
	}
	text := plainText(page)
	switch {
	case heading == "":
		return text
	case text == "":
		return heading
	}
	return heading + ": " + text
}

func plainText(fragment string) string {
	text := html.UnescapeString(htmlTag.ReplaceAllString(fragment, " "))
	return strings.TrimSpace(spaces.ReplaceAllString(text, " "))
}

// jsonMessage finds the message of a JSON error body: {"error": {"message"}},
// {"<kind>": {"message"}}, or {"message"}.
func jsonMessage(body []byte) (string, bool) {
	var doc map[string]json.RawMessage
	if json.Unmarshal(body, &doc) != nil {
		return "", false
	}
	var top struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &top) == nil && top.Message != "" {
		var titled struct {
			Title string `json:"title"`
		}
		_ = json.Unmarshal(body, &titled)
		if titled.Title != "" {
			return titled.Title + ": " + plainText(top.Message), true
		}
		return plainText(top.Message), true
	}
	for _, value := range doc {
		var inner struct {
			Message string `json:"message"`
			Title   string `json:"title"`
		}
		if json.Unmarshal(value, &inner) == nil && inner.Message != "" {
			if inner.Title != "" {
				return inner.Title + ": " + plainText(inner.Message), true
			}
			return plainText(inner.Message), true
		}
	}
	return "", false
}

// textErrorsTransport replaces the body of a service's error response (HTML,
// or JSON whose message holds HTML, as Glance sends) with its text and the
// cloud's name, so that errors built from it (gophercloud's
// ErrUnexpectedResponseCode quotes the body after the method and URL) read as
// one line: `... got 403 instead: Forbidden: You are not authorized to
// complete publicize_image action. [cloud "prod" (/etc/openstack/clouds.yaml)]`.
// Keystone's answers are left alone (authentication explains its own).
type textErrorsTransport struct {
	base     http.RoundTripper
	cloud    string
	identity string // Keystone's base URL, set once known
}

func (t *textErrorsTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil || resp.StatusCode < 400 || req.Method == http.MethodHead {
		return resp, err
	}
	if t.identity != "" && strings.HasPrefix(req.URL.String(), t.identity) {
		return resp, nil
	}
	mediaType, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mediaType != "text/html" && mediaType != "text/plain" && mediaType != "application/json" {
		return resp, nil
	}
	body, readErr := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	resp.Body.Close()
	if readErr != nil {
		body = append(body, fmt.Sprintf(" (reading the rest of the answer: %v)", readErr)...)
	}
	text := fmt.Sprintf("%s%s [%s]", ResponseText(body), policyHint(resp.StatusCode, body), t.cloud)
	resp.Body = io.NopCloser(bytes.NewReader([]byte(text)))
	resp.ContentLength = int64(len(text))
	resp.Header.Set("Content-Type", "text/plain; charset=utf-8")
	resp.Header.Del("Content-Length")
	return resp, nil
}

// policyHints explain Glance's refusals by policy rule name (Glance's
// default policies, glance/policies/image.py) in terms of who may do it.
var policyHints = map[string]string{
	"publicize_image":   "Glance lets only admins make an image public (policy publicize_image): ask an admin, or use visibility community or shared",
	"communitize_image": "Glance's policy communitize_image does not let these credentials make an image community",
	"delete_image":      "Glance's policy delete_image does not let these credentials delete this image (it belongs to another project, or is protected by policy)",
	"modify_image":      "Glance's policy modify_image does not let these credentials change this image (it belongs to another project)",
}

// policyHint returns " (who may do it)" for a 403 naming a known policy rule.
func policyHint(status int, body []byte) string {
	if status != http.StatusForbidden {
		return ""
	}
	for rule, hint := range policyHints {
		if bytes.Contains(body, []byte(rule)) {
			return " (" + hint + ")"
		}
	}
	return ""
}
