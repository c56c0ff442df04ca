package ansible

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	json "github.com/goccy/go-json"
)

// The test binary doubles as a module binary: TestRealAnsibleRunsABinaryModule
// has ansible-playbook run it with IMAGEOPS_ANSIBLE_TEST_MODULE=1.
func TestMain(m *testing.M) {
	if os.Getenv("IMAGEOPS_ANSIBLE_TEST_MODULE") == "1" {
		Main(protocolSpec, protocolRun)
	}
	os.Exit(m.Run())
}

var protocolSpec = Spec{
	Name: "imageops.cloud.protocol_test",
	Options: map[string]Option{
		"name":      {Required: true},
		"count":     {Type: TypeInt, Default: 1},
		"tags":      {Type: TypeList, Elements: TypeStr},
		"enabled":   {Type: TypeBool},
		"password":  {NoLog: true},
		"fail_with": {},
	},
	SupportsCheckMode: true,
}

func protocolRun(ctx context.Context, m *Module) (any, error) {
	if msg, _ := m.Params["fail_with"].(string); msg != "" {
		return nil, errors.New(msg)
	}
	return map[string]any{
		"changed":    !m.CheckMode,
		"check_mode": m.CheckMode,
		"params":     m.Params,
		"said":       "the password is " + fmtString(m.Params["password"]),
		"diff":       map[string]any{"before": "", "after": m.Params["name"]},
	}, nil
}

func fmtString(value any) string { s, _ := value.(string); return s }

// ansibleArgsFile is the args file ansible-core 2.14.18 wrote for a binary
// module run as `ansible localhost -m <module> -a name=x --check --diff`
// (recorded; the tmpdir is shortened).
const ansibleArgsFile = `{"name": "x", "_ansible_check_mode": true, "_ansible_no_log": false, "_ansible_debug": false, "_ansible_diff": true, "_ansible_verbosity": 0, "_ansible_version": "2.14.18", "_ansible_module_name": "dumpargs", "_ansible_syslog_facility": "LOG_USER", "_ansible_selinux_special_fs": ["fuse", "nfs", "vboxsf", "ramfs", "9p", "vfat"], "_ansible_string_conversion_action": "warn", "_ansible_socket": null, "_ansible_shell_executable": "/bin/sh", "_ansible_keep_remote_files": false, "_ansible_tmpdir": "/root/.ansible/tmp/ansible-tmp-1/", "_ansible_remote_tmp": "~/.ansible/tmp"}`

// runFile writes content to an args file and runs the protocol test module on
// it with the extra flags; it returns the exit code and the one JSON object
// printed.
func runFile(t *testing.T, spec Spec, content string, flags ...string) (int, map[string]any) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "args")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return runArgs(t, spec, append(flags, path)...)
}

func runArgs(t *testing.T, spec Spec, argv ...string) (int, map[string]any) {
	t.Helper()
	var stdout bytes.Buffer
	code := Run(context.Background(), argv, &stdout, spec, protocolRun)
	text := stdout.String()
	if strings.Count(text, "\n") != 1 || !strings.HasSuffix(text, "}\n") || !strings.HasPrefix(text, "{") {
		t.Fatalf("stdout is not one JSON object on one line: %q", text)
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(text), &out); err != nil {
		t.Fatalf("stdout is not JSON: %v: %q", err, text)
	}
	return code, out
}

func TestRunWithTheArgsFileAnsibleWrites(t *testing.T) {
	code, out := runFile(t, protocolSpec, ansibleArgsFile)
	if code != 0 || out["failed"] != nil {
		t.Fatalf("exit %d: %v", code, out)
	}
	// The file asked for check and diff mode; every _ansible_* key is ignored.
	if out["check_mode"] != true || out["changed"] != false || out["diff"] == nil {
		t.Fatalf("modes were not read from the file: %v", out)
	}
	checkSubset(t, "params", map[string]any{"name": "x", "count": 1}, out["params"])
}

