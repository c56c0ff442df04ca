package ansible

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	json "github.com/goccy/go-json"
)

// ansibleCase is one task run both by this package and by ansible-core's
// AnsibleModule. ansibleMsg is what AnsibleModule answered, recorded from
// ansible-core 2.14.18; TestCasesMatchRealAnsibleModule re-runs every case
// through the real AnsibleModule (when Ansible is installed) to prove the
// recordings, and the Go tests prove this package gives the same answer.
type ansibleCase struct {
	name string
	spec Spec
	args map[string]any
	// result is what the module returns once validation passed; a "fail" key
	// makes it fail with that message (fail_json in Python, an error in Go).
	result map[string]any
	// ansibleMsg is AnsibleModule's msg, "" when the task succeeded. A
	// trailing "..." compares only the text before it (Python prints a set).
	ansibleMsg string
	// params are option values the module sees (Go's and Ansible's).
	params map[string]any
	// fields are values of the output, by dotted path ("invocation.module_args.pw").
	fields map[string]any
	// warnings are the result's warnings.
	warnings []string
	// deviation, when set, says why this package deliberately answers
	// differently; msg (Go's msg, "" for success) and params/fields/warnings
	// are then Go's answer, and only ansibleMsg is compared with Ansible.
	deviation string
	msg       string
}

const testModuleName = "imageops.cloud.x"

// wantMsg is the msg this package must give.
func (c ansibleCase) wantMsg() string {
	if c.deviation != "" {
		return c.msg
	}
	return c.ansibleMsg
}

// runGo runs the case through Execute, with the args decoded from JSON as an
// args file is (numbers are json.Number).
func (c ansibleCase) runGo(t *testing.T) map[string]any {
	t.Helper()
	spec := c.spec
	spec.Name = testModuleName
	encoded, err := json.Marshal(c.args)
	if err != nil {
		t.Fatal(err)
	}
	args, err := ParseArgs(encoded)
	if err != nil {
		t.Fatal(err)
	}
	out := Execute(context.Background(), spec, args, func(ctx context.Context, m *Module) (any, error) {
		result := map[string]any{"params": m.Params}
		for key, value := range c.result {
			result[key] = value
		}
		if msg, ok := result["fail"].(string); ok {
			delete(result, "fail")
			return nil, secretError{msg: msg, fields: result}
		}
		return result, nil
	})
	// The output must be what Run prints: plain JSON.
	if _, err := json.Marshal(out); err != nil {
		t.Fatalf("result does not encode: %v", err)
	}
	return out
}

// checkGo asserts that this package answers the case as it should.
func (c ansibleCase) checkGo(t *testing.T) {
	t.Helper()
	if c.deviation == "" && c.msg != "" {
		t.Fatalf("case %q sets msg without a deviation; msg is ansibleMsg then", c.name)
	}
	out := c.runGo(t)
	gotMsg, _ := out["msg"].(string)
	if gotMsg != c.wantMsg() {
		t.Errorf("msg:\n got: %q\nwant: %q", gotMsg, c.wantMsg())
	}
	failed, _ := out["failed"].(bool)
	if wantFailed := c.wantMsg() != ""; failed != wantFailed {
		t.Errorf("failed = %v, want %v (output %v)", failed, wantFailed, out)
	}
	checkSubset(t, "params", c.params, out["params"])
	for path, want := range c.fields {
		checkValue(t, path, want, lookup(out, path))
	}
	checkValue(t, "warnings", c.warnings, out["warnings"])
}

func checkSubset(t *testing.T, what string, want map[string]any, got any) {
	t.Helper()
	gotMap, _ := got.(map[string]any)
	for key, value := range want {
		checkValue(t, what+"."+key, value, gotMap[key])
	}
}

// checkValue compares two values as JSON sees them (1 == 1.0, nil == absent list).
func checkValue(t *testing.T, what string, want, got any) {
	t.Helper()
	if !reflect.DeepEqual(asJSON(t, want), asJSON(t, got)) {
		t.Errorf("%s:\n got: %#v\nwant: %#v", what, got, want)
	}
}

