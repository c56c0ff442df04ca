package ansible

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	json "github.com/goccy/go-json"
)

const placeholder = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"

// noLogCases: masking compared with AnsibleModule's remove_values.
var noLogCases = []ansibleCase{
	{
		name:       "a no_log value: placeholder in invocation, ******** inside strings",
		spec:       Spec{Options: map[string]Option{"pw": {NoLog: true}, "o": {}}},
		args:       map[string]any{"pw": "s3cret", "o": "s3cret-x"},
		result:     map[string]any{"fail": "bad s3cret here", "x": "s3cret"},
		ansibleMsg: "bad ******** here",
		fields: map[string]any{"x": placeholder, "invocation.module_args.pw": placeholder,
			"invocation.module_args.o": "********-x"},
	},
	{
		name:       "a no_log value given under an alias, when validation fails",
		spec:       Spec{Options: map[string]Option{"pw": {NoLog: true, Aliases: []string{"password"}}, "r": {Required: true}}},
		args:       map[string]any{"password": "s3cret"},
		ansibleMsg: "missing required arguments: r",
		fields:     map[string]any{"invocation.module_args.password": placeholder},
	},
	{
		name:       "a no_log value that fails its own conversion",
		spec:       Spec{Options: map[string]Option{"pw": {NoLog: true, Type: TypeInt}}},
		args:       map[string]any{"pw": "s3cret"},
		ansibleMsg: "argument 'pw' is of type <class 'str'> and we were unable to convert to int: <class 'str'> cannot be converted to an int",
		deviation:  typeErrorWording + " (but never a no_log value)",
		msg:        "argument 'pw' is of type str and we were unable to convert to int: str cannot be converted to an int (only decimal integers are)",
		fields:     map[string]any{"invocation.module_args.pw": placeholder},
	},
	{
		name:       "every string and number inside a no_log dict is a secret",
		spec:       Spec{Options: map[string]Option{"auth": {Type: TypeDict, NoLog: true}}},
		args:       map[string]any{"auth": map[string]any{"password": "pw1", "username": "bob", "port": 5000}},
		result:     map[string]any{"m": "bob pw1 5000", "n": 5000},
		ansibleMsg: "",
		fields:     map[string]any{"m": "******** ******** ********", "n": placeholder},
	},
	{
		name:       "a no_log boolean does not mask the words true and false",
		spec:       Spec{Options: map[string]Option{"flag": {Type: TypeBool, NoLog: true}}},
		args:       map[string]any{"flag": true},
		result:     map[string]any{"m": "it is true, not false"},
		ansibleMsg: "",
		fields:     map[string]any{"m": "it is true, not false"},
	},
	{
		name:       "a no_log default is masked too",
		spec:       Spec{Options: map[string]Option{"token": {NoLog: true, Default: "d3fault"}}},
		args:       map[string]any{},
		result:     map[string]any{"m": "using d3fault"},
		ansibleMsg: "",
		fields:     map[string]any{"m": "using ********"},
	},
}

func TestNoLogMatchesAnsibleModule(t *testing.T) {
	for _, c := range noLogCases {
		t.Run(c.name, c.checkGo)
	}
}

// secretError is an error that carries fields, like a partial report.
type secretError struct {
	msg    string
	fields map[string]any
}

func (e secretError) Error() string          { return e.msg }
func (e secretError) Fields() map[string]any { return e.fields }

type imageReport struct {
	Name       string            `json:"name"`
	Properties map[string]string `json:"properties"`
}