func TestRunWithAYAMLArgsFile(t *testing.T) {
	code, out := runFile(t, protocolSpec, "# by hand\nname: debian-12\ncount: \"5\"\ntags: [a, b]\nenabled: yes\n")
	if code != 0 || out["failed"] != nil {
		t.Fatalf("exit %d: %v", code, out)
	}
	checkSubset(t, "params", map[string]any{"name": "debian-12", "count": 5, "tags": []any{"a", "b"}, "enabled": true},
		out["params"])
	if out["check_mode"] != false || out["changed"] != true || out["diff"] != nil {
		t.Fatalf("a file without _ansible_ keys runs for real, without diff: %v", out)
	}
}

func TestRunFlags(t *testing.T) {
	for _, c := range []struct {
		flags              []string
		wantCheck, wantDif bool
	}{
		{nil, false, false},
		{[]string{"--check"}, true, false},
		{[]string{"--diff"}, false, true},
		{[]string{"--check", "--diff"}, true, true},
		{[]string{"-check=true", "-diff=true"}, true, true},
	} {
		code, out := runFile(t, protocolSpec, "name: x\n", c.flags...)
		if code != 0 || out["check_mode"] != c.wantCheck || (out["diff"] != nil) != c.wantDif {
			t.Errorf("flags %v: exit %d, %v", c.flags, code, out)
		}
	}
	// A module without check mode support is skipped, which is not a failure.
	spec := protocolSpec
	spec.SupportsCheckMode = false
	code, out := runFile(t, spec, "name: x\n", "--check")
	if code != 0 || out["skipped"] != true {
		t.Fatalf("--check on a module without check mode: exit %d, %v", code, out)
	}
}

func TestRunExitCodes(t *testing.T) {
	code, out := runFile(t, protocolSpec, `{"name": "x", "fail_with": "glance said no"}`)
	if code != 1 || out["failed"] != true || out["msg"] != "glance said no" {
		t.Fatalf("a failing module: exit %d, %v", code, out)
	}
	code, out = runFile(t, protocolSpec, `{"count": "x"}`)
	if code != 1 || out["msg"] != "missing required arguments: name" {
		t.Fatalf("invalid arguments: exit %d, %v", code, out)
	}
	code, _ = runFile(t, protocolSpec, `{"name": "x"}`)
	if code != 0 {
		t.Fatalf("a successful module exits %d", code)
	}
}

func TestRunBadArgsFiles(t *testing.T) {
	code, out := runArgs(t, protocolSpec, filepath.Join(t.TempDir(), "missing.json"))
	if msg, _ := out["msg"].(string); code != 1 || out["failed"] != true ||
		!strings.HasPrefix(msg, "reading the args file: ") || !strings.Contains(msg, "no such file") {
		t.Errorf("a missing file: exit %d, %v", code, out)
	}
	for _, c := range []struct {
		name, content, wantPrefix string
	}{
		{"broken JSON", `{"name": "x",, }`, "parsing the args file: it is neither a JSON object nor YAML: "},
		{"broken YAML", "name: [x\n", "parsing the args file: it is neither a JSON object nor YAML: "},
		{"a YAML list", "- name: x\n", "parsing the args file: expected a mapping of option names to values, got list"},
		{"a JSON list", `["x"]`, "parsing the args file: expected a mapping of option names to values, got list"},
		{"a bare word", "hello\n", "parsing the args file: expected a mapping of option names to values, got str"},
		{"an empty file: no options", "", "missing required arguments: name"},
	} {
		code, out := runFile(t, protocolSpec, c.content)
		if msg, _ := out["msg"].(string); code != 1 || out["failed"] != true || !strings.HasPrefix(msg, c.wantPrefix) {
			t.Errorf("%s: exit %d, %v; want a msg starting %q", c.name, code, out, c.wantPrefix)
		}
	}
}

func TestRunUsage(t *testing.T) {
	for _, argv := range [][]string{nil, {"a.json", "b.json"}, {"--verbose", "a.json"}, {"a.json", "--check"}} {
		code, out := runArgs(t, protocolSpec, argv...)
		if msg, _ := out["msg"].(string); code != 1 || !strings.HasPrefix(msg, "usage: imageops.cloud.protocol_test [--check] [--diff] ARGS_FILE") {
			t.Errorf("argv %q: exit %d, %v", argv, code, out)
		}
	}
}

