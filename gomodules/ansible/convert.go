package ansible

import (
	"fmt"
	"math"
	"os"
	"os/user"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	json "github.com/goccy/go-json"
)

// convert turns a raw option value into the option's type, or fails with a
// message that names the option, the value (unless no_log) and the type wanted.
func (o Option) convert(name string, value any) (any, error) {
	typ := o.Type
	if typ == "" {
		typ = TypeStr
	}
	converted, err := convertTo(typ, value)
	if err != nil {
		return nil, o.typeError(fmt.Sprintf("argument '%s'", name), typ, value, err)
	}
	if typ != TypeList || o.Elements == "" {
		return converted, nil
	}
	items := converted.([]any)
	out := make([]any, len(items))
	for i, item := range items {
		if out[i], err = convertTo(o.Elements, item); err != nil {
			return nil, o.typeError(fmt.Sprintf("Elements value for option '%s'", name), o.Elements, item, err)
		}
	}
	return out, nil
}

func (o Option) typeError(what string, typ Type, value any, cause error) error {
	shown := fmt.Sprintf(" (value %s)", describe(value))
	if o.NoLog {
		shown = ""
	}
	return &ValidationError{Msg: fmt.Sprintf("%s is of type %s%s and we were unable to convert to %s: %v",
		what, typeName(value), shown, typ, cause)}
}

// typeName gives the JSON/YAML name of a decoded value's type.
func typeName(value any) string {
	switch v := value.(type) {
	case string:
		return "str"
	case bool:
		return "bool"
	case json.Number:
		if strings.ContainsAny(v.String(), ".eE") {
			return "float"
		}
		return "int"
	case float64, float32:
		return "float"
	case int, int64:
		return "int"
	case []any:
		return "list"
	case map[string]any:
		return "dict"
	case nil:
		return "null"
	default:
		return reflect.TypeOf(value).String()
	}
}

func describe(value any) string {
	text, err := json.Marshal(value)
	if err != nil {
		return fmt.Sprintf("%v", value)
	}
	return string(text)
}

// convertTo is the type-conversion table; see the Type constants.
func convertTo(typ Type, value any) (any, error) {
	switch typ {
	case TypeStr:
		return toStr(value)
	case TypePath:
		s, err := toStr(value)
		if err != nil {
			return nil, err
		}
		return expandPath(s.(string)), nil
	case TypeInt:
		return toInt(value)
	case TypeFloat:
		return toFloat(value)
	case TypeBool:
		return toBool(value)
	case TypeList:
		return toList(value)
	case TypeDict:
		return toDict(value)
	case TypeRaw:
		return normalizeNumbers(value), nil
	case TypeBytes:
		return toBytes(value)
	default:
		return nil, fmt.Errorf("unknown option type %q in the module's spec", typ)
	}
}

func toStr(value any) (any, error) {
	switch v := value.(type) {
	case string:
		return v, nil
	case bool:
		if v {
			return "True", nil // Python's str(True), which Ansible produces
		}
		return "False", nil
	case json.Number:
		return v.String(), nil
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), nil
	case int, int64:
		return fmt.Sprint(v), nil
	default:
		return nil, fmt.Errorf("a %s cannot be converted to a string", typeName(value))
	}
}

// toInt accepts whole numbers (including JSON/YAML numbers written as 10.0)
// and strings holding a decimal integer, as Python's int() reads them.
func toInt(value any) (any, error) {
	switch v := value.(type) {
	case int:
		return int64(v), nil
	case int64:
		return v, nil
	case json.Number:
		if n, err := strconv.ParseInt(v.String(), 10, 64); err == nil {
			return n, nil
		}
		if f, err := strconv.ParseFloat(v.String(), 64); err == nil {
			return floatToInt(f)
		}
	case float64:
		return floatToInt(v)
	case string:
		if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
			return n, nil
		}
		return nil, fmt.Errorf("str cannot be converted to an int (only decimal integers are)")
	}
	return nil, fmt.Errorf("expected a whole number")
}

// byteUnits are the powers of 1024 a bytes option's unit letter names, as in
// Ansible's module_utils/common/text/formatters.py SIZE_RANGES.
var byteUnits = map[byte]int64{'B': 1, 'K': 1 << 10, 'M': 1 << 20, 'G': 1 << 30, 'T': 1 << 40, 'P': 1 << 50, 'E': 1 << 60}

// sizePattern is a human-readable size: a decimal number, then an optional
// unit such as K, KB, KiB (case-insensitive), separated by optional spaces.
var sizePattern = regexp.MustCompile(`^\s*([0-9]*\.?[0-9]+)\s*([A-Za-z]*)\s*$`)