// TestNoLogValueNeverInOutput: whatever route a secret takes, the JSON a
// module prints does not contain it.
func TestNoLogValueNeverInOutput(t *testing.T) {
	const secret = "hunter2-Very-Secret"
	spec := Spec{Name: testModuleName, Options: map[string]Option{
		"password": {NoLog: true, Aliases: []string{"pass"}},
		"count":    {Type: TypeInt},
		"name":     {},
	}}
	for _, c := range []struct {
		name string
		args map[string]any
		run  RunFunc
	}{
		{"in invocation", map[string]any{"password": secret}, nil},
		{"in invocation under an alias", map[string]any{"pass": secret}, nil},
		{"in an error message", map[string]any{"password": secret}, func(ctx context.Context, m *Module) (any, error) {
			return nil, fmt.Errorf("logging in with %s: denied", m.Params["password"])
		}},
		{"in a wrapped error", map[string]any{"password": secret}, func(ctx context.Context, m *Module) (any, error) {
			return nil, fmt.Errorf("connecting: %w", errors.New("bad password "+secret))
		}},
		{"in a result's typed map", map[string]any{"password": secret}, func(ctx context.Context, m *Module) (any, error) {
			return map[string]any{"image": imageReport{Name: "x", Properties: map[string]string{"p": secret}}}, nil
		}},
		{"in a result struct", map[string]any{"password": secret}, func(ctx context.Context, m *Module) (any, error) {
			return imageReport{Name: "x " + secret}, nil
		}},
		{"in a []map[string]string", map[string]any{"password": secret}, func(ctx context.Context, m *Module) (any, error) {
			return map[string]any{"items": []map[string]string{{"k": secret}}}, nil
		}},
		{"in an error's fields", map[string]any{"password": secret}, func(ctx context.Context, m *Module) (any, error) {
			return nil, secretError{msg: "partial", fields: map[string]any{"report": imageReport{Name: secret}}}
		}},
		{"in a warning", map[string]any{"password": secret}, func(ctx context.Context, m *Module) (any, error) {
			m.Warn("the password %s is weak", secret)
			return nil, nil
		}},
		{"in a panic", map[string]any{"password": secret}, func(ctx context.Context, m *Module) (any, error) {
			panic("cannot use " + secret)
		}},
		{"given to a failing validation", map[string]any{"password": secret, "count": "many"}, nil},
		{"given under an alias to a failing validation", map[string]any{"pass": secret, "bogus": 1}, nil},
		{"registered with AddSecret", map[string]any{"name": "x"}, func(ctx context.Context, m *Module) (any, error) {
			m.AddSecret(secret) // e.g. a password read from clouds.yaml
			return map[string]any{"auth": map[string]string{"password": secret}}, fmt.Errorf("auth %s failed", secret)
		}},
		{"registered with AddSecret, on success", map[string]any{"name": "x"}, func(ctx context.Context, m *Module) (any, error) {
			m.AddSecret(secret)
			return map[string]any{"msg": "token " + secret, "list": []string{secret}}, nil
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			run := c.run
			if run == nil {
				run = func(ctx context.Context, m *Module) (any, error) { return map[string]any{"echo": m.Params}, nil }
			}
			out := Execute(context.Background(), spec, c.args, run)
			encoded, err := json.Marshal(out)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(encoded), secret) {
				t.Fatalf("the secret is in the output: %s", encoded)
			}
			if !strings.Contains(string(encoded), "********") && !strings.Contains(string(encoded), placeholder) {
				t.Fatalf("nothing was masked, so the secret never reached the output: %s", encoded)
			}
		})
	}
}

func TestAddSecretMasksInsideMessages(t *testing.T) {
	out := Execute(context.Background(), Spec{Name: testModuleName}, map[string]any{},
		func(ctx context.Context, m *Module) (any, error) {
			m.AddSecret("pa55")
			m.AddSecret("") // ignored: masking "" would garble everything
			return nil, errors.New("keystone refused pa55 for bob")
		})
	if out["msg"] != "keystone refused ******** for bob" {
		t.Fatalf("msg = %q", out["msg"])
	}
}

