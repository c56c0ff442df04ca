package fetch

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"hash"
	"net/url"
	"strings"
)

// Algorithm names a hash function accepted for checksums, as Ansible's
// get_url module names them in its checksum option.
type Algorithm string

const (
	// MD5 is MD5 (RFC 1321): 32 hex digits. Weak: collisions are cheap.
	MD5 Algorithm = "md5"
	// SHA1 is SHA-1 (FIPS 180-4): 40 hex digits. Weak: collisions are
	// practical.
	SHA1 Algorithm = "sha1"
	// SHA224 is SHA-224 (FIPS 180-4): 56 hex digits.
	SHA224 Algorithm = "sha224"
	// SHA256 is SHA-256 (FIPS 180-4): 64 hex digits.
	SHA256 Algorithm = "sha256"
	// SHA384 is SHA-384 (FIPS 180-4): 96 hex digits.
	SHA384 Algorithm = "sha384"
	// SHA512 is SHA-512 (FIPS 180-4): 128 hex digits. Glance's default
	// os_hash_algo.
	SHA512 Algorithm = "sha512"
)

// hexLen is the number of hex digits of each accepted algorithm's digest.
var hexLen = map[Algorithm]int{MD5: 32, SHA1: 40, SHA224: 56, SHA256: 64, SHA384: 96, SHA512: 128}

// inferredByLength are the algorithms whose bare digests (no "<algorithm>:")
// are accepted, by number of hex digits. The weak ones need their prefix, so
// that nobody verifies with MD5 or SHA-1 without saying so.
var inferredByLength = map[int]Algorithm{56: SHA224, 64: SHA256, 96: SHA384, 128: SHA512}

// expectedChecksumForm is the end of every checksum parse error.
const expectedChecksumForm = "expected <algorithm>:<hex digits> or <algorithm>:<URL of a checksum file> " +
	"(algorithm md5, sha1, sha224, sha256, sha384 or sha512), or bare sha224/sha256/sha384/sha512 hex digits"

// Weak tells whether a matching digest proves nothing against a deliberate
// change of the data: MD5 and SHA-1, whose collisions can be computed. They
// still catch a truncated or corrupted download.
func (a Algorithm) Weak() bool { return a == MD5 || a == SHA1 }

// newHash returns a fresh hash.Hash for an accepted algorithm.
func (a Algorithm) newHash() hash.Hash {
	switch a {
	case MD5:
		return md5.New()
	case SHA1:
		return sha1.New()
	case SHA224:
		return sha256.New224()
	case SHA384:
		return sha512.New384()
	case SHA512:
		return sha512.New()
	}
	return sha256.New()
}

// Checksum is the expected digest of a source's bytes as downloaded: either
// the digest itself (Hex), or where to find it (FileURL), a checksum file
// that Open reads first.
type Checksum struct {
	// Algorithm is one of MD5, SHA1, SHA224, SHA256, SHA384 and SHA512.
	Algorithm Algorithm
	// Hex is the digest in lowercase hex, hexLen digits long; empty when
	// FileURL gives it.
	Hex string
	// FileURL is the http, https or file URL of a checksum file (as
	// sha256sum writes it, or BSD-style "SHA256 (name) = hex") that lists the
	// digest under the source's file name; empty when Hex is given.
	FileURL string
}

// String returns the checksum as "<algorithm>:<hex>" or
// "<algorithm>:<checksum file URL>" (redacted by RedactURL), the forms
// ParseChecksum reads and Ansible's get_url module takes.
func (c Checksum) String() string {
	if c.FileURL != "" {
		return string(c.Algorithm) + ":" + RedactURL(c.FileURL)
	}
	return string(c.Algorithm) + ":" + c.Hex
}

// Weak tells whether the checksum's algorithm is weak (Algorithm.Weak).
func (c Checksum) Weak() bool { return c.Algorithm.Weak() }

// validate reports whether c is a checksum Open can verify.
func (c Checksum) validate() error {
	want, ok := hexLen[c.Algorithm]
	if !ok {
		return fmt.Errorf("checksum %q: algorithm %q is not accepted; %s", c.String(), c.Algorithm, expectedChecksumForm)
	}
	if c.FileURL != "" {
		if c.Hex != "" {
			return fmt.Errorf("checksum %q: gives both a digest and a checksum file; expected one", c.String())
		}
		_, err := parseLocation(c.FileURL)
		return err
	}
	if len(c.Hex) != want || !isLowerHex(c.Hex) {
		return fmt.Errorf("checksum %q: %s needs %d lowercase hex digits", c.String(), c.Algorithm, want)
	}
	return nil
}

