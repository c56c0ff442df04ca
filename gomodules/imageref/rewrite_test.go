package imageref

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRewriteStrategies(t *testing.T) {
	src := MustParse("quay.io/ceph/ceph:v18@" + digest)
	hub := MustParse("nginx:1.25")
	reg, err := ParseRegistry("registry.example.com:5000/openstack")
	require.NoError(t, err)
	cases := []struct {
		strategy Strategy
		src      Reference
		want     string
	}{
		{Flatten, src, "registry.example.com:5000/openstack/ceph:v18@" + digest},
		{Path, src, "registry.example.com:5000/openstack/ceph/ceph:v18@" + digest},
		{Scoped, src, "registry.example.com:5000/openstack/quay.io/ceph/ceph:v18@" + digest},
		{Flatten, hub, "registry.example.com:5000/openstack/nginx:1.25"},
		{Path, hub, "registry.example.com:5000/openstack/library/nginx:1.25"},
		{Scoped, hub, "registry.example.com:5000/openstack/docker.io/library/nginx:1.25"},
		{Scoped, MustParse("127.0.0.1:5000/a/b:1"), "registry.example.com:5000/openstack/127.0.0.1_5000/a/b:1"},
	}
	for _, c := range cases {
		got, err := Rewrite(c.src, reg, c.strategy)
		require.NoError(t, err)
		assert.Equal(t, c.want, got.String(), c.strategy)
	}
}

func TestParseRegistryErrors(t *testing.T) {
	for _, in := range []string{"https://r.example.com", "", "r.example.com/UPPER"} {
		_, err := ParseRegistry(in)
		require.Error(t, err, in)
		assert.Contains(t, err.Error(), `"`+in+`"`)
	}
	r, err := ParseRegistry("r.example.com/")
	require.NoError(t, err)
	assert.Equal(t, "r.example.com", r.String())
}

func TestParseStrategy(t *testing.T) {
	s, err := ParseStrategy("")
	require.NoError(t, err)
	assert.Equal(t, Flatten, s)
	_, err = ParseStrategy("flat")
	assert.ErrorContains(t, err, `"flat"`)
}

func TestPlanCollisionNamesBoth(t *testing.T) {
	images := map[string]string{
		"ceph":       "quay.io/ceph/ceph:v18",
		"other_ceph": "docker.io/someone/ceph:v18",
		"ceph_again": "quay.io/ceph/ceph:v18", // same source: deduplicated, not a collision
	}
	reg := Registry{Host: "r.example.com"}
	_, err := Plan(images, &reg, Flatten)
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrCollision))
	assert.Contains(t, err.Error(), `"ceph"`)
	assert.Contains(t, err.Error(), `"other_ceph"`)
	assert.NotContains(t, err.Error(), `"ceph_again"`)

	for _, s := range []Strategy{Path, Scoped} {
		plan, err := Plan(images, &reg, s)
		require.NoError(t, err, s)
		assert.Len(t, plan, 3)
	}
}

func TestPlanDigestConflict(t *testing.T) {
	other := "sha256:" + "f" + digest[8:]
	images := map[string]string{"a": "quay.io/x/y:1@" + digest, "b": "quay.io/x/y:1@" + other, "c": "quay.io/x/y:1"}
	_, err := Plan(images, &Registry{Host: "r.example.com"}, Path)
	require.ErrorIs(t, err, ErrCollision)
	assert.Contains(t, err.Error(), `"a"`)
	assert.Contains(t, err.Error(), `"b"`)
}

func TestPlanWithoutRegistryKeepsReferences(t *testing.T) {
	plan, err := Plan(map[string]string{"b": "nginx", "a": "quay.io/ceph/ceph:v18"}, nil, Flatten)
	require.NoError(t, err)
	require.Len(t, plan, 2)
	assert.Equal(t, "a", plan[0].Name)
	assert.Equal(t, plan[0].Source, plan[0].Target)
	assert.Equal(t, "nginx", plan[1].Original)
}

func TestPlanReportsEveryBadReference(t *testing.T) {
	_, err := Plan(map[string]string{"one": "BAD", "two": "also bad", "ok": "nginx"}, nil, Flatten)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `image "one"`)
	assert.Contains(t, err.Error(), `image "two"`)
}

func TestWrittenKeepsTheSourceForm(t *testing.T) {
	reg, err := ParseRegistry("registry.example.com")
	require.NoError(t, err)
	cases := map[string]string{
		// Neither tag nor digest: none written, as Atmosphere's filter writes it.
		"quay.io/a/b":    "registry.example.com/b",
		"nginx":          "registry.example.com/nginx",
		"quay.io/a/b:v1": "registry.example.com/b:v1",
		// An explicit latest stays.
		"nginx:latest":                   "registry.example.com/nginx:latest",
		"127.0.0.1:5000/x/y":             "registry.example.com/y",
		"quay.io/a/b@" + digest:          "registry.example.com/b@" + digest,
		"quay.io/a/b:v1@" + digest:       "registry.example.com/b:v1@" + digest,
		"localhost:5000/a/b:1@" + digest: "registry.example.com/b:1@" + digest,
	}
	images := map[string]string{}
	for src := range cases {
		images[src] = src
	}
	plan, err := Plan(images, &reg, Flatten)
	require.NoError(t, err)
	for _, m := range plan {
		assert.Equal(t, cases[m.Name], m.Written(), m.Name)
	}
	// The mirror still pushes the implied tag.
	assert.Equal(t, "registry.example.com/b:latest", MustParse("registry.example.com/b").String())
}
