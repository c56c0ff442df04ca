package imageref

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestParse(t *testing.T) {
	cases := []struct {
		in   string
		want Reference
	}{
		{"nginx", Reference{"docker.io", "library/nginx", "latest", ""}},
		{"docker.io/nginx:1.25", Reference{"docker.io", "library/nginx", "1.25", ""}},
		{"index.docker.io/bitnami/redis:7", Reference{"docker.io", "bitnami/redis", "7", ""}},
		{"quay.io/ceph/ceph:v18", Reference{"quay.io", "ceph/ceph", "v18", ""}},
		{"127.0.0.1:5000/a/b", Reference{"127.0.0.1:5000", "a/b", "latest", ""}},
		{"127.0.0.1:5000/a/b@" + digest, Reference{"127.0.0.1:5000", "a/b", "", digest}},
		{"quay.io/ceph/ceph:v18@" + digest, Reference{"quay.io", "ceph/ceph", "v18", digest}},
		{"localhost:5000/x:tag@" + digest, Reference{"localhost:5000", "x", "tag", digest}},
	}
	for _, c := range cases {
		got, err := Parse(c.in)
		require.NoError(t, err, c.in)
		assert.Equal(t, c.want, got, c.in)
	}
}

func TestParseRoundTrip(t *testing.T) {
	for _, in := range []string{"quay.io/ceph/ceph:v18@" + digest, "docker.io/library/nginx:latest", "r.example.com/a@" + digest} {
		ref, err := Parse(in)
		require.NoError(t, err)
		assert.Equal(t, in, ref.String())
		again, err := Parse(ref.String())
		require.NoError(t, err)
		assert.Equal(t, ref, again)
	}
}

func TestParseErrorsQuoteInput(t *testing.T) {
	for _, in := range []string{"", "UPPER/case", "a:b:c:d", "repo@sha256:short", "a@b@c", "repo:"} {
		_, err := Parse(in)
		require.Error(t, err, in)
		assert.True(t, errors.Is(err, ErrInvalid), in)
		if in != "" {
			assert.Contains(t, err.Error(), `"`+in+`"`)
		}
		assert.Contains(t, err.Error(), "expected [registry/]repository[:tag][@sha256:<64 hex digits>]", in)
	}
}

func TestGGCRKeepsDigestOverTag(t *testing.T) {
	ref := MustParse("quay.io/ceph/ceph:v18@" + digest)
	g, err := ref.GGCR()
	require.NoError(t, err)
	assert.Equal(t, digest, g.Identifier())
	tag, err := ref.TagRef()
	require.NoError(t, err)
	assert.Equal(t, "v18", tag.TagStr())
	_, err = MustParse("a@" + digest).TagRef()
	assert.Error(t, err)
}

func TestDigestTag(t *testing.T) {
	assert.Equal(t, "sha256-"+digest[len("sha256:"):], DigestTag(digest))
	long := "sha512:" + strings.Repeat("ab", 64)
	assert.Len(t, DigestTag(long), 128)
	_, err := MustParse("r.example.com/x@" + digest).Pinned(digest).TagRef()
	assert.Error(t, err, "a digest-only reference has no tag of its own")
}