// ParseChecksum reads a checksum in any form Ansible's get_url module takes:
// "<algorithm>:<hex digits>" or "<algorithm>:<URL of a checksum file>", with
// algorithm md5, sha1, sha224, sha256, sha384 or sha512. Bare hex digits are
// accepted too when their number names a SHA-2 algorithm (56, 64, 96 or 128);
// MD5 and SHA-1 need their prefix. The algorithm and the digits are
// case-insensitive and surrounding white space is ignored; the returned Hex
// is lowercase. A checksum file URL is http, https or file; Open reads it.
//
// Anything else is an error naming the value and the accepted forms.
func ParseChecksum(s string) (Checksum, error) {
	return parseChecksum("checksum", s)
}

// ParseChecksums reads community_image's two checksum options into the list
// WithChecksums takes. checksum is in any form ParseChecksum reads;
// checksumSHA512 must be a SHA-512 digest (with or without the "sha512:"
// prefix) or "sha512:<URL of a checksum file>". Empty strings mean "not
// given"; when both are given both are verified. Errors name the option
// ("checksum" or "checksum_sha512"), its value and the expected form; two
// different SHA-512 digests are refused since no stream could match both.
func ParseChecksums(checksum, checksumSHA512 string) ([]Checksum, error) {
	var sums []Checksum
	if strings.TrimSpace(checksum) != "" {
		c, err := parseChecksum("checksum", checksum)
		if err != nil {
			return nil, err
		}
		sums = append(sums, c)
	}
	if strings.TrimSpace(checksumSHA512) == "" {
		return sums, nil
	}
	c, err := parseChecksum("checksum_sha512", checksumSHA512)
	if err != nil {
		return nil, err
	}
	if c.Algorithm != SHA512 {
		return nil, fmt.Errorf("checksum_sha512 %q: this is a %s checksum; expected sha512:<128 hex digits>, 128 bare hex digits or sha512:<URL of a checksum file>",
			redactChecksumText(checksumSHA512), c.Algorithm)
	}
	if len(sums) == 1 && sums[0].Algorithm == SHA512 && sums[0].Hex != "" && c.Hex != "" {
		if sums[0].Hex != c.Hex {
			return nil, fmt.Errorf("checksum %q and checksum_sha512 %q: two different SHA-512 digests cannot both match; give one", checksum, checksumSHA512)
		}
		return sums, nil
	}
	return append(sums, c), nil
}

func parseChecksum(field, s string) (Checksum, error) {
	v := strings.TrimSpace(s)
	shown := redactChecksumText(s)
	if v == "" {
		return Checksum{}, fmt.Errorf("%s %q: empty; %s", field, shown, expectedChecksumForm)
	}
	algo, rest, hasPrefix := strings.Cut(v, ":")
	if !hasPrefix {
		return parseBareChecksum(field, shown, strings.ToLower(v))
	}
	a := Algorithm(strings.ToLower(strings.TrimSpace(algo)))
	want, ok := hexLen[a]
	if !ok {
		return Checksum{}, fmt.Errorf("%s %q: unknown algorithm %q; %s", field, shown, algo, expectedChecksumForm)
	}
	rest = strings.TrimSpace(rest)
	if isChecksumFileURL(rest) {
		c := Checksum{Algorithm: a, FileURL: rest}
		if err := c.validate(); err != nil {
			return Checksum{}, fmt.Errorf("%s %q: the checksum file's %w", field, shown, err)
		}
		return c, nil
	}
	digits := strings.ToLower(rest)
	if !isLowerHex(digits) {
		return Checksum{}, fmt.Errorf("%s %q: %q is neither hex digits nor an http, https or file URL; %s", field, shown, rest, expectedChecksumForm)
	}
	if len(digits) != want {
		return Checksum{}, fmt.Errorf("%s %q: %s needs %d hex digits, got %d; %s", field, shown, a, want, len(digits), expectedChecksumForm)
	}
	return Checksum{Algorithm: a, Hex: digits}, nil
}

func parseBareChecksum(field, shown, digits string) (Checksum, error) {
	if !isLowerHex(digits) {
		return Checksum{}, fmt.Errorf("%s %q: %q is not hex digits; %s", field, shown, digits, expectedChecksumForm)
	}
	if a, ok := inferredByLength[len(digits)]; ok {
		return Checksum{Algorithm: a, Hex: digits}, nil
	}
	for _, weak := range []Algorithm{MD5, SHA1} {
		if hexLen[weak] == len(digits) {
			return Checksum{}, fmt.Errorf("%s %q: %d hex digits look like %s, which is weak and must be named: write %s:<hex>; %s",
				field, shown, len(digits), weak, weak, expectedChecksumForm)
		}
	}
	return Checksum{}, fmt.Errorf("%s %q: %d hex digits match no accepted algorithm; %s", field, shown, len(digits), expectedChecksumForm)
}

// isChecksumFileURL tells whether the part after "<algorithm>:" is a URL,
// as get_url decides it: by its scheme.
func isChecksumFileURL(s string) bool {
	scheme, _, found := strings.Cut(s, "://")
	if !found {
		return false
	}
	switch strings.ToLower(scheme) {
	case "http", "https", "file":
		return true
	}
	return false
}