func asJSON(t *testing.T, value any) any {
	t.Helper()
	if list, ok := value.([]string); ok && len(list) == 0 {
		value = nil
	}
	encoded, err := json.Marshal(value)
	if err != nil {
		t.Fatalf("encoding %#v: %v", value, err)
	}
	var out any
	if err := json.Unmarshal(encoded, &out); err != nil {
		t.Fatal(err)
	}
	if list, ok := out.([]any); ok && len(list) == 0 {
		return nil
	}
	return out
}

func lookup(value any, path string) any {
	for _, key := range strings.Split(path, ".") {
		object, ok := value.(map[string]any)
		if !ok {
			return nil
		}
		value = object[key]
	}
	return value
}

// specCases: the argument checks, in AnsibleModule's words.
var specCases = []ansibleCase{
	{
		name:       "unsupported parameters list every option and, in parentheses, every alias",
		spec:       Spec{Options: map[string]Option{"d": {Aliases: []string{"alias2", "alias1"}}, "c": {}}},
		args:       map[string]any{"b": 1, "a": 2},
		ansibleMsg: "Unsupported parameters for (imageops.cloud.x) module: a, b. Supported parameters include: c, d (alias1, alias2).",
	},
	{
		name: "aliases of several options are gathered in one sorted list",
		spec: Spec{Options: map[string]Option{
			"name": {Aliases: []string{"image"}}, "state": {}, "url": {Aliases: []string{"source_url", "href"}}}},
		args:       map[string]any{"nmae": "x"},
		ansibleMsg: "Unsupported parameters for (imageops.cloud.x) module: nmae. Supported parameters include: name, state, url (href, image, source_url).",
	},
	{
		name:       "missing required arguments are listed sorted",
		spec:       Spec{Options: map[string]Option{"b": {Required: true}, "a": {Required: true}, "c": {}}},
		args:       map[string]any{"c": "x"},
		ansibleMsg: "missing required arguments: a, b",
	},
	{
		name:       "a value outside choices",
		spec:       Spec{Options: map[string]Option{"state": {Choices: []any{"present", "absent"}}}},
		args:       map[string]any{"state": "foo"},
		ansibleMsg: "value of state must be one of: present, absent, got: foo",
	},
	{
		name:       "a default outside choices is reported too",
		spec:       Spec{Options: map[string]Option{"a": {Choices: []any{"x", "y"}, Default: "z"}}},
		args:       map[string]any{},
		ansibleMsg: "value of a must be one of: x, y, got: z",
	},
	{
		name:       "choices of an int option are compared after conversion",
		spec:       Spec{Options: map[string]Option{"n": {Type: TypeInt, Choices: []any{1, 2}}}},
		args:       map[string]any{"n": "2"},
		params:     map[string]any{"n": 2},
		ansibleMsg: "",
	},
	{
		name:       "a list with choices names every unmatched element",
		spec:       Spec{Options: map[string]Option{"l": {Type: TypeList, Elements: TypeStr, Choices: []any{"a", "b"}}}},
		args:       map[string]any{"l": []any{"a", "x", "y"}},
		ansibleMsg: "value of l must be one or more of: a, b. Got no match for: x, y",
	},
	{
		name:       "mutually exclusive options",
		spec:       Spec{Options: map[string]Option{"a": {}, "b": {}}, MutuallyExclusive: [][]string{{"a", "b"}}},
		args:       map[string]any{"a": "1", "b": "2"},
		ansibleMsg: "parameters are mutually exclusive: a|b",
	},
	{
		name: "every violated mutually exclusive group is named",
		spec: Spec{Options: map[string]Option{"a": {}, "b": {}, "c": {}, "d": {}},
			MutuallyExclusive: [][]string{{"a", "b"}, {"c", "d"}}},
		args:       map[string]any{"a": "1", "b": "2", "c": "3", "d": "4"},
		ansibleMsg: "parameters are mutually exclusive: a|b, c|d",
	},
	{
		name:       "one of a mutually exclusive group is fine",
		spec:       Spec{Options: map[string]Option{"a": {}, "b": {Default: "x"}}, MutuallyExclusive: [][]string{{"a", "b"}}},
		args:       map[string]any{"a": "1"},
		params:     map[string]any{"a": "1", "b": "x"},
		ansibleMsg: "",
	},
	{
		name:       "required together counts a defaulted option as given",
		spec:       Spec{Options: map[string]Option{"a": {Default: "x"}, "b": {}}, RequiredTogether: [][]string{{"a", "b"}}},
		args:       map[string]any{},
		ansibleMsg: "parameters are required together: a, b",
	},
	{
		name:       "required one of is satisfied by a default",
		spec:       Spec{Options: map[string]Option{"a": {Default: "x"}, "b": {}}, RequiredOneOf: [][]string{{"a", "b"}}},
		args:       map[string]any{},
		params:     map[string]any{"a": "x", "b": nil},
		ansibleMsg: "",
	},
	{
		name:       "required one of",
		spec:       Spec{Options: map[string]Option{"x": {}, "y": {}}, RequiredOneOf: [][]string{{"x", "y"}}},
		args:       map[string]any{},
		ansibleMsg: "one of the following is required: x, y",
	},
	{
		name: "mutually exclusive is reported before unsupported, required and type errors",
		spec: Spec{Options: map[string]Option{"a": {}, "b": {}, "n": {Type: TypeInt}, "r": {Required: true}},
			MutuallyExclusive: [][]string{{"a", "b"}}},
		args:       map[string]any{"a": "1", "b": "2", "zz": 1, "n": "x"},
		ansibleMsg: "parameters are mutually exclusive: a|b",
	},
	{
		name:       "missing required is reported before unsupported and type errors",
		spec:       Spec{Options: map[string]Option{"n": {Type: TypeInt}, "r": {Required: true}}},
		args:       map[string]any{"zz": 1, "n": "x"},
		ansibleMsg: "missing required arguments: r",
	},
	{
		name:       "choices are reported before unsupported parameters",
		spec:       Spec{Options: map[string]Option{"state": {Choices: []any{"present", "absent"}}}},
		args:       map[string]any{"state": "bad", "zz": 1},
		ansibleMsg: "value of state must be one of: present, absent, got: bad",
	},
	{
		name:       "an alias gives the option its value",
		spec:       Spec{Options: map[string]Option{"interface": {Aliases: []string{"endpoint_type"}}}},
		args:       map[string]any{"endpoint_type": "internal"},
		params:     map[string]any{"interface": "internal"},
		ansibleMsg: "",
	},
	{
		name:       "an alias wins over its option, with a warning per alias",
		spec:       Spec{Options: map[string]Option{"a": {Aliases: []string{"b", "c"}}}},
		args:       map[string]any{"a": "1", "b": "2", "c": "3"},
		params:     map[string]any{"a": "3"},
		warnings:   []string{"Both option a and its alias b are set.", "Both option a and its alias c are set."},
		ansibleMsg: "",
	},
	{
		name:       "two aliases of one option: the last in the spec wins",
		spec:       Spec{Options: map[string]Option{"a": {Aliases: []string{"b", "c"}}}},
		args:       map[string]any{"b": "2", "c": "3"},
		params:     map[string]any{"a": "3"},
		warnings:   []string{"Both option a and its alias c are set."},
		ansibleMsg: "",
	},
	{
		name: "defaults are applied and converted; options without one are null",
		spec: Spec{Options: map[string]Option{
			"n": {Type: TypeInt, Default: "5"}, "b": {Type: TypeBool, Default: "yes"}, "o": {}, "l": {Type: TypeList, Default: []any{"x"}}}},
		args:       map[string]any{},
		params:     map[string]any{"n": 5, "b": true, "o": nil, "l": []any{"x"}},
		ansibleMsg: "",
	},
	{
		name:       "a given value replaces the default",
		spec:       Spec{Options: map[string]Option{"state": {Default: "present", Choices: []any{"present", "absent"}}}},
		args:       map[string]any{"state": "absent"},
		params:     map[string]any{"state": "absent"},
		ansibleMsg: "",
	},
	{
		name:       "null for a required option",
		spec:       Spec{Options: map[string]Option{"a": {Required: true}}},
		args:       map[string]any{"a": nil},
		ansibleMsg: "",
		deviation:  "Ansible counts a key given as null as present and hands the module None; we treat null as not given, so a required option is never nil",
		msg:        "missing required arguments: a",
	},
	{
		name:       "null for one of two mutually exclusive options",
		spec:       Spec{Options: map[string]Option{"a": {}, "b": {}}, MutuallyExclusive: [][]string{{"a", "b"}}},
		args:       map[string]any{"a": "1", "b": nil},
		ansibleMsg: "parameters are mutually exclusive: a|b",
		deviation:  "null counts as not given (see the required case)",
		msg:        "",
		params:     map[string]any{"a": "1", "b": nil},
	},
	{
		name:       "unknown _ansible_ keys",
		spec:       Spec{Options: map[string]Option{"c": {}}},
		args:       map[string]any{"c": "x", "_ansible_foo": 2},
		ansibleMsg: "Unsupported parameters for (imageops.cloud.x) module: _ansible_foo. Supported parameters include: c.",
		deviation:  "AnsibleModule rejects _ansible_* keys it does not know; a binary built today must keep working when a newer Ansible sends new private keys, so all _ansible_* keys are ignored",
		msg:        "",
		params:     map[string]any{"c": "x"},
	},
}

