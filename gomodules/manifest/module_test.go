package manifest_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageops/cloud/gomodules/ansible"
	"github.com/imageops/cloud/gomodules/manifest"
)

func execute(args map[string]any) map[string]any {
	return ansible.Execute(context.Background(), manifest.ModuleSpec, args, manifest.RunModule)
}

func TestModuleCheckModeDiffAndRerun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "images.yml")
	args := map[string]any{
		"images":              map[string]any{"keystone_api": "quay.io/vexxhost/keystone:2024.1"},
		"registry":            "registry.example.com",
		"path":                path,
		"_ansible_check_mode": true,
		"_ansible_diff":       true,
	}
	result := execute(args)
	require.Nil(t, result["failed"], result["msg"])
	assert.Equal(t, true, result["changed"])
	assert.Contains(t, result["diff"].(map[string]any)["after"], "keystone_api: registry.example.com/keystone:2024.1")
	assert.NoFileExists(t, path)

	delete(args, "_ansible_check_mode")
	result = execute(args)
	assert.Equal(t, true, result["changed"])
	assert.Equal(t, map[string]any{"keystone_api": "registry.example.com/keystone:2024.1"}, result["manifest"])
	assert.FileExists(t, path)

	result = execute(args)
	assert.Equal(t, false, result["changed"])
	assert.Nil(t, result["diff"])
}

func TestModuleBadInput(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "images.yml")
	require.NoError(t, os.WriteFile(existing, []byte("container_images: {}\n"), 0o644))
	cases := []struct {
		args map[string]any
		want string
	}{
		{map[string]any{"images": map[string]any{"a": map[string]any{"repo": "x"}}}, `option images: "a" is a dict, expected an image reference string`},
		{map[string]any{"images": map[string]any{"a": "nginx"}, "strategy": "deep"}, "value of strategy must be one of: flatten, path, scoped, got: deep"},
		{map[string]any{"images": map[string]any{"a": "nginx"}, "mirror": true}, "Unsupported parameters for (imageops.cloud.image_manifest) module: mirror"},
		{map[string]any{"images": map[string]any{"a": "nginx"}, "path": existing}, "set force: true to overwrite it"},
		{map[string]any{"images": map[string]any{"a": "nginx"}, "var_name": ""}, "option var_name: must not be empty"},
	}
	for _, c := range cases {
		result := execute(c.args)
		assert.Equal(t, true, result["failed"], c.want)
		assert.Contains(t, result["msg"], c.want)
	}
	content, err := os.ReadFile(existing)
	require.NoError(t, err)
	assert.Equal(t, "container_images: {}\n", string(content), "a refused write leaves the file alone")
}
