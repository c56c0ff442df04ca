package imagebuild_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	json "github.com/goccy/go-json"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageops/cloud/gomodules/ansible"
	"github.com/imageops/cloud/gomodules/imagebuild"
)

// makeRole makes a role directory with a tasks/main.yml.
func makeRole(t *testing.T, dir, name string) string {
	t.Helper()
	role := filepath.Join(dir, name)
	require.NoError(t, os.MkdirAll(filepath.Join(role, "tasks"), 0o755))
	writeFile(t, filepath.Join(role, "tasks"), "main.yml", "---\n- name: Nothing\n  ansible.builtin.meta: noop\n")
	return role
}

// TestImageBuilderVarFileIsTakenUnchanged: a var file written as
// image-builder's Packer variables (strings for booleans, space- and
// comma-separated lists) gives the same spec as lists and booleans.
func TestImageBuilderVarFileIsTakenUnchanged(t *testing.T) {
	dir := t.TempDir()
	roles := filepath.Join(dir, "roles")
	makeRole(t, roles, "setup_net")
	post := makeRole(t, roles, "post")
	t.Setenv("ANSIBLE_ROLES_PATH", roles)
	repo := writeFile(t, dir, "kubernetes.list", "deb [trusted=yes] http://127.0.0.1:9/repo ./\n")
	varFile := writeFile(t, dir, "packer.json", `{
  "extra_debs": "nfs-common  open-iscsi",
  "extra_repos": "`+repo+`",
  "disable_public_repos": "true",
  "reenable_public_repos": "false",
  "remove_extra_repos": "true",
  "node_custom_roles_pre": "setup_net",
  "node_custom_roles_post": "`+post+`",
  "load_additional_components": "true",
  "additional_registry_images": "true",
  "additional_registry_images_list": "plndr/kube-vip:0.3.4, plndr/kube-vip:0.3.3",
  "additional_executables": "true",
  "additional_executables_list": "http://127.0.0.1:9/exec1,http://127.0.0.1:9/exec2",
  "additional_executables_destination_path": "/usr/local/bin"
}`)
	spec, err := imagebuild.Load(validated(t, map[string]any{"name": "img", "output_dir": dir}), []string{varFile})
	require.NoError(t, err)
	cfg := spec.Config
	assert.Equal(t, []string{"nfs-common", "open-iscsi"}, cfg.ExtraDebs)
	assert.Equal(t, []string{repo}, cfg.ExtraRepos)
	assert.True(t, cfg.DisablePublicRepos)
	assert.False(t, cfg.ReenablePublicRepos)
	assert.True(t, cfg.RemoveExtraRepos)
	assert.Equal(t, []string{"setup_net"}, cfg.NodeCustomRolesPre)
	assert.Equal(t, []string{post}, cfg.NodeCustomRolesPost)
	assert.Equal(t, []string{"plndr/kube-vip:0.3.4", "plndr/kube-vip:0.3.3"}, cfg.RegistryImages())
	assert.Equal(t, []string{"http://127.0.0.1:9/exec1", "http://127.0.0.1:9/exec2"}, cfg.Executables())
	assert.Empty(t, cfg.Ignored())
	assert.Equal(t, varFile, spec.Variables["extra_debs"].Source)
}

func TestImageBuilderDefaults(t *testing.T) {
	dir := t.TempDir()
	spec, err := imagebuild.Load(validated(t, map[string]any{"name": "img", "output_dir": dir}), nil)
	require.NoError(t, err)
	cfg := spec.Config
	assert.False(t, cfg.DisablePublicRepos, "image-builder's disable_public_repos defaults to false")
	assert.True(t, cfg.ReenablePublicRepos, "image-builder's reenable_public_repos defaults to true")
	assert.False(t, cfg.RemoveExtraRepos)
	assert.False(t, cfg.LoadAdditionalComponents)
	assert.Equal(t, imagebuild.SourceDefault, spec.Variables["reenable_public_repos"].Source)
}