func TestSpecMatchesAnsibleModule(t *testing.T) {
	for _, c := range specCases {
		t.Run(c.name, c.checkGo)
	}
}

func TestValidateErrorsAreValidationErrors(t *testing.T) {
	spec := Spec{Name: testModuleName, Options: map[string]Option{"n": {Type: TypeInt}}}
	_, err := spec.Validate(map[string]any{"n": "many"})
	var validationError *ValidationError
	if !errors.As(err, &validationError) {
		t.Fatalf("Validate error %v (%T) is not a *ValidationError", err, err)
	}
	params, err := spec.Validate(map[string]any{"n": "7"})
	if err != nil || params["n"] != int64(7) {
		t.Fatalf("Validate = %v, %v; want n=7", params, err)
	}
}

func TestWithAddsSharedOptionsAndKeepsTheModulesOwn(t *testing.T) {
	base := Spec{Name: testModuleName, Options: map[string]Option{
		"name":  {Required: true},
		"cloud": {Type: TypeInt}, // the module's own definition wins
	}}
	shared := map[string]Option{"cloud": {}, "region_name": {}}
	merged := base.With(shared)
	if len(merged.Options) != 3 || merged.Options["cloud"].Type != TypeInt || !merged.Options["name"].Required {
		t.Fatalf("With gave %v", merged.Options)
	}
	if _, ok := base.Options["region_name"]; ok {
		t.Fatal("With changed the spec it was called on")
	}
	if _, ok := shared["name"]; ok {
		t.Fatal("With changed the shared options")
	}
}

