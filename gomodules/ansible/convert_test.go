package ansible

import (
	"math"
	"reflect"
	"testing"

	json "github.com/goccy/go-json"
)

// Type errors name the option, the value (unless no_log) and Go-ish type
// names; Ansible names Python classes and not the value.
const typeErrorWording = "our type errors name the value given and its JSON type (str, int, float, list...) where Ansible prints the Python class"

// conversionCases: every option type, compared with AnsibleModule. The
// environment is HOME=/home/imageops-test and IMAGEOPS_TEST_DIR=/srv/images
// (set by the tests that run them).
var conversionCases = []ansibleCase{
	// str
	{
		name:       "str from int, bool and float, as Python's str() writes them",
		spec:       Spec{Options: map[string]Option{"s": {}, "t": {}, "u": {Type: TypeStr}, "f": {}}},
		args:       map[string]any{"s": 1, "t": true, "u": 1.5, "f": false},
		params:     map[string]any{"s": "1", "t": "True", "u": "1.5", "f": "False"},
		ansibleMsg: "",
	},
	{
		name:       "str from a list",
		spec:       Spec{Options: map[string]Option{"s": {}}},
		args:       map[string]any{"s": []any{"a"}},
		ansibleMsg: "",
		deviation:  "Ansible turns a list into its Python repr (\"['a']\"), which no module wants; we refuse it",
		msg:        `argument 's' is of type list (value ["a"]) and we were unable to convert to str: a list cannot be converted to a string`,
	},
	// int
	{
		name:       "int from decimal strings and whole numbers",
		spec:       Spec{Options: map[string]Option{"a": {Type: TypeInt}, "b": {Type: TypeInt}, "c": {Type: TypeInt}, "d": {Type: TypeInt}}},
		args:       map[string]any{"a": "10", "b": " 10 ", "c": 10, "d": "-3"},
		params:     map[string]any{"a": 10, "b": 10, "c": 10, "d": -3},
		ansibleMsg: "",
	},
	{
		name:       "int from a number written 10.0",
		spec:       Spec{Options: map[string]Option{"n": {Type: TypeInt}}},
		args:       map[string]any{"n": json.Number("10.0")},
		ansibleMsg: "argument 'n' is of type <class 'float'> and we were unable to convert to int: <class 'float'> cannot be converted to an int",
		deviation:  "a whole number written as a float (10.0, as YAML or a template may produce) is accepted as the int it is",
		msg:        "",
		params:     map[string]any{"n": 10},
	},
	{
		name:       "int from a word fails naming option, value and type",
		spec:       Spec{Options: map[string]Option{"n": {Type: TypeInt}}},
		args:       map[string]any{"n": "abc"},
		ansibleMsg: "argument 'n' is of type <class 'str'> and we were unable to convert to int: <class 'str'> cannot be converted to an int",
		deviation:  typeErrorWording,
		msg:        `argument 'n' is of type str (value "abc") and we were unable to convert to int: str cannot be converted to an int (only decimal integers are)`,
	},
	{
		name:       "int from a fraction fails",
		spec:       Spec{Options: map[string]Option{"n": {Type: TypeInt}}},
		args:       map[string]any{"n": 10.5},
		ansibleMsg: "argument 'n' is of type <class 'float'> and we were unable to convert to int: <class 'float'> cannot be converted to an int",
		deviation:  typeErrorWording,
		msg:        "argument 'n' is of type float (value 10.5) and we were unable to convert to int: expected a whole number",
	},
	{
		name:       "int from the string 10.0 fails, as Python's int() does",
		spec:       Spec{Options: map[string]Option{"n": {Type: TypeInt}}},
		args:       map[string]any{"n": "10.0"},
		ansibleMsg: "argument 'n' is of type <class 'str'> and we were unable to convert to int: <class 'str'> cannot be converted to an int",
		deviation:  typeErrorWording,
		msg:        `argument 'n' is of type str (value "10.0") and we were unable to convert to int: str cannot be converted to an int (only decimal integers are)`,
	},
	{
		name:       "int beyond 64 bits",
		spec:       Spec{Options: map[string]Option{"n": {Type: TypeInt}}},
		args:       map[string]any{"n": json.Number("100000000000000000000")},
		ansibleMsg: "",
		deviation:  "Python's int has no limit; ours is int64, and a bigger number fails rather than wrapping around",
		msg:        "argument 'n' is of type int (value 100000000000000000000) and we were unable to convert to int: the number is out of the range of a 64-bit integer",
	},
	{
		name:       "int from a boolean",
		spec:       Spec{Options: map[string]Option{"n": {Type: TypeInt}}},
		args:       map[string]any{"n": true},
		ansibleMsg: "",
		deviation:  "Python's bool is an int, so Ansible passes True through to an int option; we refuse it",
		msg:        "argument 'n' is of type bool (value true) and we were unable to convert to int: expected a whole number",
	},
	// float
	{
		name:       "float from strings and ints",
		spec:       Spec{Options: map[string]Option{"a": {Type: TypeFloat}, "b": {Type: TypeFloat}, "c": {Type: TypeFloat}}},
		args:       map[string]any{"a": "1.5", "b": 2, "c": " 3 "},
		params:     map[string]any{"a": 1.5, "b": 2.0, "c": 3.0},
		ansibleMsg: "",
	},
	{
		name:       "float from a word fails",
		spec:       Spec{Options: map[string]Option{"f": {Type: TypeFloat}}},
		args:       map[string]any{"f": "x"},
		ansibleMsg: "argument 'f' is of type <class 'str'> and we were unable to convert to float: <class 'str'> cannot be converted to a float",
		deviation:  typeErrorWording,
		msg:        `argument 'f' is of type str (value "x") and we were unable to convert to float: expected a number`,
	},
	// bool
	{
		name: "bool from Ansible's true words, in any case, and 1",
		spec: boolSpec("yes", "on", "one", "true", "t", "y", "upper", "padded", "int", "float"),
		args: map[string]any{"yes": "yes", "on": "on", "one": "1", "true": "true", "t": "t", "y": "y",
			"upper": "TRUE", "padded": " Yes ", "int": 1, "float": json.Number("1.0")},
		params: map[string]any{"yes": true, "on": true, "one": true, "true": true, "t": true, "y": true,
			"upper": true, "padded": true, "int": true, "float": true},
		ansibleMsg: "",
	},
	{
		name: "bool from Ansible's false words and 0",
		spec: boolSpec("no", "off", "zero", "false", "f", "n", "title", "int", "float", "bool"),
		args: map[string]any{"no": "no", "off": "off", "zero": "0", "false": "false", "f": "f", "n": "n",
			"title": "False", "int": 0, "float": json.Number("0.0"), "bool": false},
		params: map[string]any{"no": false, "off": false, "zero": false, "false": false, "f": false, "n": false,
			"title": false, "int": false, "float": false, "bool": false},
		ansibleMsg: "",
	},
	{
		name:       "bool from another word fails",
		spec:       boolSpec("b"),
		args:       map[string]any{"b": "maybe"},
		ansibleMsg: "argument 'b' is of type <class 'str'> and we were unable to convert to bool: The value 'maybe' is not a valid boolean.  Valid booleans include: ...",
		deviation:  typeErrorWording,
		msg:        `argument 'b' is of type str (value "maybe") and we were unable to convert to bool: expected a boolean (true/false, yes/no, on/off, 1/0)`,
	},
	{
		name:       "bool from 2 fails",
		spec:       boolSpec("b"),
		args:       map[string]any{"b": 2},
		ansibleMsg: "argument 'b' is of type <class 'int'> and we were unable to convert to bool: The value '2' is not a valid boolean.  Valid booleans include: ...",
		deviation:  typeErrorWording,
		msg:        `argument 'b' is of type int (value 2) and we were unable to convert to bool: expected a boolean (true/false, yes/no, on/off, 1/0)`,
	},
	// list
	{
		name: "list from a comma-separated string (spaces kept), an empty string and scalars",
		spec: Spec{Options: map[string]Option{"csv": {Type: TypeList}, "empty": {Type: TypeList}, "int": {Type: TypeList},
			"float": {Type: TypeList}, "bool": {Type: TypeList}, "list": {Type: TypeList}}},
		args: map[string]any{"csv": "a,b, c", "empty": "", "int": 5, "float": 1.5, "bool": true, "list": []any{"x", 1}},
		params: map[string]any{"csv": []any{"a", "b", " c"}, "empty": []any{""}, "int": []any{"5"},
			"float": []any{"1.5"}, "bool": []any{"True"}, "list": []any{"x", 1}},
		ansibleMsg: "",
	},
	{
		name:       "list from a dict fails",
		spec:       Spec{Options: map[string]Option{"l": {Type: TypeList}}},
		args:       map[string]any{"l": map[string]any{"a": 1}},
		ansibleMsg: "argument 'l' is of type <class 'dict'> and we were unable to convert to list: <class 'dict'> cannot be converted to a list",
		deviation:  typeErrorWording,
		msg:        `argument 'l' is of type dict (value {"a":1}) and we were unable to convert to list: expected a list`,
	},
	{
		name: "elements are converted one by one",
		spec: Spec{Options: map[string]Option{"ints": {Type: TypeList, Elements: TypeInt},
			"csv": {Type: TypeList, Elements: TypeInt}, "strs": {Type: TypeList, Elements: TypeStr},
			"bools": {Type: TypeList, Elements: TypeBool}}},
		args: map[string]any{"ints": []any{"1", 2, "3"}, "csv": "4,5", "strs": []any{1, true, "x"},
			"bools": []any{"yes", 0}},
		params: map[string]any{"ints": []any{1, 2, 3}, "csv": []any{4, 5}, "strs": []any{"1", "True", "x"},
			"bools": []any{true, false}},
		ansibleMsg: "",
	},
	{
		name:       "an element that does not convert fails naming the option",
		spec:       Spec{Options: map[string]Option{"l": {Type: TypeList, Elements: TypeInt}}},
		args:       map[string]any{"l": []any{"1", "x"}},
		ansibleMsg: "Elements value for option 'l' is of type <class 'str'> and we were unable to convert to int: <class 'str'> cannot be converted to an int",
		deviation:  typeErrorWording,
		msg:        `Elements value for option 'l' is of type str (value "x") and we were unable to convert to int: str cannot be converted to an int (only decimal integers are)`,
	},
	// dict
	{
		name: "dict from a JSON string and from key=value strings with quotes and escapes",
		spec: Spec{Options: map[string]Option{"json": {Type: TypeDict}, "kv": {Type: TypeDict}, "escaped": {Type: TypeDict}}},
		args: map[string]any{"json": `{"a": 1, "b": [1.5, "x"], "c": {"d": null}}`,
			"kv": `a=1, b="x y" c='p,q' d=e=f`, "escaped": `a=x\ y`},
		params: map[string]any{"json": map[string]any{"a": 1, "b": []any{1.5, "x"}, "c": map[string]any{"d": nil}},
			"kv": map[string]any{"a": "1", "b": "x y", "c": "p,q", "d": "e=f"}, "escaped": map[string]any{"a": "x y"}},
		ansibleMsg: "",
	},
	{
		name:       "dict from a word fails",
		spec:       Spec{Options: map[string]Option{"d": {Type: TypeDict}}},
		args:       map[string]any{"d": "abc"},
		ansibleMsg: "argument 'd' is of type <class 'str'> and we were unable to convert to dict: dictionary requested, could not parse JSON or key=value",
		deviation:  typeErrorWording,
		msg:        `argument 'd' is of type str (value "abc") and we were unable to convert to dict: dictionary requested, could not parse JSON or key=value`,
	},
	{
		name:       "dict from a field without = fails",
		spec:       Spec{Options: map[string]Option{"d": {Type: TypeDict}}},
		args:       map[string]any{"d": "a=1,b"},
		ansibleMsg: "argument 'd' is of type <class 'str'> and we were unable to convert to dict: dictionary update sequence element #1 has length 1; 2 is required",
		deviation:  typeErrorWording,
		msg:        `argument 'd' is of type str (value "a=1,b") and we were unable to convert to dict: expected key=value pairs, got "b"`,
	},
	{
		name:       "dict from a list fails",
		spec:       Spec{Options: map[string]Option{"d": {Type: TypeDict}}},
		args:       map[string]any{"d": []any{"a"}},
		ansibleMsg: "argument 'd' is of type <class 'list'> and we were unable to convert to dict: <class 'list'> cannot be converted to a dict",
		deviation:  typeErrorWording,
		msg:        `argument 'd' is of type list (value ["a"]) and we were unable to convert to dict: expected a dictionary`,
	},
	// path
	{
		name: "path expands ~, ~user, $VAR and ${VAR}, and keeps unset variables",
		spec: Spec{Options: map[string]Option{"home": {Type: TypePath}, "tilde": {Type: TypePath},
			"var": {Type: TypePath}, "braces": {Type: TypePath}, "unset": {Type: TypePath}, "user": {Type: TypePath}}},
		args: map[string]any{"home": "~/cache", "tilde": "~", "var": "$IMAGEOPS_TEST_DIR/x",
			"braces": "${IMAGEOPS_TEST_DIR}/~", "unset": "/data/$IMAGEOPS_UNSET_VARIABLE/x", "user": "~root/x"},
		params: map[string]any{"home": "/home/imageops-test/cache", "tilde": "/home/imageops-test",
			"var": "/srv/images/x", "braces": "/srv/images/~", "unset": "/data/$IMAGEOPS_UNSET_VARIABLE/x",
			"user": "/root/x"},
		ansibleMsg: "",
	},
	// raw
	{
		name:       "raw values pass unchanged",
		spec:       Spec{Options: map[string]Option{"r": {Type: TypeRaw}, "n": {Type: TypeRaw}, "s": {Type: TypeRaw}}},
		args:       map[string]any{"r": map[string]any{"a": []any{1, 2.5, "x", nil, true}}, "n": 10, "s": "x"},
		params:     map[string]any{"r": map[string]any{"a": []any{1, 2.5, "x", nil, true}}, "n": 10, "s": "x"},
		ansibleMsg: "",
	},
}

