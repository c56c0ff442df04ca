package mirror_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageops/cloud/gomodules/ansible"
	"github.com/imageops/cloud/gomodules/mirror"
	"github.com/imageops/cloud/gomodules/mirror/mirrortest"
)

func run(t *testing.T, args map[string]any) (map[string]any, string) {
	t.Helper()
	result := ansible.Execute(context.Background(), mirror.ModuleSpec, args, mirror.RunModule)
	encoded, err := json.Marshal(result)
	require.NoError(t, err)
	return result, string(encoded)
}

func TestModuleSecretsNeverShownAndFailuresListed(t *testing.T) {
	src := startSource(t)
	const user, good, bad = "mirror-user", "good-password-1", "bad-password-2"
	secured := mirrortest.Start(t, mirrortest.WithBasicAuth(user, good))
	args := func(password string) map[string]any {
		return map[string]any{
			"images": map[string]any{
				"keystone":  src.single,
				"ceph":      src.multi,
				"also_ceph": src.multi,
				"missing":   src.reg.Host + "/openstack/nova:nope",
			},
			"registry":      secured.Host + "/openstack",
			"ca_cert":       secured.CAFile,
			"registry_auth": map[string]any{secured.Host: map[string]any{"username": user, "password": password}},
		}
	}

	result, text := run(t, args(bad))
	assert.Equal(t, true, result["failed"])
	assert.NotContains(t, text, bad)
	msg := result["msg"].(string)
	assert.Contains(t, msg, "3 of 3 images could not be mirrored")
	assert.Contains(t, msg, "[auth]")
	assert.Contains(t, msg, "[not found]")
	assert.Len(t, result["failed_images"], 3)
	assert.Empty(t, result["copied_images"])
	invocation := result["invocation"].(map[string]any)["module_args"].(map[string]any)
	shownAuth := invocation["registry_auth"].(map[string]any)[secured.Host].(map[string]any)
	assert.Equal(t, "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER", shownAuth["password"], "the password is hidden")
	assert.Equal(t, user, shownAuth["username"], "the username stays readable")

	result, text = run(t, args(good))
	assert.NotContains(t, text, good)
	assert.Equal(t, true, result["failed"], "the missing image still fails")
	assert.Len(t, result["copied_images"], 2, "keystone and ceph (once for two names) copied")
	require.Len(t, result["failed_images"], 1)
	failure := result["failed_images"].([]any)[0].(map[string]any)
	assert.Equal(t, "not found", failure["reason"])
	assert.Equal(t, src.reg.Host+"/openstack/nova:nope", failure["source"])
	assert.Equal(t, true, result["changed"])

	okArgs := args(good)
	delete(okArgs["images"].(map[string]any), "missing")
	result, _ = run(t, okArgs)
	assert.Nil(t, result["failed"])
	assert.Equal(t, false, result["changed"])
	assert.Len(t, result["skipped_images"].([]any), 2)
}

func TestModuleCheckModeAndDiff(t *testing.T) {
	src := startSource(t)
	dst := mirrortest.Start(t)
	args := map[string]any{
		"images":              []any{src.single, src.multi},
		"registry":            dst.Host,
		"strategy":            "path",
		"insecure_registries": []any{dst.Host},
		"_ansible_check_mode": true,
		"_ansible_diff":       true,
	}
	result, _ := run(t, args)
	require.Nil(t, result["failed"], result["msg"])
	assert.Equal(t, true, result["changed"])
	assert.Len(t, result["copied_images"].([]any), 2)
	d := result["diff"].(map[string]any)
	assert.Contains(t, d["before"], dst.Host+"/ceph/ceph:v18 absent")
	assert.Contains(t, d["after"], dst.Host+"/ceph/ceph:v18 "+src.multiD)

	delete(args, "_ansible_check_mode")
	result, _ = run(t, args)
	require.Nil(t, result["failed"], result["msg"])
	assert.Equal(t, true, result["changed"])
	result, _ = run(t, args)
	assert.Equal(t, false, result["changed"])
	assert.Nil(t, result["diff"])
}

func TestModuleBadInput(t *testing.T) {
	cases := []struct {
		args map[string]any
		want string
	}{
		{map[string]any{"images": int64(5), "registry": "r.example.com"}, "option images: expected a list of image references or a dict of name -> reference, got a number"},
		{map[string]any{"images": []any{"nginx"}, "registry": "https://r"}, `option registry: registry "https://r"`},
		{map[string]any{"images": []any{"nginx"}, "registry": "r.example.com", "strategy": "flat"}, "value of strategy must be one of: flatten, path, scoped, got: flat"},
		{map[string]any{"images": []any{"nginx"}, "registry": "r.example.com", "platforms": []any{"amd64"}}, `platform "amd64"`},
		{map[string]any{"images": []any{"nginx"}, "registry": "r.example.com", "jobs": 0}, "jobs must be at least 1"},
		{map[string]any{"images": []any{"nginx"}, "registry": "r.example.com", "mirror": true}, "Unsupported parameters for (imageops.cloud.mirror_images) module: mirror"},
		{map[string]any{"images": []any{"nginx"}, "registry": "r.example.com", "registry_auth": map[string]any{"r.example.com": map[string]any{"user": "mirror-bot", "password": "sekrit-9"}}}, `registry_auth["r.example.com"]: unknown key "user"`},
	}
	for _, c := range cases {
		result, text := run(t, c.args)
		assert.Equal(t, true, result["failed"], c.want)
		assert.Contains(t, result["msg"], c.want)
		assert.NotContains(t, text, "sekrit-9")
	}
}