// toBytes reads a size as Ansible's human_to_bytes does: a whole number of
// bytes, or a number with a unit letter (B, K, M, G, T, P, E), optionally
// followed by "B" or "iB", always in powers of 1024 ("64G" is 64 GiB).
func toBytes(value any) (any, error) {
	if n, err := toInt(value); err == nil {
		if n.(int64) < 0 {
			return nil, fmt.Errorf("a size cannot be negative")
		}
		return n, nil
	}
	text, ok := value.(string)
	if !ok {
		return nil, fmt.Errorf("expected a number of bytes or a size such as 64G or 512MiB")
	}
	m := sizePattern.FindStringSubmatch(text)
	if m == nil {
		return nil, fmt.Errorf("expected a number of bytes or a size such as 64G or 512MiB")
	}
	unit := strings.ToUpper(m[2])
	multiplier := int64(1)
	if unit != "" {
		var known bool
		multiplier, known = byteUnits[unit[0]]
		rest := unit[1:]
		if !known || (rest != "" && rest != "B" && (rest != "IB" || unit[0] == 'B')) {
			return nil, fmt.Errorf("unit %q is not one of B, K, M, G, T, P, E (optionally followed by B or iB)", m[2])
		}
	}
	number, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return nil, fmt.Errorf("expected a number of bytes or a size such as 64G or 512MiB")
	}
	size := math.Round(number * float64(multiplier))
	if size >= math.MaxInt64 {
		return nil, fmt.Errorf("the size is out of the range of a 64-bit integer")
	}
	return int64(size), nil
}

// floatToInt accepts a float that is a whole number within int64's range.
func floatToInt(f float64) (any, error) {
	if f != math.Trunc(f) {
		return nil, fmt.Errorf("expected a whole number")
	}
	if f < math.MinInt64 || f >= math.MaxInt64 {
		return nil, fmt.Errorf("the number is out of the range of a 64-bit integer")
	}
	return int64(f), nil
}

func toFloat(value any) (any, error) {
	switch v := value.(type) {
	case float64:
		return v, nil
	case int:
		return float64(v), nil
	case int64:
		return float64(v), nil
	case json.Number:
		return strconv.ParseFloat(v.String(), 64)
	case string:
		if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
			return f, nil
		}
	}
	return nil, fmt.Errorf("expected a number")
}

// Ansible's BOOLEANS_TRUE and BOOLEANS_FALSE, compared case-insensitively.
var (
	truthy = map[string]bool{"y": true, "yes": true, "on": true, "1": true, "true": true, "t": true, "1.0": true}
	falsy  = map[string]bool{"n": true, "no": true, "off": true, "0": true, "false": true, "f": true, "0.0": true}
)

func toBool(value any) (any, error) {
	var text string
	switch v := value.(type) {
	case bool:
		return v, nil
	case string:
		text = strings.ToLower(strings.TrimSpace(v))
	case json.Number:
		text = v.String()
	case float64, int, int64:
		text = fmt.Sprint(v)
	}
	switch {
	case truthy[text]:
		return true, nil
	case falsy[text]:
		return false, nil
	}
	return nil, fmt.Errorf("expected a boolean (true/false, yes/no, on/off, 1/0)")
}

func toList(value any) (any, error) {
	switch v := value.(type) {
	case []any:
		return normalizeNumbers(v), nil
	case string:
		// As Python's "".split(","): an empty string is a list of one empty string.
		parts := strings.Split(v, ",")
		out := make([]any, len(parts))
		for i, part := range parts {
			out[i] = part
		}
		return out, nil
	case json.Number, float64, int, int64, bool:
		s, _ := toStr(v)
		return []any{s}, nil
	}
	return nil, fmt.Errorf("expected a list")
}

func toDict(value any) (any, error) {
	switch v := value.(type) {
	case map[string]any:
		return normalizeNumbers(v), nil
	case string:
		return parseDictString(v)
	}
	return nil, fmt.Errorf("expected a dictionary")
}