func boolSpec(names ...string) Spec {
	options := map[string]Option{}
	for _, name := range names {
		options[name] = Option{Type: TypeBool}
	}
	return Spec{Options: options}
}

func TestConversionsMatchAnsibleModule(t *testing.T) {
	t.Setenv("HOME", "/home/imageops-test")
	t.Setenv("IMAGEOPS_TEST_DIR", "/srv/images")
	for _, c := range conversionCases {
		t.Run(c.name, c.checkGo)
	}
}

// TestNumbersKeepTheirGoTypes: JSON numbers arrive as json.Number; modules
// see int64 for whole numbers and float64 otherwise, at any depth, exactly.
func TestNumbersKeepTheirGoTypes(t *testing.T) {
	spec := Spec{Options: map[string]Option{
		"count": {Type: TypeInt}, "size": {Type: TypeInt}, "ratio": {Type: TypeFloat},
		"properties": {Type: TypeDict}, "raw": {Type: TypeRaw}, "sizes": {Type: TypeList},
		"label": {Type: TypeStr},
	}}
	// 9007199254740993 is 2^53+1: a float64 round trip would change it.
	args, err := ParseArgs([]byte(`{"count": 3, "size": 9007199254740993, "ratio": 0.5,
		"properties": {"min_ram": 512, "ratio": 1.5, "nested": {"big": 9007199254740993}},
		"raw": [1, 2.5, {"x": 7}], "sizes": [10, 20.5], "label": 12.50}`))
	if err != nil {
		t.Fatal(err)
	}
	params, err := spec.Validate(args)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"count": int64(3), "size": int64(9007199254740993), "ratio": 0.5,
		"properties": map[string]any{"min_ram": int64(512), "ratio": 1.5, "nested": map[string]any{"big": int64(9007199254740993)}},
		"raw":        []any{int64(1), 2.5, map[string]any{"x": int64(7)}},
		"sizes":      []any{int64(10), 20.5},
		"label":      "12.50", // the number's text, as written
	}
	for key, value := range want {
		if !reflect.DeepEqual(params[key], value) {
			t.Errorf("%s = %#v (%T), want %#v", key, params[key], params[key], value)
		}
	}
}

