package imagebuild

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	json "github.com/goccy/go-json"
)

// CustomRoles are kubernetes-sigs image-builder's custom roles of its node
// playbook: node_custom_roles_pre run first, node_custom_roles_post after
// the packages and additional components, before the image is sealed (the
// repositories' sysprep), node_custom_roles_post_sysprep after it. Each is an Ansible role run by ansible-playbook
// against the image's root folder through community.general's chroot
// connection, with the build's proxies in its environment, as
// image-builder's node playbook sets them.
type CustomRoles struct {
	NodeCustomRolesPre  []string `json:"node_custom_roles_pre"`
	NodeCustomRolesPost []string `json:"node_custom_roles_post"`
	// NodeCustomRolesPostSysprep run after the sysprep, last.
	NodeCustomRolesPostSysprep []string `json:"node_custom_roles_post_sysprep"`
	// CustomRoleNames is image-builder's older name of the post roles: those
	// not also pre or post-sysprep roles run before NodeCustomRolesPost.
	CustomRoleNames []string `json:"custom_role_names"`
}

// PostRoles are the roles run after the components, as image-builder's
// node playbook lists them: custom_role_names less the pre and post-sysprep
// roles, then node_custom_roles_post.
func (r CustomRoles) PostRoles() []string {
	var out []string
	for _, role := range r.CustomRoleNames {
		if !slices.Contains(r.NodeCustomRolesPre, role) && !slices.Contains(r.NodeCustomRolesPostSysprep, role) {
			out = append(out, role)
		}
	}
	return append(out, r.NodeCustomRolesPost...)
}

func (r CustomRoles) all() []string {
	return slices.Concat(r.NodeCustomRolesPre, r.CustomRoleNames, r.NodeCustomRolesPost, r.NodeCustomRolesPostSysprep)
}

// chrootConnection is the connection plugin the roles run through.
const chrootConnection = "community.general.chroot"

// remoteTmp is Ansible's remote temporary directory inside the image,
// removed when the roles are done.
const remoteTmp = "/tmp/.image_build-ansible"

// ErrNoSuchRole is wrapped by the error of a custom role that is not found.
var ErrNoSuchRole = errors.New("no such role")

func (r *CustomRoles) normalize() {
	r.NodeCustomRolesPre, r.NodeCustomRolesPost = words(r.NodeCustomRolesPre), words(r.NodeCustomRolesPost)
	r.NodeCustomRolesPostSysprep, r.CustomRoleNames = words(r.NodeCustomRolesPostSysprep), words(r.CustomRoleNames)
}

func (r CustomRoles) check(bad badValue) error {
	for _, list := range []struct {
		name  string
		roles []string
	}{{"node_custom_roles_pre", r.NodeCustomRolesPre}, {"custom_role_names", r.CustomRoleNames},
		{"node_custom_roles_post", r.NodeCustomRolesPost}, {"node_custom_roles_post_sysprep", r.NodeCustomRolesPostSysprep}} {
		for _, role := range list.roles {
			if _, err := resolveRole(role); err != nil {
				return bad(list.name, role, err.Error())
			}
		}
	}
	if len(r.all()) == 0 {
		return nil
	}
	if _, err := exec.LookPath("ansible-playbook"); err != nil {
		return fmt.Errorf("%w: node_custom_roles_*: running the roles needs ansible-playbook on the host that builds: %v", ErrInvalidSpec, err)
	}
	if !collectionPluginExists("community", "general", "plugins/connection/chroot.py") {
		return fmt.Errorf("%w: node_custom_roles_*: running the roles needs Ansible's %s connection (collection community.general, in Debian's package ansible), searched %s",
			ErrInvalidSpec, chrootConnection, strings.Join(collectionPaths(), ":"))
	}
	return nil
}

// resolveRole finds a role as ansible-playbook would from the module's
// environment: an absolute path of a role directory, a role name in
// ANSIBLE_ROLES_PATH (or Ansible's default roles paths), or a collection's
// role namespace.collection.role. It returns the role's directory.
func resolveRole(role string) (string, error) {
	var candidates []string
	switch parts := strings.Split(role, "."); {
	case filepath.IsAbs(role):
		candidates = []string{role}
	case strings.Contains(role, "/"):
		return "", fmt.Errorf("expected a role name, namespace.collection.role or an absolute path of a role directory (a module does not run in the playbook's directory)")
	case len(parts) == 3:
		for _, dir := range collectionPaths() {
			candidates = append(candidates, filepath.Join(dir, "ansible_collections", parts[0], parts[1], "roles", parts[2]))
		}
	default:
		for _, dir := range rolesPaths() {
			candidates = append(candidates, filepath.Join(dir, role))
		}
	}
	for _, dir := range candidates {
		if isRoleDir(dir) {
			return dir, nil
		}
	}
	return "", fmt.Errorf("%w: expected a role directory (with tasks/ or meta/) at %s", ErrNoSuchRole, strings.Join(candidates, " or "))
}

