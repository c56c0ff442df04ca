package main

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v2"

	"github.com/imageops/cloud/gomodules/ansible"
	"github.com/imageops/cloud/gomodules/openstack/conn"
)

// collectionRoot is the checkout, seen from this package's directory.
const collectionRoot = "../../.."

// pluginNames returns the names of the .py files in a plugins/ directory.
func pluginNames(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(collectionRoot, "plugins", dir, "*.py"))
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(files))
	for _, file := range files {
		names = append(names, strings.TrimSuffix(filepath.Base(file), ".py"))
	}
	sort.Strings(names)
	return names
}

// TestEveryModuleIsRegisteredDocumentedAndDispatched: a module is a file in
// this package, its documentation in plugins/modules and its action plugin in
// plugins/action; a module missing one of them is either not callable from
// Ansible, not documented or not in the binary.
func TestEveryModuleIsRegisteredDocumentedAndDispatched(t *testing.T) {
	registered := modules.Names()
	if len(registered) == 0 {
		t.Fatal("no module is registered")
	}
	for _, dir := range []string{"modules", "action"} {
		if got := pluginNames(t, dir); strings.Join(got, " ") != strings.Join(registered, " ") {
			t.Errorf("plugins/%s/*.py are %v; the binary holds %v (each module needs gomodules/cmd/imageops/<module>.go, "+
				"plugins/modules/<module>.py and plugins/action/<module>.py)", dir, got, registered)
		}
	}
	for _, name := range pluginNames(t, "action") {
		source, err := os.ReadFile(filepath.Join(collectionRoot, "plugins", "action", name+".py"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(source), "plugin_utils.go_module import GoModuleAction as ActionModule") {
			t.Errorf("plugins/action/%s.py does not use plugin_utils/go_module.py's GoModuleAction", name)
		}
	}
}

// TestOpenStackActionGroup: the modules that take openstack.cloud's
// connection options are the action group "openstack" of meta/runtime.yml,
// so that module_defaults: {group/imageops.cloud.openstack: {cloud: x}}
// reaches every one of them, as it does openstack.cloud's modules.
func TestOpenStackActionGroup(t *testing.T) {
	content, err := os.ReadFile(filepath.Join(collectionRoot, "meta", "runtime.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var runtime struct {
		ActionGroups map[string][]string `yaml:"action_groups"`
	}
	if err := yaml.Unmarshal(content, &runtime); err != nil {
		t.Fatalf("parsing meta/runtime.yml: %v", err)
	}
	var want []string
	for _, name := range modules.Names() {
		entry, _ := modules.Lookup(name)
		if takesCloudOptions(entry.Spec.Options) {
			want = append(want, name)
		}
	}
	got := append([]string(nil), runtime.ActionGroups["openstack"]...)
	sort.Strings(got)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("meta/runtime.yml action_groups.openstack is %v; the modules that take the cloud options are %v", got, want)
	}
}

func takesCloudOptions(options map[string]ansible.Option) bool {
	for name := range conn.Options {
		if _, ok := options[name]; !ok {
			return false
		}
	}
	return true
}