func TestLongerSecretIsMaskedWhole(t *testing.T) {
	spec := Spec{Name: testModuleName, Options: map[string]Option{
		"short": {NoLog: true}, "long": {NoLog: true}}}
	out := Execute(context.Background(), spec, map[string]any{"short": "abc", "long": "abcdef"},
		func(ctx context.Context, m *Module) (any, error) {
			return map[string]any{"m": "x abcdef y abc z"}, nil
		})
	if out["m"] != "x ******** y ******** z" {
		t.Fatalf("m = %q, want both secrets masked whole", out["m"])
	}
}

func TestCheckMode(t *testing.T) {
	spec := Spec{Name: testModuleName, Options: map[string]Option{"name": {Required: true}}}
	calls := 0
	run := func(ctx context.Context, m *Module) (any, error) {
		calls++
		return map[string]any{"changed": !m.CheckMode, "check_mode": m.CheckMode}, nil
	}

	out := Execute(context.Background(), spec, map[string]any{"name": "x", "_ansible_check_mode": true}, run)
	if out["skipped"] != true || out["msg"] != "remote module (imageops.cloud.x) does not support check mode" ||
		out["changed"] != false || out["failed"] != nil || calls != 0 {
		t.Fatalf("without check mode support: %v (module ran %d times)", out, calls)
	}
	// Validation still happens first, as in Ansible.
	out = Execute(context.Background(), spec, map[string]any{"_ansible_check_mode": true}, run)
	if out["failed"] != true || out["msg"] != "missing required arguments: name" {
		t.Fatalf("invalid args in check mode: %v", out)
	}

	spec.SupportsCheckMode = true
	out = Execute(context.Background(), spec, map[string]any{"name": "x", "_ansible_check_mode": true}, run)
	if out["skipped"] != nil || out["check_mode"] != true || out["changed"] != false || calls != 1 {
		t.Fatalf("with check mode support: %v", out)
	}
	out = Execute(context.Background(), spec, map[string]any{"name": "x", "_ansible_check_mode": false}, run)
	if out["check_mode"] != false || out["changed"] != true {
		t.Fatalf("outside check mode: %v", out)
	}
}

func TestDiffIsKeptOnlyInDiffMode(t *testing.T) {
	spec := Spec{Name: testModuleName, SupportsCheckMode: true}
	run := func(ctx context.Context, m *Module) (any, error) {
		return map[string]any{"changed": true, "diff": map[string]any{"before": "a", "after": "b"}}, nil
	}
	for _, c := range []struct {
		args     map[string]any
		wantDiff bool
	}{
		{map[string]any{}, false},
		{map[string]any{"_ansible_diff": false}, false},
		{map[string]any{"_ansible_diff": true}, true},
		{map[string]any{"_ansible_diff": "yes"}, true},
	} {
		out := Execute(context.Background(), spec, c.args, run)
		diff, ok := out["diff"].(map[string]any)
		if ok != c.wantDiff || (ok && (diff["before"] != "a" || diff["after"] != "b")) {
			t.Errorf("args %v: diff = %v, want present=%v", c.args, out["diff"], c.wantDiff)
		}
	}
}

func TestPanicBecomesAFailedResult(t *testing.T) {
	out := Execute(context.Background(), Spec{Name: testModuleName}, map[string]any{},
		func(ctx context.Context, m *Module) (any, error) {
			var images map[string]int
			images["x"]++ // assignment to entry in nil map
			return nil, nil
		})
	msg, _ := out["msg"].(string)
	if out["failed"] != true || !strings.HasPrefix(msg, "module imageops.cloud.x crashed: ") ||
		!strings.Contains(msg, "nil map") {
		t.Fatalf("got %v", out)
	}
	encoded, _ := json.Marshal(out)
	if strings.Contains(string(encoded), "goroutine") || strings.Contains(string(encoded), ".go:") {
		t.Fatalf("a stack trace reached the result: %s", encoded)
	}
}