// TestAdditionalComponentsNeedTheirSwitches: as in image-builder, a list is
// loaded only with load_additional_components and its own switch; the
// module warns about a list it ignores.
func TestAdditionalComponentsNeedTheirSwitches(t *testing.T) {
	dir := t.TempDir()
	task := map[string]any{"name": "img", "output_dir": dir, "_ansible_check_mode": true,
		"additional_registry_images": true, "additional_registry_images_list": "example.org/a:1"}
	res := ansible.Execute(context.Background(), imagebuild.ModuleSpec, task, imagebuild.RunModule)
	require.Nil(t, res["failed"], res["msg"])
	assert.Contains(t, res["warnings"], "additional_registry_images_list is ignored: it is loaded only when load_additional_components and additional_registry_images are true (as in image-builder)")

	spec, err := imagebuild.Load(validated(t, map[string]any{"name": "img", "output_dir": dir,
		"load_additional_components": true, "additional_registry_images_list": "example.org/a:1"}), nil)
	require.NoError(t, err)
	assert.Empty(t, spec.Config.RegistryImages())
}

func TestBadImageBuilderOptionsFailBeforeAnything(t *testing.T) {
	dir := t.TempDir()
	repo := writeFile(t, dir, "extra.list", "deb [trusted=yes] http://127.0.0.1:9/repo ./\n")
	t.Setenv("ANSIBLE_ROLES_PATH", filepath.Join(dir, "roles"))
	on := map[string]any{"load_additional_components": true}
	for _, tc := range []struct {
		name     string
		task     map[string]any
		contains []string
	}{
		{"missing role", map[string]any{"node_custom_roles_pre": "no_such_role"},
			[]string{`node_custom_roles_pre "no_such_role" (from task)`, "no such role", filepath.Join(dir, "roles", "no_such_role")}},
		{"missing role by path", map[string]any{"node_custom_roles_post": []any{"/nonexistent/role"}},
			[]string{`node_custom_roles_post "/nonexistent/role"`, "no such role"}},
		{"relative role path", map[string]any{"node_custom_roles_post": []any{"roles/x"}},
			[]string{`node_custom_roles_post "roles/x"`, "absolute path"}},
		{"missing collection role", map[string]any{"node_custom_roles_post": []any{"nosuch.collection.role"}},
			[]string{`"nosuch.collection.role"`, "ansible_collections/nosuch/collection/roles/role"}},
		{"missing repo file", map[string]any{"extra_repos": []any{filepath.Join(dir, "missing.list")}},
			[]string{"extra_repos", "missing.list", "expected a readable file of apt sources"}},
		{"repo file name", map[string]any{"extra_repos": []any{writeFile(t, dir, "extra.repo", "")}},
			[]string{"extra_repos", "*.list", "*.sources"}},
		{"relative repo file", map[string]any{"extra_repos": []any{"extra.list"}},
			[]string{"extra_repos", "absolute path"}},
		{"two repo files of one name", map[string]any{"extra_repos": []any{repo, filepath.Join(mkdir(t, dir, "b"), "extra.list")}},
			[]string{"extra_repos"}},
		{"bad extra deb", map[string]any{"extra_debs": "Bad_Name"}, []string{`extra_debs "Bad_Name"`, "Debian package name"}},
		{"debs with public repos disabled and no extra repos", map[string]any{"extra_debs": "curl", "disable_public_repos": true},
			[]string{"extra_debs", "no apt source is left"}},
		{"image without tag", merge(on, map[string]any{"additional_registry_images": true, "additional_registry_images_list": "example.org/a@sha256:" + zeros}),
			[]string{"additional_registry_images_list", "with a tag"}},
		{"bad image URL", merge(on, map[string]any{"additional_url_images": true, "additional_url_images_list": "ftp://x/a.tar"}),
			[]string{"additional_url_images_list", "http or https URL"}},
		{"executables without destination", merge(on, map[string]any{"additional_executables": true, "additional_executables_list": "http://x/bin/a"}),
			[]string{"additional_executables_destination_path", "absolute path"}},
		{"executable URL without a name", merge(on, map[string]any{"additional_executables": true, "additional_executables_list": "http://x/bin/",
			"additional_executables_destination_path": "/usr/local/bin"}), []string{"additional_executables_list", "file name"}},
		{"proxy not a URL, password hidden", map[string]any{"http_proxy": "user:s3cret@proxy:3128"},
			[]string{"http_proxy", "expected an http or https URL of a proxy"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := imagebuild.Load(validated(t, merge(map[string]any{"name": "img", "output_dir": filepath.Join(dir, "out")}, tc.task)), nil)
			require.Error(t, err)
			assert.ErrorIs(t, err, imagebuild.ErrInvalidSpec)
			for _, want := range tc.contains {
				assert.Contains(t, err.Error(), want)
			}
			assert.NotContains(t, err.Error(), "s3cret")
		})
	}
	_, err := os.Stat(filepath.Join(dir, "out"))
	assert.True(t, os.IsNotExist(err), "nothing written")
}