// parseDictString accepts the two string forms Ansible's check_type_dict does:
// a JSON object, or "key=value" pairs separated by commas or spaces, where
// single or double quotes keep separators inside a value and a backslash
// escapes the next character.
func parseDictString(text string) (any, error) {
	text = strings.TrimSpace(text)
	if strings.HasPrefix(text, "{") {
		var out map[string]any
		decoder := json.NewDecoder(strings.NewReader(text))
		decoder.UseNumber()
		if err := decoder.Decode(&out); err != nil {
			return nil, fmt.Errorf("expected a JSON object: %v", err)
		}
		return normalizeNumbers(out), nil
	}
	if !strings.Contains(text, "=") {
		return nil, fmt.Errorf("dictionary requested, could not parse JSON or key=value")
	}
	out := map[string]any{}
	for _, field := range splitKeyValueFields(text) {
		key, val, ok := strings.Cut(field, "=")
		if !ok {
			return nil, fmt.Errorf("expected key=value pairs, got %q", field)
		}
		out[key] = val
	}
	return out, nil
}

// splitKeyValueFields splits "a=1, b='x y'" into fields as check_type_dict
// does: quotes group (and are dropped), backslash escapes, ',' and ' ' separate.
func splitKeyValueFields(text string) []string {
	var fields []string
	var field strings.Builder
	var quote rune
	escaped := false
	for _, c := range text {
		switch {
		case escaped:
			field.WriteRune(c)
			escaped = false
		case c == '\\':
			escaped = true
		case quote == 0 && (c == '\'' || c == '"'):
			quote = c
		case quote != 0 && c == quote:
			quote = 0
		case quote == 0 && (c == ',' || c == ' '):
			if field.Len() > 0 {
				fields = append(fields, field.String())
			}
			field.Reset()
		default:
			field.WriteRune(c)
		}
	}
	if field.Len() > 0 {
		fields = append(fields, field.String())
	}
	return fields
}

// normalizeNumbers replaces json.Number values inside lists and dicts with
// int64 or float64, so that modules see ordinary Go numbers.
func normalizeNumbers(value any) any {
	switch v := value.(type) {
	case json.Number:
		if n, err := v.Int64(); err == nil {
			return n
		}
		f, _ := v.Float64()
		return f
	case []any:
		for i := range v {
			v[i] = normalizeNumbers(v[i])
		}
		return v
	case map[string]any:
		for key := range v {
			v[key] = normalizeNumbers(v[key])
		}
		return v
	}
	return value
}

// expandPath does what Python's os.path.expanduser(os.path.expandvars(path))
// does: $NAME and ${NAME} are replaced by set environment variables (unset
// ones are left as written), then a leading ~ or ~user becomes a home directory.
func expandPath(path string) string {
	path = envVarPattern.ReplaceAllStringFunc(path, func(ref string) string {
		name := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(ref, "$"), "{"), "}")
		if value, ok := os.LookupEnv(name); ok {
			return value
		}
		return ref
	})
	if !strings.HasPrefix(path, "~") {
		return path
	}
	name, rest, _ := strings.Cut(path[1:], "/")
	var home string
	if name == "" {
		home = os.Getenv("HOME")
		if home == "" {
			if current, err := user.Current(); err == nil {
				home = current.HomeDir
			}
		}
	} else if account, err := user.Lookup(name); err == nil {
		home = account.HomeDir
	}
	if home == "" {
		return path
	}
	if rest == "" && !strings.Contains(path, "/") {
		return home
	}
	return strings.TrimSuffix(home, "/") + "/" + rest
}

// envVarPattern is the pattern of Python's os.path.expandvars.
var envVarPattern = regexp.MustCompile(`\$(\w+|\{[^}]*\})`)

// checkChoices fails, with Ansible's message, when a converted value is not
// one of the option's choices; a list may hold any of the choices, and the
// message names every element that is not one.
func (o Option) checkChoices(name string, value any) error {
	if len(o.Choices) == 0 {
		return nil
	}
	allowed := make([]string, len(o.Choices))
	for i, choice := range o.Choices {
		allowed[i] = fmt.Sprint(choice)
	}
	if values, isList := value.([]any); isList {
		var unmatched []string
		for _, v := range values {
			if !containsText(allowed, fmt.Sprint(v)) {
				unmatched = append(unmatched, fmt.Sprint(v))
			}
		}
		if len(unmatched) > 0 {
			return &ValidationError{Msg: fmt.Sprintf("value of %s must be one or more of: %s. Got no match for: %s",
				name, strings.Join(allowed, ", "), strings.Join(unmatched, ", "))}
		}
		return nil
	}
	if !containsText(allowed, fmt.Sprint(value)) {
		return &ValidationError{Msg: fmt.Sprintf("value of %s must be one of: %s, got: %s",
			name, strings.Join(allowed, ", "), fmt.Sprint(value))}
	}
	return nil
}

func containsText(list []string, text string) bool {
	for _, item := range list {
		if item == text {
			return true
		}
	}
	return false
}