func TestErrorFieldsAreAdded(t *testing.T) {
	out := Execute(context.Background(), Spec{Name: testModuleName}, map[string]any{},
		func(ctx context.Context, m *Module) (any, error) {
			err := secretError{msg: "uploading image: timeout", fields: map[string]any{
				"changed": true, "image": imageReport{Name: "debian"}, "msg": "ignored", "failed": false}}
			return nil, fmt.Errorf("task: %w", err)
		})
	if out["failed"] != true || out["msg"] != "task: uploading image: timeout" || out["changed"] != true {
		t.Fatalf("got %v", out)
	}
	if image, _ := out["image"].(map[string]any); image["name"] != "debian" {
		t.Fatalf("image field = %#v", out["image"])
	}
}

func TestResultShape(t *testing.T) {
	spec := Spec{Name: testModuleName, Options: map[string]Option{"name": {}}}
	out := Execute(context.Background(), spec, map[string]any{"name": "x"},
		func(ctx context.Context, m *Module) (any, error) {
			m.Warn("image %s is old", "x")
			return struct {
				ID string `json:"id"`
			}{"42"}, nil
		})
	if out["changed"] != false || out["id"] != "42" || out["failed"] != nil {
		t.Fatalf("got %v", out)
	}
	checkValue(t, "warnings", []string{"image x is old"}, out["warnings"])
	checkValue(t, "invocation", map[string]any{"module_args": map[string]any{"name": "x"}}, out["invocation"])

	out = Execute(context.Background(), spec, map[string]any{}, func(ctx context.Context, m *Module) (any, error) {
		return []string{"not", "an", "object"}, nil
	})
	if out["failed"] != true || !strings.Contains(out["msg"].(string), "must be a JSON object") {
		t.Fatalf("a non-object result: %v", out)
	}
}

func TestAnsiblePrivateKeys(t *testing.T) {
	spec := Spec{Name: testModuleName, Options: map[string]Option{"name": {}}, SupportsCheckMode: true}
	var seen *Module
	out := Execute(context.Background(), spec, map[string]any{
		"name": "x", "_ansible_foo": "new in a future Ansible", "_ansible_verbosity": json.Number("3"),
		"_ansible_check_mode": "yes", "_ansible_diff": "no", "_ansible_version": "2.14.18",
	}, func(ctx context.Context, m *Module) (any, error) {
		seen = m
		return nil, nil
	})
	if out["failed"] != nil || seen == nil {
		t.Fatalf("got %v", out)
	}
	if seen.Verbosity != 3 || !seen.CheckMode || seen.DiffMode {
		t.Fatalf("modes: verbosity %d, check %v, diff %v", seen.Verbosity, seen.CheckMode, seen.DiffMode)
	}
	for key := range seen.Params {
		if strings.HasPrefix(key, "_ansible_") {
			t.Errorf("%s reached the module's params", key)
		}
	}
	if args := out["invocation"].(map[string]any)["module_args"].(map[string]any); len(args) != 1 {
		t.Errorf("invocation shows %v, want only name", args)
	}
}

