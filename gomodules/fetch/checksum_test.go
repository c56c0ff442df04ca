package fetch

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseChecksum(t *testing.T) {
	h256 := strings.Repeat("0a", 32)
	h512 := strings.Repeat("b1", 64)
	accepted := map[string]Checksum{
		"sha256:" + h256:                   {SHA256, h256},
		"sha512:" + h512:                   {SHA512, h512},
		"SHA256:" + strings.ToUpper(h256):  {SHA256, h256},
		"  " + h256 + "\n":                 {SHA256, h256},
		h512:                               {SHA512, h512},
		"sha512: " + strings.ToUpper(h512): {SHA512, h512},
	}
	for in, want := range accepted {
		got, err := ParseChecksum(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
		assert.NoError(t, got.validate())
	}

	refusedInputs := map[string]string{
		"":                                     `checksum "": empty; expected sha256:<64 hex digits>, sha512:<128 hex digits>, or 64 or 128 bare hex digits`,
		"md5:d41d8cd98f00b204e9800998ecf8427e": `checksum "md5:d41d8cd98f00b204e9800998ecf8427e": md5 is not accepted; expected sha256:`,
		"d41d8cd98f00b204e9800998ecf8427e":     `32 hex digits look like md5, which is not accepted`,
		strings.Repeat("a", 40):                `40 hex digits look like sha1, which is not accepted`,
		"sha1:" + strings.Repeat("a", 40):      `sha1 is not accepted`,
		"crc32:1234abcd":                       `unknown algorithm "crc32"`,
		"sha256:" + h512:                       `sha256 needs 64 hex digits, got 128`,
		"sha256:" + strings.Repeat("g", 64):    `is not hex digits`,
		strings.Repeat("a", 63):                `63 hex digits match no accepted algorithm`,
		h256 + "  ubuntu-24.04.img":            `is not hex digits`,
	}
	for in, want := range refusedInputs {
		_, err := ParseChecksum(in)
		require.Error(t, err, in)
		assert.Contains(t, err.Error(), want)
	}
}

func TestParseChecksums(t *testing.T) {
	h256 := strings.Repeat("0a", 32)
	h512 := strings.Repeat("b1", 64)
	other512 := strings.Repeat("c2", 64)

	sums, err := ParseChecksums("", "")
	require.NoError(t, err)
	assert.Empty(t, sums)

	sums, err = ParseChecksums("sha256:"+h256, h512)
	require.NoError(t, err)
	assert.Equal(t, []Checksum{{SHA256, h256}, {SHA512, h512}}, sums, "both are verified")

	sums, err = ParseChecksums(h512, "sha512:"+h512)
	require.NoError(t, err)
	assert.Equal(t, []Checksum{{SHA512, h512}}, sums, "the same digest twice is verified once")

	_, err = ParseChecksums(h512, other512)
	assert.ErrorContains(t, err, "two different SHA-512 digests cannot both match")

	_, err = ParseChecksums("", h256)
	assert.ErrorContains(t, err, `checksum_sha512 "`+h256+`": this is a sha256 digest`)

	_, err = ParseChecksums("md5:abc", "")
	assert.ErrorContains(t, err, `checksum "md5:abc": md5 is not accepted`)
	_, err = ParseChecksums("", "sha512:xyz")
	assert.ErrorContains(t, err, `checksum_sha512 "sha512:xyz": "xyz" is not hex digits`)
}