func isRoleDir(dir string) bool {
	for _, sub := range []string{"tasks", "meta"} {
		if info, err := os.Stat(filepath.Join(dir, sub)); err == nil && info.IsDir() {
			return true
		}
	}
	return false
}

// rolesPaths are ANSIBLE_ROLES_PATH's directories, else Ansible's defaults.
func rolesPaths() []string {
	if env := os.Getenv("ANSIBLE_ROLES_PATH"); env != "" {
		return filepath.SplitList(env)
	}
	return []string{expandHome("~/.ansible/roles"), "/usr/share/ansible/roles", "/etc/ansible/roles"}
}

// collectionPaths are ANSIBLE_COLLECTIONS_PATH(S)'s directories, else
// Ansible's defaults, then the Python packages' (where Debian's ansible
// package installs its collections).
func collectionPaths() []string {
	var dirs []string
	for _, name := range []string{"ANSIBLE_COLLECTIONS_PATH", "ANSIBLE_COLLECTIONS_PATHS"} {
		dirs = append(dirs, filepath.SplitList(os.Getenv(name))...)
	}
	if len(dirs) == 0 {
		dirs = []string{expandHome("~/.ansible/collections"), "/usr/share/ansible/collections"}
	}
	return append(dirs, "/usr/lib/python3/dist-packages")
}

func collectionPluginExists(namespace, collection, file string) bool {
	for _, dir := range collectionPaths() {
		if _, err := os.Stat(filepath.Join(dir, "ansible_collections", namespace, collection, file)); err == nil {
			return true
		}
	}
	return false
}

func expandHome(path string) string {
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, strings.TrimPrefix(path, "~/"))
	}
	return path
}

// rolesHook writes the inventory and playbook that run roles against the
// image's root and returns the hook's script ("" without roles).
func (b *builder) rolesHook(stage string, roles []string) (string, error) {
	if len(roles) == 0 {
		return "", nil
	}
	inventory := filepath.Join(b.work, "inventory.yml")
	if _, err := os.Stat(inventory); err != nil {
		if err := writeJSON(inventory, map[string]any{"all": map[string]any{"hosts": map[string]any{"image": map[string]any{
			"ansible_host": b.root, "ansible_connection": chrootConnection, "ansible_python_interpreter": "/usr/bin/python3",
		}}}}); err != nil {
			return "", err
		}
	}
	var tasks []any
	for _, role := range roles {
		dir, err := resolveRole(role)
		if err != nil {
			return "", fmt.Errorf("finding %s role %q: %w", stage, role, err)
		}
		tasks = append(tasks, map[string]any{"name": "Include " + role, "ansible.builtin.include_role": map[string]any{"name": dir}})
	}
	playbook := filepath.Join(b.work, stage+".yml")
	if err := writeJSON(playbook, []any{map[string]any{
		"name": "image_build " + stage, "hosts": "image", "gather_facts": true,
		"environment": b.proxyEnvironment(), "tasks": tasks,
	}}); err != nil {
		return "", err
	}
	env := map[string]string{"ANSIBLE_LOCAL_TEMP": filepath.Join(b.work, "ansible-local"), "ANSIBLE_REMOTE_TMP": remoteTmp,
		"ANSIBLE_RETRY_FILES_ENABLED": "0", "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"}
	var s strings.Builder
	for _, name := range sortedKeys(env) {
		fmt.Fprintf(&s, "export %s=%s\n", name, shellQuote(env[name]))
	}
	fmt.Fprintf(&s, "ansible-playbook -i %s %s\nrm -rf \"$root\"%s\n", shellQuote(inventory), shellQuote(playbook), remoteTmp)
	return s.String(), nil
}

// proxyEnvironment is image-builder's node_environment: each proxy in both
// cases, empty when not set.
func (b *builder) proxyEnvironment() map[string]string {
	env := map[string]string{}
	for name, value := range map[string]string{"http_proxy": b.cfg.HTTPProxy, "https_proxy": b.cfg.HTTPSProxy, "no_proxy": b.cfg.NoProxy} {
		env[name], env[strings.ToUpper(name)] = value, value
	}
	return env
}

func writeJSON(path string, value any) error {
	encoded, err := json.MarshalIndent(value, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding %q: %w", path, err)
	}
	if err := os.WriteFile(path, encoded, 0o600); err != nil {
		return fmt.Errorf("writing %q: %w", path, err)
	}
	return nil
}