func TestDecode(t *testing.T) {
	type options struct {
		Name       string            `json:"name"`
		Protected  *bool             `json:"protected"`
		Visible    *bool             `json:"visible"`
		MinDisk    int               `json:"min_disk"`
		Tags       []string          `json:"tags"`
		Properties map[string]string `json:"properties"`
		Ratio      float64           `json:"ratio"`
		Extra      map[string]any    `json:"extra"`
	}
	spec := Spec{Name: testModuleName, Options: map[string]Option{
		"name": {Required: true}, "protected": {Type: TypeBool}, "visible": {Type: TypeBool},
		"min_disk": {Type: TypeInt}, "tags": {Type: TypeList, Elements: TypeStr},
		"properties": {Type: TypeDict}, "ratio": {Type: TypeFloat}, "extra": {Type: TypeDict},
	}}
	args, err := ParseArgs([]byte(`{"name": "debian", "protected": "no", "min_disk": "10",
		"tags": "a,b", "properties": "os=linux arch=x86_64", "ratio": 1, "extra": {"n": 5}}`))
	if err != nil {
		t.Fatal(err)
	}
	var got options
	out := Execute(context.Background(), spec, args, func(ctx context.Context, m *Module) (any, error) {
		return nil, m.Decode(&got)
	})
	if out["failed"] != nil {
		t.Fatalf("got %v", out)
	}
	if got.Name != "debian" || got.Protected == nil || *got.Protected || got.Visible != nil ||
		got.MinDisk != 10 || strings.Join(got.Tags, "|") != "a|b" || got.Ratio != 1 ||
		len(got.Properties) != 2 || got.Properties["os"] != "linux" || got.Properties["arch"] != "x86_64" ||
		fmt.Sprint(got.Extra["n"]) != "5" {
		t.Fatalf("decoded %+v", got)
	}

	var wrong struct {
		MinDisk string `json:"min_disk"`
	}
	m := &Module{Params: map[string]any{"min_disk": int64(10)}}
	if err := m.Decode(&wrong); err == nil || !strings.HasPrefix(err.Error(), "decoding module options: ") {
		t.Fatalf("decoding an int into a string field: %v", err)
	}
}

// TestSecretKeysMaskOnlyTheSecretsOfADict: a dict option such as
// openstack.cloud's auth hides its password everywhere, even when validation
// fails, but keeps auth_url readable for messages that name the endpoint.
func TestSecretKeysMaskOnlyTheSecretsOfADict(t *testing.T) {
	const secret = "s3cret-Passw0rd"
	spec := Spec{Name: testModuleName, Options: map[string]Option{
		"auth":  {Type: TypeDict, NoLog: true, SecretKeys: []string{"password"}},
		"count": {Type: TypeInt},
	}}
	auth := map[string]any{"auth_url": "http://keystone:5000/v3", "password": secret}
	fail := func(ctx context.Context, m *Module) (any, error) {
		return nil, fmt.Errorf("authenticating at %s with %s: refused", m.Params["auth"].(map[string]any)["auth_url"], secret)
	}
	for name, args := range map[string]map[string]any{
		"run fails":        {"auth": auth},
		"validation fails": {"auth": auth, "count": "many"},
	} {
		t.Run(name, func(t *testing.T) {
			out := Execute(context.Background(), spec, args, fail)
			encoded, err := json.Marshal(out)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(encoded), secret) {
				t.Errorf("the password is in the output: %s", encoded)
			}
			shown := out["invocation"].(map[string]any)["module_args"].(map[string]any)["auth"].(map[string]any)
			if shown["password"] != invocationMask || shown["auth_url"] != "http://keystone:5000/v3" {
				t.Errorf("invocation shows auth as %v; want the password masked and auth_url kept", shown)
			}
		})
	}
	out := Execute(context.Background(), spec, map[string]any{"auth": auth}, fail)
	if msg := out["msg"].(string); !strings.Contains(msg, "http://keystone:5000/v3") {
		t.Errorf("msg %q lost the endpoint", msg)
	}
}

// TestSecretKeysReachNestedDicts: a registry_auth-style dict of registry ->
// {username, password} hides the passwords and keeps the usernames.
func TestSecretKeysReachNestedDicts(t *testing.T) {
	spec := Spec{Name: testModuleName, Options: map[string]Option{
		"registry_auth": {Type: TypeDict, NoLog: true, SecretKeys: []string{"password", "token"}},
	}}
	args := map[string]any{"registry_auth": map[string]any{
		"registry.example.com": map[string]any{"username": "admin", "password": "pw-one-Secret"},
		"quay.io":              map[string]any{"token": "tok-two-Secret"},
	}}
	out := Execute(context.Background(), spec, args, func(ctx context.Context, m *Module) (any, error) {
		return map[string]any{"msg": "logged in as admin with pw-one-Secret and tok-two-Secret"}, nil
	})
	encoded, _ := json.Marshal(out)
	for _, secret := range []string{"pw-one-Secret", "tok-two-Secret"} {
		if strings.Contains(string(encoded), secret) {
			t.Errorf("%s is in the output: %s", secret, encoded)
		}
	}
	if !strings.Contains(out["msg"].(string), "logged in as admin") {
		t.Errorf("the username was masked: %v", out["msg"])
	}
	shown := out["invocation"].(map[string]any)["module_args"].(map[string]any)["registry_auth"].(map[string]any)
	example := shown["registry.example.com"].(map[string]any)
	if example["username"] != "admin" || example["password"] != invocationMask {
		t.Errorf("invocation shows %v", shown)
	}
}

