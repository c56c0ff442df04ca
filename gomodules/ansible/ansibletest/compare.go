package ansibletest

import (
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/imageops/cloud/gomodules/ansible"
)

// CheckOption adjusts CheckDocumentation and CompareDocumentation.
type CheckOption func(*checkConfig)

type checkConfig struct {
	notSecret      map[string]bool
	ignoreDefaults bool
	where          string
}

func newCheckConfig(opts []CheckOption) *checkConfig {
	config := &checkConfig{notSecret: map[string]bool{}, where: "DOCUMENTATION"}
	for _, opt := range opts {
		opt(config)
	}
	return config
}

// NotSecret names options whose names look like secrets (such as
// "key_rotation") but are not, so that they need not be no_log.
// Default: every option whose name looks like a secret must be no_log.
func NotSecret(names ...string) CheckOption {
	return func(c *checkConfig) {
		for _, name := range names {
			c.notSecret[name] = true
		}
	}
}

// IgnoreDefaults leaves defaults out of the comparison, for options whose
// defaults are given elsewhere (a role entry point that validates one image
// of a batch, whose defaults are the batch's). Default: defaults must agree.
func IgnoreDefaults() CheckOption {
	return func(c *checkConfig) { c.ignoreDefaults = true }
}

// CompareOptions returns every difference between spec's options and
// options documented elsewhere (a role's meta/argument_specs.yml entry point
// that mirrors a module), by the rules of CompareDocumentation; where names
// the other side in the sentences ("roles/x/meta/argument_specs.yml").
func CompareOptions(spec ansible.Spec, options map[string]DocOption, where string, opts ...CheckOption) []string {
	config := newCheckConfig(opts)
	config.where = where
	return compareOptionSets(spec.Options, options, config)
}

// CheckDocumentation fails t with one error per difference between spec and
// the DOCUMENTATION of the module file at pyPath (see CompareDocumentation),
// and fatally when the file cannot be read. Skipped fragments of other
// collections are logged.
func CheckDocumentation(t testing.TB, spec ansible.Spec, pyPath string, opts ...CheckOption) {
	t.Helper()
	doc, differences, err := compare(spec, pyPath, opts)
	if err != nil {
		t.Fatalf("checking %s against the %s spec: %v", pyPath, spec.Name, err)
		return
	}
	for _, skipped := range doc.Skipped {
		t.Logf("%s: fragment %s belongs to another collection and was not checked", pyPath, skipped)
	}
	for _, difference := range differences {
		t.Errorf("%s and the %s spec disagree: %s", pyPath, spec.Name, difference)
	}
}

// CompareDocumentation returns every difference between spec and the
// DOCUMENTATION of the module file at pyPath, each as a sentence such as
// `option "force": default is false in the spec, true in DOCUMENTATION`, in
// a stable order; none when they agree. Fragments are read as described in
// the package documentation, for the collection named by spec.Name's first
// two parts. The error is for a file that cannot be read or parsed.
func CompareDocumentation(spec ansible.Spec, pyPath string, opts ...CheckOption) ([]string, error) {
	_, differences, err := compare(spec, pyPath, opts)
	return differences, err
}

func compare(spec ansible.Spec, pyPath string, opts []CheckOption) (Documentation, []string, error) {
	config := newCheckConfig(opts)
	collection, module := splitName(spec.Name)
	doc, err := ReadDocumentation(pyPath, collection)
	if err != nil {
		return doc, nil, err
	}
	out := append([]string{}, doc.Problems...)
	if doc.Module != module {
		out = append(out, fmt.Sprintf("module is %q in DOCUMENTATION, but the spec is named %q", doc.Module, spec.Name))
	}
	switch {
	case doc.CheckMode == "":
	case spec.SupportsCheckMode && doc.CheckMode == "none":
		out = append(out, "the spec supports check mode, but DOCUMENTATION says attributes.check_mode.support: none")
	case !spec.SupportsCheckMode && doc.CheckMode != "none":
		out = append(out, fmt.Sprintf("the spec does not support check mode, but DOCUMENTATION says attributes.check_mode.support: %s", doc.CheckMode))
	}

	return doc, append(out, compareOptionSets(spec.Options, doc.Options, config)...), nil
}

func compareOptionSets(spec map[string]ansible.Option, doc map[string]DocOption, config *checkConfig) []string {
	var out []string
	names := map[string]bool{}
	for name := range spec {
		names[name] = true
	}
	for name := range doc {
		names[name] = true
	}
	for _, name := range sortedKeys(names) {
		opt, inSpec := spec[name]
		documented, inDoc := doc[name]
		switch {
		case !inDoc:
			out = append(out, fmt.Sprintf("option %q is in the spec but not in %s", name, config.where))
		case !inSpec:
			out = append(out, fmt.Sprintf("option %q is in %s but not in the spec", name, config.where))
		default:
			out = append(out, compareOption(name, opt, documented, config)...)
		}
	}
	return out
}

// splitName splits "namespace.collection.module" into "namespace.collection"
// and "module".
func splitName(name string) (string, string) {
	parts := strings.Split(name, ".")
	if len(parts) < 3 {
		return "", name
	}
	return strings.Join(parts[:len(parts)-1], "."), parts[len(parts)-1]
}