// TestCasesMatchRealAnsibleModule runs every case of this package's tables
// through ansible-core's AnsibleModule (one Python process, the interpreter
// of the installed `ansible` command) and checks the recorded answers.
func TestCasesMatchRealAnsibleModule(t *testing.T) {
	python := ansiblePython(t)
	t.Setenv("HOME", "/home/imageops-test")
	t.Setenv("IMAGEOPS_TEST_DIR", "/srv/images")
	var cases []ansibleCase
	for _, table := range [][]ansibleCase{specCases, conversionCases, noLogCases} {
		cases = append(cases, table...)
	}
	type pythonCase struct {
		Args   map[string]any `json:"args"`
		Kwargs map[string]any `json:"kwargs"`
		Result map[string]any `json:"result"`
	}
	input := make([]pythonCase, len(cases))
	for i, c := range cases {
		args := map[string]any{"_ansible_module_name": testModuleName}
		for key, value := range c.args {
			args[key] = value
		}
		input[i] = pythonCase{Args: args, Kwargs: ansibleKwargs(c.spec), Result: c.result}
	}
	outputs := runPython(t, python, referenceHarness, input)
	if len(outputs) != len(cases) {
		t.Fatalf("the harness answered %d cases of %d", len(outputs), len(cases))
	}
	for i, c := range cases {
		out := outputs[i]
		t.Run(c.name, func(t *testing.T) {
			gotMsg, _ := out["msg"].(string)
			if prefix, ok := strings.CutSuffix(c.ansibleMsg, "..."); ok {
				if !strings.HasPrefix(gotMsg, prefix) {
					t.Errorf("AnsibleModule's msg %q does not start with the recorded %q", gotMsg, prefix)
				}
			} else if gotMsg != c.ansibleMsg {
				t.Errorf("AnsibleModule's msg:\n got: %q\nrecorded: %q", gotMsg, c.ansibleMsg)
			}
			if c.deviation != "" {
				return
			}
			checkSubset(t, "AnsibleModule params", c.params, out["params"])
			for path, want := range c.fields {
				checkValue(t, "AnsibleModule "+path, want, lookup(out, path))
			}
			checkValue(t, "AnsibleModule warnings", c.warnings, out["warnings"])
		})
	}
}