func TestURLPasswordsInOptionsAreSecrets(t *testing.T) {
	spec := Spec{Name: testModuleName, Options: map[string]Option{
		"source_url": {Type: TypeStr}, "images": {Type: TypeDict}, "r": {Required: true}}}
	args := map[string]any{
		"source_url": "http://alice:s3cretPW@127.0.0.1/disk.qcow2",
		"images":     map[string]any{"a": map[string]any{"source_url": "https://ghp_t0ken@127.0.0.1/a.img"}, "b": "http://bob:p%40ss@127.0.0.1/b"},
	}
	// Validation fails (r is missing): the invocation still hides them.
	out := Execute(context.Background(), spec, args, func(ctx context.Context, m *Module) (any, error) {
		return nil, nil
	})
	encoded, _ := json.Marshal(out)
	for _, secret := range []string{"s3cretPW", "ghp_t0ken", "p%40ss", "p@ss"} {
		if strings.Contains(string(encoded), secret) {
			t.Fatalf("%s in the output: %s", secret, encoded)
		}
	}
	if !strings.Contains(string(encoded), "http://alice:********@127.0.0.1/disk.qcow2") {
		t.Fatalf("the URL is not shown with its password masked: %s", encoded)
	}

	args["r"] = "x"
	out = Execute(context.Background(), spec, args, func(ctx context.Context, m *Module) (any, error) {
		return nil, errors.New("fetching http://alice:s3cretPW@127.0.0.1/disk.qcow2: 404")
	})
	if out["msg"] != "fetching http://alice:********@127.0.0.1/disk.qcow2: 404" {
		t.Fatalf("msg = %q", out["msg"])
	}
}

func TestURLQuerySecretsAndOddPasswordsAreSecrets(t *testing.T) {
	spec := Spec{Name: testModuleName, Options: map[string]Option{"source_url": {Type: TypeStr}, "images": {Type: TypeDict}}}
	secrets := []string{"pa/ss@w0rd", "SigValue1", "AKIAEXAMPLE", "TokValue2", "AccTok3", "ApiKey4", "ApiKey5", "Sess6"}
	args := map[string]any{
		"source_url": "https://carol:pa/ss@w0rd@127.0.0.1/x.qcow2?sig=SigValue1&X-Amz-Credential=AKIAEXAMPLE&page=2",
		"images": map[string]any{"a": map[string]any{"source_url": "https://127.0.0.1/a.img?token=TokValue2&access_token=AccTok3" +
			"&apikey=ApiKey4&API_KEY=ApiKey5&X-Amz-Security-Token=Sess6"}},
	}
	out := Execute(context.Background(), spec, args, func(ctx context.Context, m *Module) (any, error) {
		return nil, fmt.Errorf("fetching %s: 404", args["source_url"])
	})
	encoded, _ := json.Marshal(out)
	for _, secret := range secrets {
		if strings.Contains(string(encoded), secret) {
			t.Fatalf("%s in the output: %s", secret, encoded)
		}
	}
	if !strings.Contains(string(encoded), "page=2") || !strings.Contains(string(encoded), "sig=********") {
		t.Fatalf("the URL is not shown with only its secrets masked: %s", encoded)
	}
}
