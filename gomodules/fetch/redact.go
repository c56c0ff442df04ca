package fetch

import "github.com/imageops/cloud/gomodules/redact"

// RedactURL returns rawURL fit for an error message or a result: the user
// information ("user:password@", any characters, unescaped "/" and "@"
// included) becomes "REDACTED@", and the value of each query parameter
// whose name contains sig, token, key, pass, secret, auth or credential (in
// any case) becomes "REDACTED". See package redact, which it calls.
func RedactURL(rawURL string) string { return redact.URL(rawURL) }