func compareOption(name string, opt ansible.Option, doc DocOption, config *checkConfig) []string {
	var out []string
	differ := func(field string, inSpec, inDoc any) {
		out = append(out, fmt.Sprintf("option %q: %s is %s in the spec, %s in %s", name, field, show(inSpec), show(inDoc), config.where))
	}
	if doc.Description == nil || doc.Description == "" {
		out = append(out, fmt.Sprintf("option %q has no description", name))
	}
	typ := string(opt.Type)
	if typ == "" {
		typ = string(ansible.TypeStr)
	}
	if typ != doc.Type {
		differ("type", typ, doc.Type)
	}
	if string(opt.Elements) != doc.Elements {
		differ("elements", string(opt.Elements), doc.Elements)
	}
	if opt.Required != doc.Required {
		differ("required", opt.Required, doc.Required)
	}
	if opt.Required && opt.Default != nil {
		out = append(out, fmt.Sprintf("option %q is required and has a default in the spec; Ansible forbids both", name))
	}
	if specDefault := normalize(opt.Default); !config.ignoreDefaults && !reflect.DeepEqual(specDefault, doc.Default) {
		differ("default", specDefault, doc.Default)
	}
	if missing, extra := setDifference(normalizeList(opt.Choices), doc.Choices); len(missing)+len(extra) > 0 {
		out = append(out, fmt.Sprintf("option %q: choices differ: %s", name, describeSets(missing, extra)))
	}
	if missing, extra := setDifference(stringsToAny(opt.Aliases), stringsToAny(doc.Aliases)); len(missing)+len(extra) > 0 {
		out = append(out, fmt.Sprintf("option %q: aliases differ: %s", name, describeSets(missing, extra)))
	}
	if doc.NoLog != nil && *doc.NoLog != opt.NoLog {
		differ("no_log", opt.NoLog, *doc.NoLog)
	}
	if !opt.NoLog && !config.notSecret[name] && looksSecret(name) &&
		typ != string(ansible.TypePath) && typ != string(ansible.TypeBool) && len(opt.Choices) == 0 {
		out = append(out, fmt.Sprintf("option %q may hold a secret but is not no_log in the spec (set NoLog, or name it with ansibletest.NotSecret)", name))
	}
	return out
}

// The words, suffixes and parts below are ansible-test's validate-modules
// rules (main.py, NO_LOG_REGEX and is_potential_secret_option).
var secretWords = regexp.MustCompile(`secret|token|key`)

// passWord finds "pass"; validate-modules ignores "passive".
var passWord = regexp.MustCompile(`pass(ive)?`)

var notSecretSuffixes = []string{"_count", "_type", "_alg", "_algorithm", "_timeout", "_name", "_comment",
	"_bits", "_id", "_identifier", "_period", "_file", "_filename"}

var notSecretParts = []string{"publickey", "public_key", "keyusage", "key_usage", "keyserver", "key_server",
	"keysize", "key_size", "keyservice", "key_service", "pub_key", "pubkey", "keyboard", "secretary"}

func looksSecret(name string) bool {
	lower := strings.ToLower(name)
	secret := secretWords.MatchString(lower)
	for _, match := range passWord.FindAllStringSubmatch(lower, -1) {
		secret = secret || match[1] == ""
	}
	if !secret {
		return false
	}
	for _, suffix := range notSecretSuffixes {
		if strings.HasSuffix(lower, suffix) {
			return false
		}
	}
	for _, part := range notSecretParts {
		if strings.Contains(lower, part) {
			return false
		}
	}
	return true
}

// normalize gives spec and YAML values one Go shape, so that equal values
// compare equal: whole numbers become int64, other numbers float64, lists
// []any, maps map[string]any.
func normalize(value any) any {
	switch v := value.(type) {
	case int:
		return int64(v)
	case int32:
		return int64(v)
	case uint64:
		return int64(v)
	case float32:
		return normalize(float64(v))
	case float64:
		if v == float64(int64(v)) {
			return int64(v)
		}
		return v
	case []string:
		return stringsToAny(v)
	case []any:
		return normalizeList(v)
	case map[any]any:
		out := make(map[string]any, len(v))
		for key, item := range v {
			out[fmt.Sprint(key)] = normalize(item)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for key, item := range v {
			out[key] = normalize(item)
		}
		return out
	}
	return value
}

func normalizeList(list []any) []any {
	if list == nil {
		return nil
	}
	out := make([]any, len(list))
	for i, item := range list {
		out[i] = normalize(item)
	}
	return out
}

func stringsToAny(list []string) []any {
	if list == nil {
		return nil
	}
	out := make([]any, len(list))
	for i, s := range list {
		out[i] = s
	}
	return out
}

// setDifference returns the items of spec missing from doc and the items of
// doc missing from spec.
func setDifference(spec, doc []any) (missing, extra []any) {
	has := func(list []any, item any) bool {
		for _, x := range list {
			if reflect.DeepEqual(x, item) {
				return true
			}
		}
		return false
	}
	for _, item := range spec {
		if !has(doc, item) {
			missing = append(missing, item)
		}
	}
	for _, item := range doc {
		if !has(spec, item) {
			extra = append(extra, item)
		}
	}
	return missing, extra
}

func describeSets(missing, extra []any) string {
	var parts []string
	if len(missing) > 0 {
		parts = append(parts, "only in the spec: "+show(missing))
	}
	if len(extra) > 0 {
		parts = append(parts, "only in DOCUMENTATION: "+show(extra))
	}
	return strings.Join(parts, "; ")
}

// show prints a value as YAML would (null, true, [a, b]), quoting strings.
func show(value any) string {
	switch v := value.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("%q", v)
	case []any:
		items := make([]string, len(v))
		for i, item := range v {
			items[i] = show(item)
		}
		return "[" + strings.Join(items, ", ") + "]"
	}
	return fmt.Sprint(value)
}

func sortedKeys(set map[string]bool) []string {
	keys := make([]string, 0, len(set))
	for key := range set {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	return keys
}
