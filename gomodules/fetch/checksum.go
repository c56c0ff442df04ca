package fetch

import (
	"errors"
	"fmt"
	"strings"
)

// Algorithm names a hash function accepted for checksums. Both are defined by
// FIPS 180-4 (Secure Hash Standard).
type Algorithm string

const (
	// SHA256 is SHA-256: a 32-byte digest written as 64 hex digits.
	SHA256 Algorithm = "sha256"
	// SHA512 is SHA-512: a 64-byte digest written as 128 hex digits. Glance's
	// default os_hash_algo.
	SHA512 Algorithm = "sha512"
)

// hexLen is the number of hex digits of each accepted algorithm's digest.
var hexLen = map[Algorithm]int{SHA256: 64, SHA512: 128}

// refused names, by prefix and by bare hex length, the digests people paste
// that are not accepted, so that the error can say what was recognised.
var refused = map[string]int{"md5": 32, "sha1": 40, "sha224": 56, "sha384": 96}

// expectedChecksumForm is the end of every checksum parse error.
const expectedChecksumForm = "expected sha256:<64 hex digits>, sha512:<128 hex digits>, or 64 or 128 bare hex digits"

// Checksum is the expected digest of a source's bytes as downloaded.
type Checksum struct {
	// Algorithm is SHA256 or SHA512.
	Algorithm Algorithm
	// Hex is the digest in lowercase hex: 64 digits for SHA256, 128 for SHA512.
	Hex string
}

// String returns the checksum as "<algorithm>:<hex>", the form ParseChecksum
// reads and Ansible's get_url module writes.
func (c Checksum) String() string { return string(c.Algorithm) + ":" + c.Hex }

// validate reports whether c is a checksum Open can verify.
func (c Checksum) validate() error {
	want, ok := hexLen[c.Algorithm]
	if !ok {
		return fmt.Errorf("checksum %q: algorithm %q is not accepted; %s", c.String(), c.Algorithm, expectedChecksumForm)
	}
	if len(c.Hex) != want || !isLowerHex(c.Hex) {
		return fmt.Errorf("checksum %q: %s needs %d lowercase hex digits", c.String(), c.Algorithm, want)
	}
	return nil
}

// ParseChecksum reads a checksum as the checksum option takes it:
// "sha256:<64 hex digits>", "sha512:<128 hex digits>", or bare hex digits,
// whose algorithm is inferred from their number (64: SHA-256, 128: SHA-512).
// The algorithm prefix and the digits are case-insensitive and surrounding
// white space is ignored; the returned Hex is lowercase.
//
// MD5 and SHA-1 (and SHA-224, SHA-384) are refused, with an error naming the
// value and the accepted forms, as is anything else.
func ParseChecksum(s string) (Checksum, error) {
	return parseChecksum("checksum", s)
}

// ParseChecksums reads community_image's two checksum options into the list
// WithChecksums takes. checksum is in any form ParseChecksum reads;
// checksumSHA512 must be a SHA-512 digest, with or without the "sha512:"
// prefix. Empty strings mean "not given"; when both are given both are
// verified. Errors name the option ("checksum" or "checksum_sha512"), its
// value and the expected form; two different SHA-512 digests are refused since
// no stream could match both.
func ParseChecksums(checksum, checksumSHA512 string) ([]Checksum, error) {
	var sums []Checksum
	if strings.TrimSpace(checksum) != "" {
		c, err := parseChecksum("checksum", checksum)
		if err != nil {
			return nil, err
		}
		sums = append(sums, c)
	}
	if strings.TrimSpace(checksumSHA512) != "" {
		c, err := parseChecksum("checksum_sha512", checksumSHA512)
		if err != nil {
			return nil, err
		}
		if c.Algorithm != SHA512 {
			return nil, fmt.Errorf("checksum_sha512 %q: this is a %s digest; expected sha512:<128 hex digits> or 128 bare hex digits", checksumSHA512, c.Algorithm)
		}
		if len(sums) == 1 && sums[0].Algorithm == SHA512 {
			if sums[0].Hex != c.Hex {
				return nil, fmt.Errorf("checksum %q and checksum_sha512 %q: two different SHA-512 digests cannot both match; give one", checksum, checksumSHA512)
			}
			return sums, nil
		}
		sums = append(sums, c)
	}
	return sums, nil
}

func parseChecksum(field, s string) (Checksum, error) {
	v := strings.TrimSpace(s)
	if v == "" {
		return Checksum{}, fmt.Errorf("%s %q: empty; %s", field, s, expectedChecksumForm)
	}
	algo, digits, hasPrefix := strings.Cut(v, ":")
	if !hasPrefix {
		digits, algo = v, ""
	}
	algo = strings.ToLower(strings.TrimSpace(algo))
	digits = strings.ToLower(strings.TrimSpace(digits))
	if !isLowerHex(digits) {
		return Checksum{}, fmt.Errorf("%s %q: %q is not hex digits; %s", field, s, digits, expectedChecksumForm)
	}
	if !hasPrefix {
		for a, n := range hexLen {
			if len(digits) == n {
				return Checksum{Algorithm: a, Hex: digits}, nil
			}
		}
		for name, n := range refused {
			if len(digits) == n {
				return Checksum{}, fmt.Errorf("%s %q: %d hex digits look like %s, which is not accepted; %s", field, s, n, name, expectedChecksumForm)
			}
		}
		return Checksum{}, fmt.Errorf("%s %q: %d hex digits match no accepted algorithm; %s", field, s, len(digits), expectedChecksumForm)
	}
	want, ok := hexLen[Algorithm(algo)]
	if !ok {
		if _, known := refused[algo]; known {
			return Checksum{}, fmt.Errorf("%s %q: %s is not accepted; %s", field, s, algo, expectedChecksumForm)
		}
		return Checksum{}, fmt.Errorf("%s %q: unknown algorithm %q; %s", field, s, algo, expectedChecksumForm)
	}
	if len(digits) != want {
		return Checksum{}, fmt.Errorf("%s %q: %s needs %d hex digits, got %d; %s", field, s, algo, want, len(digits), expectedChecksumForm)
	}
	return Checksum{Algorithm: Algorithm(algo), Hex: digits}, nil
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
