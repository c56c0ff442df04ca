package registryaccess_test

import (
	"context"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageops/cloud/gomodules/imageref"
	"github.com/imageops/cloud/gomodules/mirror/mirrortest"
	"github.com/imageops/cloud/gomodules/registryaccess"
)

// TestResolve: a tag costs a HEAD and gives the digest the registry has; a
// pinned reference keeps its digest, even one the registry does not have; a
// missing tag is an error naming the reference and the reason, and the
// digests found are still returned.
func TestResolve(t *testing.T) {
	reg := mirrortest.Start(t)
	img, err := mirrortest.Image(v1.Platform{OS: "linux", Architecture: "amd64"}, "resolve", mirrortest.RealFiles()...)
	require.NoError(t, err)
	tagged := reg.Host + "/openstack/glance:2024.1"
	want, err := mirrortest.Push(context.Background(), tagged, img)
	require.NoError(t, err)
	absentDigest := "sha256:" + strings.Repeat("0", 64)
	refs := []imageref.Reference{imageref.MustParse(tagged), imageref.MustParse(reg.Host + "/openstack/nova:1@" + absentDigest)}

	got, err := registryaccess.Resolve(context.Background(), refs)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{refs[0].String(): want, refs[1].String(): absentDigest}, got)

	missing := imageref.MustParse(reg.Host + "/openstack/nope:1")
	fast := registryaccess.WithRetry(remote.Backoff{Duration: 10 * time.Millisecond, Factor: 2, Steps: 2})
	got, err = registryaccess.Resolve(context.Background(), append(refs, missing), fast)
	require.Error(t, err)
	assert.Contains(t, err.Error(), missing.String())
	assert.Contains(t, err.Error(), "(not found)")
	assert.Equal(t, want, got[refs[0].String()], "the digests found are returned with the error")
}

// TestResolveRejectsBadOptions: a bad option is an error before any request.
func TestResolveRejectsBadOptions(t *testing.T) {
	_, err := registryaccess.Resolve(context.Background(), nil, registryaccess.WithCACert("/nonexistent/ca.pem"))
	assert.ErrorContains(t, err, "reading the CA certificates /nonexistent/ca.pem")
}
