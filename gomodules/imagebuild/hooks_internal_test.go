package imagebuild

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHooksRunInImageBuilderNodePlaybookOrder: custom roles pre, the
// repositories and extra_debs, the components, custom_role_names and the
// post roles, the sysprep, the post-sysprep roles.
func TestHooksRunInImageBuilderNodePlaybookOrder(t *testing.T) {
	dir := t.TempDir()
	for _, role := range []string{"pre", "legacy", "post", "sealed"} {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, "roles", role, "tasks"), 0o755))
	}
	t.Setenv("ANSIBLE_ROLES_PATH", filepath.Join(dir, "roles"))
	cfg := Config{
		Repos: Repos{ExtraDebs: []string{"curl"}, DisablePublicRepos: true, ReenablePublicRepos: true, ExtraRepos: []string{"/x/a.list"}},
		CustomRoles: CustomRoles{NodeCustomRolesPre: []string{"pre"}, NodeCustomRolesPost: []string{"post"},
			NodeCustomRolesPostSysprep: []string{"sealed"}, CustomRoleNames: []string{"pre", "legacy", "sealed"}},
		Components: Components{LoadAdditionalComponents: true, AdditionalExecutables: true,
			AdditionalExecutablesList: []string{"http://127.0.0.1:9/x"}, AdditionalExecutablesDestinationPath: "/usr/local/bin"},
	}
	assert.Equal(t, []string{"legacy", "post"}, cfg.PostRoles(), "custom_role_names less pre and post-sysprep roles, then post")

	b := &builder{cfg: cfg, work: dir, root: filepath.Join(dir, "root")}
	stages, err := b.hookStages()
	require.NoError(t, err)
	var names []string
	for _, s := range stages {
		names = append(names, s.name)
	}
	assert.Equal(t, []string{"node_custom_roles_pre", "repos", "components", "node_custom_roles_post", "sysprep", "node_custom_roles_post_sysprep"}, names)
	playbook, err := os.ReadFile(filepath.Join(dir, "node_custom_roles_post.yml"))
	require.NoError(t, err)
	legacy, post := strings.Index(string(playbook), filepath.Join(dir, "roles", "legacy")), strings.Index(string(playbook), filepath.Join(dir, "roles", "post"))
	assert.True(t, legacy >= 0 && post > legacy, "the post playbook includes legacy, then post:\n%s", playbook)
}