// TestRealAnsibleRunsABinaryModule has ansible-playbook run this test binary
// as a binary module, to check the protocol end to end: the args file Ansible
// writes, check mode, diff, no_log and failures as Ansible reports them.
func TestRealAnsibleRunsABinaryModule(t *testing.T) {
	ansiblePython(t) // skips without Ansible
	playbookCommand, err := exec.LookPath("ansible-playbook")
	if err != nil {
		t.Skip("ansible-playbook is not installed")
	}
	dir := t.TempDir()
	library := filepath.Join(dir, "library")
	if err := os.MkdirAll(library, 0o755); err != nil {
		t.Fatal(err)
	}
	copyExecutable(t, filepath.Join(library, "imageops_protocol_test"))
	playbook := filepath.Join(dir, "playbook.yml")
	if err := os.WriteFile(playbook, []byte(`
- hosts: localhost
  gather_facts: false
  environment:
    IMAGEOPS_ANSIBLE_TEST_MODULE: "1"
  tasks:
    - name: plain run
      imageops_protocol_test: {name: debian, count: "3", tags: "a,b", password: s3cret-pw}
    - name: check mode
      imageops_protocol_test: {name: debian}
      check_mode: true
    - name: diff mode
      imageops_protocol_test: {name: debian}
      diff: true
    - name: failure
      imageops_protocol_test: {name: debian, password: s3cret-pw, fail_with: "denied for s3cret-pw"}
      ignore_errors: true
    - name: unknown option
      imageops_protocol_test: {name: debian, colour: blue}
      ignore_errors: true
`), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, playbookCommand, "-i", "localhost,", "-c", "local", playbook)
	cmd.Env = append(os.Environ(),
		"ANSIBLE_LIBRARY="+library,
		"ANSIBLE_STDOUT_CALLBACK=json",
		"ANSIBLE_LOCAL_TEMP="+filepath.Join(dir, "local-tmp"),
		"ANSIBLE_REMOTE_TEMP="+filepath.Join(dir, "remote-tmp"),
		"ANSIBLE_NOCOLOR=1",
		"ANSIBLE_RETRY_FILES_ENABLED=0",
	)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("ansible-playbook: %v\nstdout: %s\nstderr: %s", err, stdout, stderr.String())
	}
	if strings.Contains(string(stdout), "s3cret-pw") {
		t.Fatalf("the no_log password is in Ansible's output: %s", stdout)
	}
	var report struct {
		Plays []struct {
			Tasks []struct {
				Task  struct{ Name string }
				Hosts map[string]map[string]any
			}
		}
	}
	if err := json.Unmarshal(stdout, &report); err != nil || len(report.Plays) != 1 {
		t.Fatalf("decoding the json callback's report: %v\n%s", err, stdout)
	}
	results := map[string]map[string]any{}
	for _, task := range report.Plays[0].Tasks {
		results[task.Task.Name] = task.Hosts["localhost"]
	}

	plain := results["plain run"]
	checkSubset(t, "plain run params", map[string]any{"name": "debian", "count": 3, "tags": []any{"a", "b"},
		"password": placeholder}, plain["params"])
	if plain["changed"] != true || plain["said"] != "the password is ********" || plain["diff"] != nil {
		t.Errorf("plain run: %v", plain)
	}
	if check := results["check mode"]; check["check_mode"] != true || check["changed"] != false {
		t.Errorf("check mode: %v", check)
	}
	if diff, _ := results["diff mode"]["diff"].(map[string]any); diff["after"] != "debian" {
		t.Errorf("diff mode: %v", results["diff mode"])
	}
	if failure := results["failure"]; failure["failed"] != true || failure["msg"] != "denied for ********" {
		t.Errorf("failure: %v", failure)
	}
	unknown := results["unknown option"]
	if unknown["failed"] != true || unknown["msg"] != "Unsupported parameters for (imageops.cloud.protocol_test) module: colour. "+
		"Supported parameters include: count, enabled, fail_with, name, password, tags." {
		t.Errorf("unknown option: %v", unknown)
	}
}

func copyExecutable(t *testing.T, target string) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	in, err := os.Open(self)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
