// Package redact finds the credentials written into URLs and hides them, so
// that a source URL can be shown in a result, an error, a diff or a Glance
// property without what it carries: the user information of RFC 3986
// section 3.2.1 ("user:password@", "token@") and the values of query
// parameters that carry credentials (signed URLs' X-Amz-Signature,
// X-Amz-Credential and X-Amz-Security-Token, Swift's temp_url_sig, Azure's
// sig, access_token, apikey, api_key, password, ...).
//
// People paste passwords into URLs without percent-encoding them, so the
// user information is taken as everything from "scheme://" up to the last
// "@" before the query: a password may hold an unescaped "/", "@" or ":".
// (An "@" in the path must then be written %40.) When no "@" comes before
// the query but one comes after it, and no "/" does, the password is taken
// to hold an unescaped "?" or "#", and everything up to the last "@" is
// user information.
//
//	redact.URL("https://bob:pa/ss@example.org/x.img?X-Amz-Signature=ff")
//	// "https://REDACTED@example.org/x.img?X-Amz-Signature=REDACTED"
//
// Split gives the parts of such a URL for a client that must use them, and
// Secrets the secret strings themselves, for masking wherever they appear.
package redact
