package fetch

import (
	"strings"
	"testing"
)

// FuzzParseChecksum: any checksum text parses to a checksum Open accepts, in
// canonical form (reading its String again gives it back), or fails with an
// error that names the option; never a panic.
func FuzzParseChecksum(f *testing.F) {
	f.Add("sha256:" + strings.Repeat("ab", 32))
	f.Add("SHA512:" + strings.Repeat("C", 128))
	f.Add(strings.Repeat("0", 56))
	f.Add("md5:" + strings.Repeat("f", 32))
	f.Add("sha256:https://alice:pw@example.org/SHA256SUMS")
	f.Fuzz(func(t *testing.T, text string) {
		c, err := ParseChecksum(text)
		if err != nil {
			if !strings.Contains(err.Error(), "checksum") {
				t.Fatalf("the error does not name the option: %v", err)
			}
			return
		}
		if err := c.validate(); err != nil {
			t.Fatalf("ParseChecksum(%q) = %+v, which Open refuses: %v", text, c, err)
		}
		if c.FileURL != "" {
			return // String redacts the URL: it need not parse back to the same
		}
		again, err := ParseChecksum(c.String())
		if err != nil || again != c {
			t.Fatalf("ParseChecksum(%q) = %+v; its String %q reads back as %+v, %v", text, c, c.String(), again, err)
		}
	})
}

// FuzzParseChecksums: the two options together never panic, and a SHA-512
// given twice must agree.
func FuzzParseChecksums(f *testing.F) {
	f.Add("sha256:"+strings.Repeat("ab", 32), "sha512:"+strings.Repeat("cd", 64))
	f.Add("", strings.Repeat("cd", 64))
	f.Fuzz(func(t *testing.T, checksum, sha512 string) {
		sums, err := ParseChecksums(checksum, sha512)
		if err != nil {
			return
		}
		for _, c := range sums {
			if err := c.validate(); err != nil {
				t.Fatalf("ParseChecksums(%q, %q) gave %+v, which Open refuses: %v", checksum, sha512, c, err)
			}
		}
	})
}
