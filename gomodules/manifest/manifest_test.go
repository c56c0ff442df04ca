package manifest_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v2"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/imageops/cloud/gomodules/imageref"
	"github.com/imageops/cloud/gomodules/manifest"
	"github.com/imageops/cloud/gomodules/mirror/mirrortest"
)

const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

var images = map[string]string{
	"keystone_api": "quay.io/vexxhost/keystone:2024.1",
	"ceph":         "quay.io/ceph/ceph:v18.2.1@" + digest,
	"memcached":    "memcached:1.6",
}

func readManifest(t *testing.T, path, key string) map[string]string {
	t.Helper()
	content, err := os.ReadFile(path)
	require.NoError(t, err)
	var doc map[string]map[string]string
	require.NoError(t, yaml.Unmarshal(content, &doc))
	return doc[key]
}

func ptr(s string) *string { return &s }

func TestWriteEveryStrategy(t *testing.T) {
	want := map[string]map[string]string{
		"flatten": {
			"keystone_api": "registry.example.com/openstack/keystone:2024.1",
			"ceph":         "registry.example.com/openstack/ceph:v18.2.1@" + digest,
			"memcached":    "registry.example.com/openstack/memcached:1.6",
		},
		"path": {
			"keystone_api": "registry.example.com/openstack/vexxhost/keystone:2024.1",
			"ceph":         "registry.example.com/openstack/ceph/ceph:v18.2.1@" + digest,
			"memcached":    "registry.example.com/openstack/library/memcached:1.6",
		},
		"scoped": {
			"keystone_api": "registry.example.com/openstack/quay.io/vexxhost/keystone:2024.1",
			"ceph":         "registry.example.com/openstack/quay.io/ceph/ceph:v18.2.1@" + digest,
			"memcached":    "registry.example.com/openstack/docker.io/library/memcached:1.6",
		},
	}
	for strategy, expected := range want {
		path := filepath.Join(t.TempDir(), "images.yml")
		res, err := manifest.Write(context.Background(), manifest.Request{
			Images: images, Registry: ptr("registry.example.com/openstack"), Strategy: strategy, Path: path,
		})
		require.NoError(t, err, strategy)
		assert.True(t, res.Changed)
		assert.Equal(t, expected, res.Manifest, strategy)
		assert.Equal(t, expected, readManifest(t, path, "container_images"), strategy)
	}
}

func TestWriteSortsKeysAndUsesVarName(t *testing.T) {
	path := filepath.Join(t.TempDir(), "images.yml")
	_, err := manifest.Write(context.Background(), manifest.Request{Images: images, Path: path, VarName: "atmosphere_images"})
	require.NoError(t, err)
	content, err := os.ReadFile(path)
	require.NoError(t, err)
	text := string(content)
	assert.True(t, strings.Index(text, "ceph:") < strings.Index(text, "keystone_api:") &&
		strings.Index(text, "keystone_api:") < strings.Index(text, "memcached:"), text)
	// No registry: the references are written exactly as given.
	assert.Equal(t, images, readManifest(t, path, "atmosphere_images"))
}

func TestWriteIsIdempotentAndRefusesToClobber(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "images.yml")
	req := manifest.Request{Images: images, Registry: ptr("r.example.com"), Path: path}
	_, err := manifest.Write(context.Background(), req)
	require.NoError(t, err)
	old := time.Now().Add(-time.Hour)
	require.NoError(t, os.Chtimes(path, old, old))

	again, err := manifest.Write(context.Background(), req)
	require.NoError(t, err)
	assert.False(t, again.Changed)
	assert.Nil(t, again.Diff)
	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.True(t, info.ModTime().Equal(old), "an identical file is not rewritten")

	other := req
	other.Registry = ptr("other.example.com")
	_, err = manifest.Write(context.Background(), other)
	require.ErrorIs(t, err, manifest.ErrExists)
	assert.Contains(t, err.Error(), path)
	assert.Contains(t, err.Error(), "force")
	assert.Equal(t, "r.example.com/keystone:2024.1", readManifest(t, path, "container_images")["keystone_api"])

	other.Force, other.CheckMode = true, true
	checked, err := manifest.Write(context.Background(), other)
	require.NoError(t, err)
	assert.True(t, checked.Changed)
	require.NotNil(t, checked.Diff)
	assert.Contains(t, checked.Diff.Before, "r.example.com/keystone")
	assert.Contains(t, checked.Diff.After, "other.example.com/keystone")
	assert.Equal(t, "r.example.com/keystone:2024.1", readManifest(t, path, "container_images")["keystone_api"], "check mode wrote")

	require.NoError(t, os.Chmod(path, 0o600))
	other.CheckMode = false
	forced, err := manifest.Write(context.Background(), other)
	require.NoError(t, err)
	assert.True(t, forced.Changed)
	assert.Equal(t, "other.example.com/keystone:2024.1", readManifest(t, path, "container_images")["keystone_api"])
	info, err = os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "an overwritten file keeps its mode")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file left behind")
}

func TestWriteCheckModeCreatesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "images.yml")
	res, err := manifest.Write(context.Background(), manifest.Request{Images: images, Path: path, CheckMode: true})
	require.NoError(t, err)
	assert.True(t, res.Changed)
	assert.Equal(t, "", res.Diff.Before)
	assert.NoFileExists(t, path)
}

func TestWriteErrors(t *testing.T) {
	_, err := manifest.Write(context.Background(), manifest.Request{
		Images:   map[string]string{"a": "quay.io/one/ceph:1", "b": "docker.io/two/ceph:1"},
		Registry: ptr("r.example.com"),
		Path:     filepath.Join(t.TempDir(), "images.yml"),
	})
	require.ErrorIs(t, err, imageref.ErrCollision)
	assert.Contains(t, err.Error(), `"a"`)
	assert.Contains(t, err.Error(), `"b"`)

	_, err = manifest.Write(context.Background(), manifest.Request{Images: map[string]string{"bad": "Not A Reference"}})
	assert.ErrorContains(t, err, `image "bad"`)

	_, err = manifest.Write(context.Background(), manifest.Request{Images: images, Registry: ptr("https://r.example.com")})
	assert.ErrorContains(t, err, "option registry")

	_, err = manifest.Write(context.Background(), manifest.Request{Images: images, Path: "/nonexistent-dir/images.yml"})
	assert.ErrorContains(t, err, "/nonexistent-dir/images.yml")
}

func TestPinDigests(t *testing.T) {
	reg := mirrortest.Start(t)
	idx, err := mirrortest.Index("pin", []v1.Platform{{OS: "linux", Architecture: "amd64"}, {OS: "linux", Architecture: "arm64"}}, mirrortest.RealFiles()...)
	require.NoError(t, err)
	d, err := mirrortest.Push(context.Background(), reg.Host+"/ceph/ceph:v18", idx)
	require.NoError(t, err)

	res, err := manifest.Write(context.Background(), manifest.Request{
		Images:     map[string]string{"ceph": reg.Host + "/ceph/ceph:v18", "pinned": "quay.io/a/b:1@" + digest},
		Registry:   ptr("r.example.com/mirror"),
		PinDigests: true,
	})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{
		"ceph":   "r.example.com/mirror/ceph:v18@" + d,
		"pinned": "r.example.com/mirror/b:1@" + digest, // already pinned: no request to quay.io
	}, res.Manifest)

	_, err = manifest.Write(context.Background(), manifest.Request{
		Images:     map[string]string{"gone": reg.Host + "/ceph/ceph:v0"},
		PinDigests: true,
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), reg.Host+"/ceph/ceph:v0")
	assert.Contains(t, err.Error(), "not found")
}
