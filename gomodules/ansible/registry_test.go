package ansible

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	json "github.com/goccy/go-json"
)

// echoSpec is a second module, so that picking the wrong one shows.
var echoSpec = Spec{Name: "imageops.cloud.echo_test", Options: map[string]Option{"word": {}}}

func echoRun(_ context.Context, m *Module) (any, error) {
	return map[string]any{"echoed": m.Params["word"]}, nil
}

func testRegistry() *Registry {
	r := &Registry{}
	r.Register(protocolSpec, protocolRun)
	r.Register(echoSpec, echoRun)
	return r
}

// runRegistry runs the registry with argv and returns the exit code and the
// JSON object printed.
func runRegistry(t *testing.T, argv ...string) (int, map[string]any) {
	t.Helper()
	var stdout bytes.Buffer
	code := testRegistry().Run(context.Background(), argv, &stdout)
	var out map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("stdout is not one JSON object: %v: %q", err, stdout.String())
	}
	return code, out
}

func argsFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "args")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRegistryPicksTheModule(t *testing.T) {
	asEcho := argsFile(t, `{"word": "hi", "_ansible_module_name": "imageops.cloud.echo_test"}`)
	byHand := argsFile(t, "word: hi\n")
	for _, c := range []struct {
		how  string
		argv []string
	}{
		{"as Ansible runs it: _ansible_module_name in the args file", []string{"/r/.ansible/tmp/x/AnsiballZ_imageops_linux_amd64", asEcho}},
		{"under the module's name (systemd timers)", []string{"/usr/local/libexec/imageops/echo_test", byHand}},
		{"under a developer's link in bin/", []string{"bin/echo_test_linux_arm64", byHand}},
		{"with the module as first argument", []string{"imageops", "echo_test", byHand}},
		{"with a fully qualified first argument", []string{"imageops", "imageops.cloud.echo_test", byHand}},
	} {
		code, out := runRegistry(t, c.argv...)
		if code != 0 || out["echoed"] != "hi" {
			t.Errorf("%s: exit %d, %v; want echo_test to answer", c.how, code, out)
		}
	}
}

func TestRegistryPassesFlagsAfterTheModuleName(t *testing.T) {
	code, out := runRegistry(t, "imageops", "protocol_test", "--check", "--diff", argsFile(t, "name: x\n"))
	if code != 0 || out["check_mode"] != true || out["diff"] == nil {
		t.Fatalf("exit %d, %v; want check mode and a diff", code, out)
	}
}

func TestRegistryNamesItsModulesWhenNoneIsPicked(t *testing.T) {
	for _, argv := range [][]string{
		{"imageops"},
		{"imageops", "no_such_module", "args"},
		{"imageops", argsFile(t, `{"_ansible_module_name": "imageops.cloud.nope"}`)},
	} {
		code, out := runRegistry(t, argv...)
		msg, _ := out["msg"].(string)
		if code != 1 || out["failed"] != true || !strings.Contains(msg, "echo_test, protocol_test") {
			t.Errorf("%v: exit %d, %v; want a failure listing the modules", argv, code, out)
		}
	}
	_, out := runRegistry(t, "imageops", argsFile(t, `{"_ansible_module_name": "imageops.cloud.nope"}`))
	if msg, _ := out["msg"].(string); !strings.Contains(msg, `"imageops.cloud.nope"`) {
		t.Errorf("the failure does not name the module asked for: %v", out)
	}
}

func TestRegistryLookup(t *testing.T) {
	r := testRegistry()
	if got := r.Names(); strings.Join(got, ",") != "echo_test,protocol_test" {
		t.Errorf("Names() = %v", got)
	}
	for _, name := range []string{"echo_test", "imageops.cloud.echo_test", "AnsiballZ_echo_test", "echo_test_linux_amd64"} {
		if entry, ok := r.Lookup(name); !ok || entry.Spec.Name != echoSpec.Name {
			t.Errorf("Lookup(%q) = %v, %v; want echo_test", name, entry.Spec.Name, ok)
		}
	}
	for _, name := range []string{"", "echo", "imageops_linux_amd64", "echo_test_extra"} {
		if _, ok := r.Lookup(name); ok {
			t.Errorf("Lookup(%q) found a module", name)
		}
	}
}

func TestRegisteringANameTwicePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("a second echo_test was accepted")
		}
	}()
	testRegistry().Register(echoSpec, echoRun)
}