func TestConvertToUnknownTypeIsAnError(t *testing.T) {
	spec := Spec{Options: map[string]Option{"x": {Type: "jsonarg"}}}
	_, err := spec.Validate(map[string]any{"x": "1K"})
	if err == nil || err.Error() != `argument 'x' is of type str (value "1K") and we were unable to convert to jsonarg: unknown option type "jsonarg" in the module's spec` {
		t.Fatalf("got %v", err)
	}
}

func TestIntRangeEdges(t *testing.T) {
	for _, c := range []struct {
		value any
		want  any
	}{
		{json.Number("9223372036854775807"), int64(math.MaxInt64)},
		{json.Number("-9223372036854775808"), int64(math.MinInt64)},
		{json.Number("9223372036854775808"), nil},
		{float64(1 << 62), int64(1 << 62)},
		{math.Pow(2, 63), nil},
		{json.Number("1e3"), int64(1000)},
	} {
		got, err := toInt(c.value)
		if c.want == nil {
			if err == nil {
				t.Errorf("toInt(%v) = %v, want an error", c.value, got)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("toInt(%v) = %v, %v; want %v", c.value, got, err, c.want)
		}
	}
}

func TestBytesOptionsReadHumanSizes(t *testing.T) {
	spec := Spec{Options: map[string]Option{"x": {Type: TypeBytes}}}
	for given, want := range map[any]int64{"64G": 64 << 30, "512MiB": 512 << 20, "1.5K": 1536, "1 kb": 1024, "4096": 4096,
		json.Number("10"): 10, "2T": 2 << 40, "1P": 1 << 50, "7B": 7} {
		params, err := spec.Validate(map[string]any{"x": given})
		if err != nil || params["x"] != want {
			t.Errorf("x: %v gave %v (%v), want %d", given, params["x"], err, want)
		}
	}
	for _, bad := range []any{"64Q", "G", "-1", "1GX", "1BiB", true, "9E9"} {
		if _, err := spec.Validate(map[string]any{"x": bad}); err == nil {
			t.Errorf("x: %v was accepted", bad)
		}
	}
}