// TestAProxyPasswordStaysOutOfTheRecordAndResult: the record's variables
// and the module's result hide a proxy's password.
func TestAProxyPasswordStaysOutOfTheRecordAndResult(t *testing.T) {
	dir := t.TempDir()
	spec, err := imagebuild.Load(validated(t, map[string]any{"name": "img", "output_dir": dir,
		"http_proxy": "http://user:s3cret@127.0.0.1:3128"}), nil)
	require.NoError(t, err)
	assert.Equal(t, "http://REDACTED@127.0.0.1:3128", spec.Variables["http_proxy"].Value)
	assert.Equal(t, "http://user:s3cret@127.0.0.1:3128", spec.Config.HTTPProxy, "the build uses the real one")

	res := ansible.Execute(context.Background(), imagebuild.ModuleSpec, map[string]any{"name": "img", "output_dir": dir,
		"http_proxy": "http://user:s3cret@127.0.0.1:3128", "_ansible_check_mode": true}, imagebuild.RunModule)
	require.Nil(t, res["failed"], res["msg"])
	assert.NotContains(t, toJSON(t, res), "s3cret")
}

const zeros = "0000000000000000000000000000000000000000000000000000000000000000"

func merge(maps ...map[string]any) map[string]any {
	out := map[string]any{}
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

func mkdir(t *testing.T, dir, name string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	require.NoError(t, os.MkdirAll(path, 0o755))
	writeFile(t, path, "extra.list", "deb [trusted=yes] http://127.0.0.1:9/b ./\n")
	return path
}

func toJSON(t *testing.T, v any) string {
	t.Helper()
	encoded, err := json.Marshal(v)
	require.NoError(t, err)
	return string(encoded)
}

// TestAChangedRoleOrRepositoryFileRebuilds: the spec's hash covers the
// custom roles' and extra repositories' files.
func TestAChangedRoleOrRepositoryFileRebuilds(t *testing.T) {
	dir := t.TempDir()
	role := makeRole(t, dir, "post")
	repo := writeFile(t, dir, "extra.list", "deb [trusted=yes] http://127.0.0.1:9/a ./\n")
	task := map[string]any{"name": "img", "output_dir": dir, "node_custom_roles_post": []any{role}, "extra_repos": []any{repo}}
	sum := func() string {
		spec, err := imagebuild.Load(validated(t, task), nil)
		require.NoError(t, err)
		return spec.Config.SpecSHA256()
	}
	first := sum()
	assert.Equal(t, first, sum(), "the same files, the same hash")
	writeFile(t, filepath.Join(role, "tasks"), "main.yml", "---\n- name: Other\n  ansible.builtin.meta: noop\n")
	second := sum()
	assert.NotEqual(t, first, second, "a changed role")
	writeFile(t, dir, "extra.list", "deb [trusted=yes] http://127.0.0.1:9/b ./\n")
	assert.NotEqual(t, second, sum(), "a changed repository file")
}