// ansibleKwargs is the AnsibleModule(...) keyword arguments equivalent to spec.
func ansibleKwargs(spec Spec) map[string]any {
	argumentSpec := map[string]any{}
	for name, opt := range spec.Options {
		entry := map[string]any{}
		if opt.Type != "" {
			entry["type"] = string(opt.Type)
		}
		if opt.Elements != "" {
			entry["elements"] = string(opt.Elements)
		}
		if opt.Required {
			entry["required"] = true
		}
		if opt.Default != nil {
			entry["default"] = opt.Default
		}
		if opt.Choices != nil {
			entry["choices"] = opt.Choices
		}
		if opt.Aliases != nil {
			entry["aliases"] = opt.Aliases
		}
		if opt.NoLog {
			entry["no_log"] = true
		}
		argumentSpec[name] = entry
	}
	return map[string]any{
		"argument_spec":       argumentSpec,
		"mutually_exclusive":  spec.MutuallyExclusive,
		"required_together":   spec.RequiredTogether,
		"required_one_of":     spec.RequiredOneOf,
		"supports_check_mode": spec.SupportsCheckMode,
	}
}

// referenceHarness runs AnsibleModule once per case read from stdin and
// prints the JSON each run printed, as a list.
const referenceHarness = `
import contextlib, io, json, sys
from ansible.module_utils import basic
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common import warnings as ansible_warnings

outputs = []
for case in json.load(sys.stdin):
    basic._ANSIBLE_ARGS = json.dumps({"ANSIBLE_MODULE_ARGS": case["args"]}).encode()
    del ansible_warnings._global_warnings[:]
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            module = AnsibleModule(**case["kwargs"])
            result = dict(case["result"] or {})
            if "fail" in result:
                module.fail_json(msg=result.pop("fail"), **result)
            module.exit_json(params=module.params, **result)
    except SystemExit:
        pass
    outputs.append(json.loads(printed.getvalue()))
json.dump(outputs, sys.stdout)
`

// ansiblePython returns the Python interpreter of the installed `ansible`
// command. Without Ansible the test is skipped, unless
// IMAGEOPS_REQUIRE_SERVICES=1, where it fails.
func ansiblePython(t *testing.T) string {
	t.Helper()
	unavailable := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("IMAGEOPS_REQUIRE_SERVICES") == "1" {
			t.Fatalf(format, args...)
		}
		t.Skipf(format, args...)
	}
	command, err := exec.LookPath("ansible")
	if err != nil {
		unavailable("ansible is not installed: %v", err)
	}
	file, err := os.Open(command)
	if err != nil {
		unavailable("reading %s: %v", command, err)
	}
	defer file.Close()
	line, _ := bufio.NewReader(file).ReadString('\n')
	fields := strings.Fields(strings.TrimPrefix(line, "#!"))
	python := "python3"
	if len(fields) > 0 && !strings.HasSuffix(fields[0], "/env") {
		python = fields[0]
	} else if len(fields) > 1 {
		python = fields[1]
	}
	if out, err := exec.Command(python, "-c", "import ansible.module_utils.basic").CombinedOutput(); err != nil {
		unavailable("%s cannot import ansible: %v\n%s", python, err, out)
	}
	return python
}

func runPython(t *testing.T, python, script string, input any) []map[string]any {
	t.Helper()
	path := filepath.Join(t.TempDir(), "harness.py")
	if err := os.WriteFile(path, []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	encoded, err := json.Marshal(input)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, path)
	cmd.Stdin = bytes.NewReader(encoded)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("running AnsibleModule: %v\n%s", err, stderr.String())
	}
	var outputs []map[string]any
	if err := json.Unmarshal(stdout, &outputs); err != nil {
		t.Fatalf("decoding AnsibleModule's output: %v\n%s", err, stdout)
	}
	return outputs
}
