package redact

import (
	"net/url"
	"strings"
)

// Redacted replaces every secret URL hides.
const Redacted = "REDACTED"

// secretQueryWords are the parts of a query parameter's name that mark its
// value as a secret: signed URLs (S3's X-Amz-Signature, X-Amz-Credential and
// X-Amz-Security-Token, Swift's temp_url_sig, Azure's sig and signature),
// tokens (access_token, token), API keys (apikey, api_key, key), passwords
// (password, passwd, pass) and secrets (client_secret, auth).
var secretQueryWords = []string{"sig", "token", "key", "pass", "secret", "auth", "credential"}

// Parts is a URL split as this package reads it.
type Parts struct {
	// Scheme is the text before "://", or "" when there is none.
	Scheme string
	// Userinfo is the user information as written (percent-encoded or
	// not), without its "@"; HasUserinfo tells an empty one from none.
	Userinfo    string
	HasUserinfo bool
	// Rest is what follows the user information: host, port, path, query
	// and fragment, as written.
	Rest string
}

// Split splits raw into its scheme, user information and the rest, taking
// the user information as the package documentation says. A string without
// "://" has neither scheme nor user information.
func Split(raw string) Parts {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return Parts{Rest: raw}
	}
	at := userinfoEnd(rest)
	if at < 0 {
		return Parts{Scheme: scheme, Rest: rest}
	}
	return Parts{Scheme: scheme, Userinfo: rest[:at], HasUserinfo: true, Rest: rest[at+1:]}
}

// userinfoEnd returns the index of the "@" that ends the user information
// in rest (a URL after its "scheme://"), or -1.
func userinfoEnd(rest string) int {
	end := strings.IndexAny(rest, "?#")
	if end < 0 {
		return strings.LastIndex(rest, "@")
	}
	if at := strings.LastIndex(rest[:end], "@"); at >= 0 {
		return at
	}
	if !strings.Contains(rest[:end], "/") {
		// "user:pa?ss@host/x": a "?" or "#" in the password.
		return strings.LastIndex(rest, "@")
	}
	return -1
}

// Username returns the user name of the user information (before its first
// ":"), and Password the password (after it) and whether there is one; both
// percent-decoded when they hold valid escapes, as written otherwise.
func (p Parts) Username() string {
	user, _, _ := strings.Cut(p.Userinfo, ":")
	return unescape(user)
}

// Password: see Username.
func (p Parts) Password() (string, bool) {
	_, password, ok := strings.Cut(p.Userinfo, ":")
	return unescape(password), ok
}

func unescape(s string) string {
	if decoded, err := url.PathUnescape(s); err == nil {
		return decoded
	}
	return s
}

// URL returns raw fit for an error message, a result or a Glance property:
// its user information becomes "REDACTED@" and the value of each query (or
// fragment) parameter whose name contains sig, token, key, pass, secret,
// auth or credential, in any case, becomes "REDACTED". Everything else is
// kept as written.
func URL(raw string) string {
	p := Split(raw)
	if p.Scheme == "" {
		return redactParameters(raw)
	}
	out := p.Scheme + "://"
	if p.HasUserinfo {
		out += Redacted + "@"
	}
	return out + redactParameters(p.Rest)
}

// redactParameters redacts the secret parameters of the query and the
// fragment of s, the part of a URL after its user information.
func redactParameters(s string) string {
	head, fragment, hasFragment := strings.Cut(s, "#")
	path, query, hasQuery := strings.Cut(head, "?")
	out := path
	if hasQuery {
		out += "?" + mapSecretValues(query, func(string) string { return Redacted })
	}
	if hasFragment {
		out += "#" + mapSecretValues(fragment, func(string) string { return Redacted })
	}
	return out
}

// mapSecretValues replaces the value of each secret parameter of an
// "a=1&b=2" list by what replace returns for it.
func mapSecretValues(list string, replace func(value string) string) string {
	parts := strings.Split(list, "&")
	for i, part := range parts {
		key, value, hasValue := strings.Cut(part, "=")
		if hasValue && value != "" && IsSecretParameter(key) {
			parts[i] = key + "=" + replace(value)
		}
	}
	return strings.Join(parts, "&")
}

// IsSecretParameter tells whether a query parameter's name (as written or
// percent-decoded) marks its value as a secret.
func IsSecretParameter(name string) bool {
	lower := strings.ToLower(unescapeQuery(name))
	for _, word := range secretQueryWords {
		if strings.Contains(lower, word) {
			return true
		}
	}
	return false
}

func unescapeQuery(s string) string {
	if decoded, err := url.QueryUnescape(s); err == nil {
		return decoded
	}
	return s
}

// Secrets returns the secrets written into raw, both as written and
// decoded (an error may show either): the password of the user
// information (or the whole user information when it has no password: a
// token), and the value of each secret query or fragment parameter. It
// returns nil for a string that is not a URL.
func Secrets(raw string) []string {
	p := Split(raw)
	if p.Scheme == "" {
		return nil
	}
	var out []string
	add := func(written, decoded string) {
		if written != "" {
			out = append(out, written)
		}
		if decoded != written && decoded != "" {
			out = append(out, decoded)
		}
	}
	if p.HasUserinfo {
		if password, ok := p.Password(); ok {
			_, written, _ := strings.Cut(p.Userinfo, ":")
			add(written, password)
		} else {
			add(p.Userinfo, p.Username())
		}
	}
	head, fragment, _ := strings.Cut(p.Rest, "#")
	_, query, _ := strings.Cut(head, "?")
	for _, list := range []string{query, fragment} {
		mapSecretValues(list, func(value string) string {
			add(value, unescapeQuery(value))
			return value
		})
	}
	return out
}

// ParseURL parses raw as url.Parse does, except that the user information
// is what Split finds, so that a password with an unescaped "/" or "@" is a
// password (sent as Basic authentication by net/http) rather than taken for
// a host and a path. The *url.URL's String() has it percent-encoded.
func ParseURL(raw string) (*url.URL, error) {
	parts := Split(raw)
	if !parts.HasUserinfo {
		return url.Parse(raw)
	}
	u, err := url.Parse(parts.Scheme + "://" + parts.Rest)
	if err != nil {
		return nil, err
	}
	if password, ok := parts.Password(); ok {
		u.User = url.UserPassword(parts.Username(), password)
	} else {
		u.User = url.User(parts.Username())
	}
	return u, nil
}