// redactChecksumText hides the credentials of a checksum file URL in a
// checksum as the user wrote it.
func redactChecksumText(s string) string {
	algo, rest, found := strings.Cut(s, ":")
	if !found || !isChecksumFileURL(strings.TrimSpace(rest)) {
		return s
	}
	return algo + ":" + RedactURL(strings.TrimSpace(rest))
}

func isLowerHex(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// sourceFileName is the name a checksum file lists a source under: the last
// segment of its URL's path, unescaped, as get_url's url_filename takes it.
func sourceFileName(sourceURL string) string {
	path := sourceURL
	if u, err := url.Parse(sourceURL); err == nil && u.Scheme != "" {
		path = u.Path
	}
	if i := strings.LastIndex(path, "/"); i >= 0 {
		path = path[i+1:]
	}
	return path
}

// ErrNoChecksumEntry is matched (errors.Is) by the error of a checksum file
// that lists no digest for the source's file name.
var ErrNoChecksumEntry = errors.New("no checksum for the file")

// findInChecksumFile returns the digest a checksum file gives for name. It
// reads what get_url reads, GNU coreutils' "<hex>  <name>" lines (a "*"
// before the name marks binary mode; a leading "./" is ignored) and a file
// holding one bare digest, and also BSD-style "<ALGO> (<name>) = <hex>"
// lines (sha256sum --tag, Fedora's CHECKSUM files). Other lines (comments,
// PGP armour) are skipped. The first entry for name wins.
func findInChecksumFile(text string, algo Algorithm, name, fileURL string) (string, error) {
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	if fields := strings.Fields(text); len(fields) == 1 && isLowerHex(strings.ToLower(fields[0])) {
		return checkListedDigest(strings.ToLower(fields[0]), algo, name, fileURL)
	}
	for _, line := range lines {
		digest, listed, ok := parseChecksumLine(line, algo)
		if ok && listed == name {
			return checkListedDigest(digest, algo, name, fileURL)
		}
	}
	return "", fmt.Errorf("checksum file %q lists no %s checksum for %q (the source's file name): %w",
		RedactURL(fileURL), algo, name, ErrNoChecksumEntry)
}

// parseChecksumLine reads one line of a checksum file: the digest and the
// file name it is for.
func parseChecksumLine(line string, algo Algorithm) (digest, name string, ok bool) {
	line = strings.TrimRight(line, " \t")
	if tag, rest, found := strings.Cut(line, " ("); found && strings.Contains(rest, ") = ") {
		if !strings.EqualFold(strings.ReplaceAll(tag, "-", ""), string(algo)) {
			return "", "", false
		}
		i := strings.LastIndex(rest, ") = ")
		return strings.ToLower(rest[i+len(") = "):]), rest[:i], true
	}
	digest, name, found := strings.Cut(line, " ")
	if !found || !isLowerHex(strings.ToLower(digest)) {
		return "", "", false
	}
	if strings.HasPrefix(name, " ") || strings.HasPrefix(name, "*") {
		name = name[1:]
	}
	return strings.ToLower(digest), strings.TrimPrefix(name, "./"), true
}

func checkListedDigest(digest string, algo Algorithm, name, fileURL string) (string, error) {
	if len(digest) != hexLen[algo] || !isLowerHex(digest) {
		// The value is not quoted: what a downloaded file holds is never shown.
		return "", fmt.Errorf("checksum file %q gives a %d-character value for %q, which is not a %s digest (%d hex digits)",
			RedactURL(fileURL), len(digest), name, algo, hexLen[algo])
	}
	return digest, nil
}

// ErrChecksumMismatch is matched (errors.Is) by every *ChecksumMismatchError:
// the bytes downloaded do not have the digest the caller expected.
var ErrChecksumMismatch = errors.New("checksum mismatch")

// ChecksumMismatchError reports a source whose downloaded bytes do not have an
// expected digest. Source.Read returns it in place of io.EOF.
type ChecksumMismatchError struct {
	// URL is the source, redacted as by RedactURL.
	URL string
	// Algorithm is the hash function that disagreed.
	Algorithm Algorithm
	// Expected is the digest the caller gave, Actual the digest of the bytes
	// downloaded; both lowercase hex.
	Expected, Actual string
}

// Error says which source, which algorithm, and both digests.
func (e *ChecksumMismatchError) Error() string {
	return fmt.Sprintf("verifying %q: %s checksum mismatch: expected %s, got %s", e.URL, e.Algorithm, e.Expected, e.Actual)
}

// Is makes errors.Is(err, ErrChecksumMismatch) true.
func (e *ChecksumMismatchError) Is(target error) bool { return target == ErrChecksumMismatch }
