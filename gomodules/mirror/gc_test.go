package mirror_test

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageops/cloud/gomodules/imageref"
	"github.com/imageops/cloud/gomodules/mirror"
	"github.com/imageops/cloud/gomodules/mirror/mirrortest"
)

// A reference known only by its digest (Atmosphere has such entries, e.g.
// ghcr.io/carvel-dev/secretgen-controller@sha256:...) must still be at the
// target after the registry's garbage collection of untagged manifests.
func TestDigestOnlyImagesSurviveGarbageCollection(t *testing.T) {
	src := startSource(t)
	dst := mirrortest.Start(t)
	ctx := context.Background()
	single := src.reg.Host + "/openstack/keystone@" + src.singleD
	multi := src.reg.Host + "/ceph/ceph@" + src.multiD
	todo := jobs(t, dst.Host+"/mirror", imageref.Flatten, map[string]string{"keystone": single, "ceph": multi})

	report, err := mirror.Mirror(ctx, todo, mirror.WithInsecure(dst.Host))
	require.NoError(t, err)
	require.Empty(t, report.Failed)
	require.Len(t, report.Copied, 2)

	// The control: a manifest pushed by digest alone, as a copy to
	// "repo@sha256:..." leaves it, which the collection must delete. Its
	// repository has a tagged image too: distribution 2.8 fails to collect
	// a repository without any tag.
	files := mirrortest.RealFiles()
	tagged, err := mirrortest.Image(platforms[0], "tagged", files...)
	require.NoError(t, err)
	_, err = mirrortest.Push(ctx, dst.Host+"/mirror/untagged:kept", tagged)
	require.NoError(t, err)
	untagged, err := mirrortest.Image(platforms[0], "untagged", files...)
	require.NoError(t, err)
	untaggedD, err := untagged.Digest()
	require.NoError(t, err)
	untaggedRef := dst.Host + "/mirror/untagged@" + untaggedD.String()
	_, err = mirrortest.Push(ctx, untaggedRef, untagged)
	require.NoError(t, err)

	out, err := dst.GarbageCollect(true)
	require.NoError(t, err, out)

	_, err = remote.Head(mustRef(t, untaggedRef))
	require.Error(t, err, "garbage-collect --delete-untagged kept an untagged manifest; the test proves nothing")

	for image, digest := range map[string]string{"keystone": src.singleD, "ceph": src.multiD} {
		repo := dst.Host + "/mirror/" + image
		tags, err := remote.List(mustRepo(t, repo))
		require.NoError(t, err)
		assert.Contains(t, tags, imageref.DigestTag(digest), repo)
		assert.Equal(t, digest, headDigest(t, repo+"@"+digest))
	}
	// Every blob of the single-platform image is still there. (The platform
	// manifests of an index are not: distribution 2.8's --delete-untagged
	// unlinks them even under a tagged index, distribution#3178.)
	assertPullable(t, dst.Host+"/mirror/keystone@"+src.singleD)

	// The manifest still pins the digest, and a second run copies nothing.
	assert.True(t, strings.HasSuffix(todo[0].Target.String(), "@"+todo[0].Source.Digest))
	report, err = mirror.Mirror(ctx, todo, mirror.WithInsecure(dst.Host))
	require.NoError(t, err)
	assert.Empty(t, report.Copied)
	assert.Len(t, report.Skipped, 2)
}

// assertPullable reads the manifest, the config and every layer of the
// image ref, as a container runtime pulling it would.
func assertPullable(t *testing.T, ref string) {
	t.Helper()
	img, err := remote.Image(mustRef(t, ref))
	require.NoError(t, err, ref)
	_, err = img.RawConfigFile()
	require.NoError(t, err, "config of %s", ref)
	layers, err := img.Layers()
	require.NoError(t, err)
	require.NotEmpty(t, layers)
	for _, l := range layers {
		rc, err := l.Compressed()
		require.NoError(t, err, "layer of %s", ref)
		_, err = io.Copy(io.Discard, rc)
		require.NoError(t, err, "layer of %s", ref)
		rc.Close()
	}
}

func mustRepo(t *testing.T, repo string) name.Repository {
	t.Helper()
	r, err := name.NewRepository(repo)
	require.NoError(t, err)
	return r
}
