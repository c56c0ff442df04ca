package fetch

import (
	"net/url"
	"strings"
)

// redacted replaces every secret RedactURL hides.
const redacted = "REDACTED"

// secretQueryWords are the parts of a query parameter's name that mark its
// value as a secret: signed URLs (S3's X-Amz-Signature and X-Amz-Credential,
// Swift's temp_url_sig, Azure's sig), tokens, API keys and passwords.
var secretQueryWords = []string{"sig", "token", "key", "pass", "secret", "auth", "credential"}

// RedactURL returns rawURL fit for an error message or a result: the userinfo
// part (RFC 3986 section 3.2.1, "user:password@") becomes "REDACTED@", and the
// value of each query parameter whose name contains sig, token, key, pass,
// secret, auth or credential (in any case) becomes "REDACTED". A string that
// does not parse as a URL keeps only what cannot be a credential: its text
// up to "://", then "REDACTED" if an "@" follows, and the rest after it.
func RedactURL(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return redactUnparsable(rawURL)
	}
	return redactParsed(u)
}

func redactParsed(u *url.URL) string {
	c := *u
	if c.User != nil {
		c.User = url.User(redacted)
	}
	if c.RawQuery != "" {
		c.RawQuery = redactQuery(c.RawQuery)
	}
	return c.String()
}

func redactQuery(q string) string {
	parts := strings.Split(q, "&")
	for i, p := range parts {
		k, _, hasValue := strings.Cut(p, "=")
		name, err := url.QueryUnescape(k)
		if err != nil {
			name = k
		}
		name = strings.ToLower(name)
		for _, w := range secretQueryWords {
			if strings.Contains(name, w) {
				if hasValue {
					parts[i] = k + "=" + redacted
				}
				break
			}
		}
	}
	return strings.Join(parts, "&")
}

func redactUnparsable(s string) string {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		if i := strings.LastIndex(s, "@"); i >= 0 {
			return redacted + s[i:]
		}
		return s
	}
	authority, path := rest, ""
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority, path = rest[:i], rest[i:]
	}
	if i := strings.LastIndex(authority, "@"); i >= 0 {
		authority = redacted + authority[i:]
	} else if i := strings.LastIndex(path, "@"); i >= 0 {
		// An "@" after a "/" in the userinfo: the authority ended too early.
		return scheme + "://" + redacted + path[i:]
	}
	return scheme + "://" + authority + redactQueryIn(path)
}

func redactQueryIn(path string) string {
	p, q, ok := strings.Cut(path, "?")
	if !ok {
		return path
	}
	frag := ""
	if i := strings.Index(q, "#"); i >= 0 {
		q, frag = q[:i], q[i:]
	}
	return p + "?" + redactQuery(q) + frag
}
