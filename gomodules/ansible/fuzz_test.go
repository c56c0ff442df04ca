package ansible

import (
	"context"
	"errors"
	"strings"
	"testing"

	json "github.com/goccy/go-json"
)

// Fuzz targets for what reaches a module from outside: the args file and the
// options in it. scripts/fuzz.sh runs each for a bounded time in make test;
// the seeds are in testdata/fuzz/<target>/.

// FuzzParseArgs: any args file parses to a mapping or fails with an error,
// never a panic, and a parsed mapping survives the JSON round trip Execute makes.
func FuzzParseArgs(f *testing.F) {
	f.Add([]byte(`{"name": "debian", "count": 3, "_ansible_check_mode": true}`))
	f.Add([]byte("name: debian\ntags: [a, b]\nnested: {k: v}\n"))
	f.Fuzz(func(t *testing.T, content []byte) {
		args, err := ParseArgs(content)
		if err != nil {
			return
		}
		if args == nil {
			t.Fatal("ParseArgs returned neither args nor an error")
		}
		if _, err := toObject(args); err != nil {
			t.Fatalf("parsed args do not encode as a JSON object: %v", err)
		}
	})
}

// fuzzSpec has an option of every type, with the spec's features (choices,
// aliases, elements, no_log, secret keys) around them.
var fuzzSpec = Spec{Name: testModuleName, SupportsCheckMode: true, Options: map[string]Option{
	"name":     {Type: TypeStr, Required: true},
	"state":    {Type: TypeStr, Default: "present", Choices: []any{"present", "absent"}},
	"count":    {Type: TypeInt},
	"ratio":    {Type: TypeFloat},
	"enabled":  {Type: TypeBool, Aliases: []string{"on"}},
	"tags":     {Type: TypeList, Elements: TypeStr},
	"ports":    {Type: TypeList, Elements: TypeInt},
	"props":    {Type: TypeDict},
	"path":     {Type: TypePath},
	"extra":    {Type: TypeRaw},
	"size":     {Type: TypeBytes},
	"password": {Type: TypeStr, NoLog: true},
	"auth":     {Type: TypeDict, NoLog: true, SecretKeys: []string{"password", "token"}},
}}

// FuzzSpecValidation: validating any args against a spec gives the declared
// Go type for every option, or a *ValidationError; and the result Execute
// builds never shows a no_log value, whatever else the args hold.
func FuzzSpecValidation(f *testing.F) {
	f.Add([]byte(`{"name": "x", "count": "3", "size": "64G", "tags": "a,b", "password": "hunter2-pw"}`))
	f.Add([]byte(`{"name": "x", "on": "yes", "ports": [1, "2"], "auth": {"password": "s3cret", "user": "u"}}`))
	f.Fuzz(func(t *testing.T, content []byte) {
		args, err := ParseArgs(content)
		if err != nil {
			return
		}
		params, err := fuzzSpec.Validate(args)
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Validate failed with a %T, not a *ValidationError: %v", err, err)
			}
		} else {
			checkTypes(t, params)
		}
		secret, _ := args["password"].(string)
		out := Execute(context.Background(), fuzzSpec, args, func(ctx context.Context, m *Module) (any, error) {
			return map[string]any{"echo": m.Params}, errors.New("failing with " + secret)
		})
		// (A secret that is part of the masks themselves cannot be told from them.)
		if len(secret) >= 4 && !strings.Contains(invocationMask+noLogMask, secret) {
			if where := valueContaining(out, secret); where != "" {
				t.Fatalf("the no_log value %q shows in the result at %s", secret, where)
			}
		}
	})
}

func checkTypes(t *testing.T, params map[string]any) {
	t.Helper()
	for name, value := range params {
		if value == nil {
			continue
		}
		ok := true
		switch fuzzSpec.Options[name].Type {
		case TypeStr, TypePath:
			_, ok = value.(string)
		case TypeInt, TypeBytes:
			_, ok = value.(int64)
		case TypeFloat:
			_, ok = value.(float64)
		case TypeBool:
			_, ok = value.(bool)
		case TypeList:
			_, ok = value.([]any)
		case TypeDict:
			_, ok = value.(map[string]any)
		}
		if !ok {
			t.Fatalf("option %s is %T after validation, not %s", name, value, fuzzSpec.Options[name].Type)
		}
	}
}

// valueContaining returns where a string value (not a key) of a JSON-like
// value contains text, or "".
func valueContaining(value any, text string) string {
	encoded, _ := json.Marshal(value)
	var generic any
	_ = json.Unmarshal(encoded, &generic)
	return find(generic, text, "result")
}

func find(value any, text, path string) string {
	switch v := value.(type) {
	case string:
		if strings.Contains(v, text) {
			return path
		}
	case []any:
		for _, item := range v {
			if where := find(item, text, path+"[]"); where != "" {
				return where
			}
		}
	case map[string]any:
		for key, item := range v {
			if where := find(item, text, path+"."+key); where != "" {
				return where
			}
		}
	}
	return ""
}
