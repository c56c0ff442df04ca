package redact

import (
	"strings"
	"testing"
)

// FuzzURL: any string redacts without a panic, and redacting twice changes
// nothing more (what URL shows is already safe to show).
func FuzzURL(f *testing.F) {
	f.Add("https://alice:pw@example.org/x.img?X-Amz-Signature=ff&page=2")
	f.Add("http://bob:pa/ss@w0rd@127.0.0.1:8080/a@b?sig=1#access_token=2")
	f.Add("/srv/images/x.img")
	f.Fuzz(func(t *testing.T, raw string) {
		once := URL(raw)
		if twice := URL(once); twice != once {
			t.Fatalf("URL(%q) = %q, and again %q", raw, once, twice)
		}
	})
}

// FuzzURLCredentials: whatever a password and a query secret hold (any
// characters but "?" and "#", which must be percent-encoded in a password),
// a URL built with them shows neither once redacted; Secrets names both;
// ParseURL hands the password back whole with the right host.
func FuzzURLCredentials(f *testing.F) {
	f.Add("alice", "pa/ss@w:rd", "X-Amz-Signature", "0123abcd")
	f.Add("bob@example.org", "@@//::", "access_token", "tok/en@x")
	f.Add("carol", "%2F%40", "apikey", "k%26")
	f.Fuzz(func(t *testing.T, user, password, parameter, secret string) {
		if strings.ContainsAny(user, ":/?#@%&=") || strings.ContainsAny(password, "?#") ||
			strings.ContainsAny(parameter, "&=#?%+") || strings.ContainsAny(secret, "&#%+") || !IsSecretParameter(parameter) ||
			!printable(user+password+parameter+secret) {
			t.Skip()
		}
		raw := "https://" + user + ":" + password + "@images.example.org:8443/v1/x.img?page=2&" + parameter + "=" + secret
		shown := URL(raw)
		for _, hidden := range []string{password, secret} {
			if len(hidden) >= 4 && !strings.Contains("https://REDACTED@images.example.org:8443/v1/x.img?page=2&"+parameter+"=REDACTED", hidden) &&
				strings.Contains(shown, hidden) {
				t.Fatalf("URL(%q) = %q shows %q", raw, shown, hidden)
			}
		}
		found := strings.Join(Secrets(raw), "\x00")
		for _, hidden := range []string{password, secret} {
			if hidden != "" && !strings.Contains(found, hidden) {
				t.Fatalf("Secrets(%q) = %q misses %q", raw, Secrets(raw), hidden)
			}
		}
		u, err := ParseURL(raw)
		if err != nil {
			t.Fatalf("ParseURL(%q): %v", raw, err)
		}
		if got, _ := u.User.Password(); u.Hostname() != "images.example.org" || got != unescape(password) {
			t.Fatalf("ParseURL(%q) gave host %q password %q", raw, u.Hostname(), got)
		}
	})
}

// printable tells whether s has no control characters or spaces, which no
// URL holds unescaped (url.Parse refuses them).
func printable(s string) bool {
	for _, r := range s {
		if r <= ' ' || r == 0x7f {
			return false
		}
	}
	return true
}
