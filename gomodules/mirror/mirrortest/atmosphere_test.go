package mirrortest_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageops/cloud/gomodules/imageref"
	"github.com/imageops/cloud/gomodules/mirror/mirrortest"
)

// TestAtmosphereSetHasTheRealDictsShape checks the counts taken from
// Atmosphere's roles/defaults/vars/main.yml: 232 names over 129 references
// in 118 repositories; 90 by tag, 38 by tag@digest, 1 by digest; the
// registries' shares; and that flattening names no target twice.
func TestAtmosphereSetHasTheRealDictsShape(t *testing.T) {
	set, err := mirrortest.AtmosphereSet(512)
	require.NoError(t, err)
	assert.Equal(t, 232, set.Names())
	assert.Len(t, set.Images, 129)

	repos := map[string]bool{}
	forms := map[string]int{}
	registries := map[string]int{}
	multi := 0
	images := map[string]string{}
	for _, img := range set.Images {
		repos[img.Repo] = true
		registries[strings.SplitN(img.Repo, "/", 2)[0]]++
		switch {
		case img.Tag == "":
			forms["digest"]++
		case img.Pinned:
			forms["tag@digest"]++
		default:
			forms["tag"]++
		}
		if len(img.Platforms) > 1 {
			multi++
		}
		ref := "127.0.0.1:5000/" + img.Repo + ":" + img.Tag
		if img.Tag == "" {
			ref = "127.0.0.1:5000/" + img.Repo + "@sha256:" + strings.Repeat("0", 64)
		}
		for _, n := range img.Names {
			images[n] = ref
		}
	}
	assert.Len(t, repos, 118)
	assert.Equal(t, map[string]int{"tag": 90, "tag@digest": 38, "digest": 1}, forms)
	assert.Equal(t, map[string]int{"ghcr.io": 34, "docker.io": 24, "quay.io": 37, "registry.k8s.io": 33, "packages.vexxhost.com": 1}, registries)
	assert.Greater(t, multi, 40, "most images outside OpenStack's are multi-platform")

	target, err := imageref.ParseRegistry("registry.example.com/openstack")
	require.NoError(t, err)
	_, err = imageref.Plan(images, &target, imageref.Flatten)
	assert.NoError(t, err, "Atmosphere's default, flatten, has no collision")

	mib := float64(set.UniqueBytes()) / (1 << 20)
	assert.InDelta(t, 512, mib, 2, "the distinct layers total the size asked for")
}
