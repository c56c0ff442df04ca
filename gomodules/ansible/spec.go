package ansible

import (
	"fmt"
	"sort"
	"strings"

	"github.com/imageops/cloud/gomodules/redact"
)

// Type names an option type exactly as Ansible's argument_spec does.
type Type string

// The option types the runtime understands; they convert values as Ansible's
// module_utils/common/validation.py check_type_* functions do.
const (
	TypeStr   Type = "str"   // a string; numbers and booleans are converted to their text
	TypeInt   Type = "int"   // an int64; integral floats and decimal strings are accepted
	TypeFloat Type = "float" // a float64; numbers and numeric strings are accepted
	TypeBool  Type = "bool"  // a bool; Ansible's truthy strings (yes/no, on/off, 1/0, true/false, y/n, t/f)
	TypeList  Type = "list"  // a []any; a string becomes a comma-separated list
	TypeDict  Type = "dict"  // a map[string]any; a JSON string or "k=v, k2=v2" is accepted
	TypePath  Type = "path"  // a string with ~ and $VARS expanded
	TypeRaw   Type = "raw"   // any value, unchanged
	TypeBytes Type = "bytes" // an int64 number of bytes; "64G", "512MiB", "1.5T" are read in powers of 1024, as Ansible's human_to_bytes
)

// Option describes one module option, the Go form of an argument_spec entry.
type Option struct {
	// Type is the option's type; the zero value means TypeStr, as in Ansible.
	Type Type
	// Elements is the type of each element when Type is TypeList.
	Elements Type
	// Required makes the option mandatory.
	Required bool
	// Default is used when the option is not given (nil: no default).
	Default any
	// Choices lists the allowed values (after type conversion).
	Choices []any
	// Aliases are other names accepted for the option.
	Aliases []string
	// NoLog marks a secret: its value is masked in invocation and everywhere in the result.
	NoLog bool
	// SecretKeys, for a dict option, names the keys whose values are secrets,
	// at any depth (openstack.cloud's auth holds password and token beside
	// auth_url; registry_auth holds a {username, password} per registry).
	// Only those values are masked, in invocation and in the result, so that
	// messages can still name the rest, such as the URL that failed. It
	// replaces NoLog's whole-value masking for that option.
	SecretKeys []string
}

// Spec is a module's argument specification.
type Spec struct {
	// Name is the module's fully qualified name, used in error messages
	// ("imageops.cloud.community_image").
	Name string
	// Options maps each option name to its description.
	Options map[string]Option
	// MutuallyExclusive lists groups of options of which at most one may be given.
	MutuallyExclusive [][]string
	// RequiredTogether lists groups of options that must be given all or none.
	RequiredTogether [][]string
	// RequiredOneOf lists groups of options of which at least one must be given.
	RequiredOneOf [][]string
	// SupportsCheckMode tells whether the module honours check mode; a module
	// that does not is skipped in check mode, as Ansible does.
	SupportsCheckMode bool
}

// With returns a copy of s whose options also include extra (for shared option
// sets such as the OpenStack connection options). An option of s wins over one
// of extra with the same name.
func (s Spec) With(extra map[string]Option) Spec {
	merged := make(map[string]Option, len(s.Options)+len(extra))
	for name, opt := range extra {
		merged[name] = opt
	}
	for name, opt := range s.Options {
		merged[name] = opt
	}
	s.Options = merged
	return s
}

// ValidationError is a failure to validate a module's arguments. Its message is
// the one Ansible's own modules print for the same mistake.
type ValidationError struct {
	Msg string
}

func (e *ValidationError) Error() string { return e.Msg }

// Validate checks raw (the task's options, without _ansible_* keys) against the
// spec and returns the options with aliases resolved, types converted and
// defaults filled in. Options that were neither given nor defaulted are present
// with a nil value, as in Ansible. Errors are *ValidationError.
//
// When several things are wrong, the error is the one Ansible reports: checks
// run in AnsibleModule's order (mutually exclusive, required, types, choices,
// required together, required one of) and unsupported parameters come last.
// Unlike Ansible, an option given as null counts as not given.
func (s Spec) Validate(raw map[string]any) (map[string]any, error) {
	params, _, err := s.validate(raw)
	return params, err
}

// validate is Validate that also returns Ansible's warnings about the
// arguments ("Both option a and its alias b are set.").
func (s Spec) validate(raw map[string]any) (map[string]any, []string, error) {
	params, warnings, unsupported := s.resolveAliases(raw)
	isSet := func(name string) bool { return params[name] != nil }
	if err := checkMutuallyExclusive(s.MutuallyExclusive, isSet); err != nil {
		return nil, warnings, err
	}
	names := s.sortedNames()
	var missing []string
	for _, name := range names {
		opt := s.Options[name]
		if params[name] != nil {
			continue
		}
		if opt.Required {
			missing = append(missing, name)
		}
		params[name] = opt.Default
	}
	if len(missing) > 0 {
		return nil, warnings, &ValidationError{Msg: "missing required arguments: " + strings.Join(missing, ", ")}
	}
	for _, name := range names {
		if params[name] == nil {
			continue
		}
		converted, err := s.Options[name].convert(name, params[name])
		if err != nil {
			return nil, warnings, err
		}
		params[name] = converted
	}
	for _, name := range names {
		if params[name] == nil {
			continue
		}
		if err := s.Options[name].checkChoices(name, params[name]); err != nil {
			return nil, warnings, err
		}
	}
	if err := checkRequiredTogether(s.RequiredTogether, isSet); err != nil {
		return nil, warnings, err
	}
	if err := checkRequiredOneOf(s.RequiredOneOf, isSet); err != nil {
		return nil, warnings, err
	}
	if len(unsupported) > 0 {
		return nil, warnings, &ValidationError{Msg: s.unsupportedMessage(unsupported)}
	}
	return params, warnings, nil
}

// aliasesOf maps every alias to its option's name.
func (s Spec) aliasesOf() map[string]string {
	aliasOf := map[string]string{}
	for name, opt := range s.Options {
		for _, alias := range opt.Aliases {
			aliasOf[alias] = name
		}
	}
	return aliasOf
}

// resolveAliases returns the given options under their canonical names and
// the names the spec does not know. As in Ansible, a value given under an
// alias wins over one given under the option's name (the aliases are applied
// in the order the spec lists them), with a warning.
func (s Spec) resolveAliases(raw map[string]any) (map[string]any, []string, []string) {
	aliasOf := s.aliasesOf()
	params := make(map[string]any, len(s.Options))
	var unsupported []string
	for key, value := range raw {
		if _, ok := s.Options[key]; ok {
			params[key] = value
		} else if _, ok := aliasOf[key]; !ok {
			unsupported = append(unsupported, key)
		}
	}
	var warnings []string
	for _, name := range s.sortedNames() {
		for _, alias := range s.Options[name].Aliases {
			value, given := raw[alias]
			if !given {
				continue
			}
			if _, both := params[name]; both {
				warnings = append(warnings, fmt.Sprintf("Both option %s and its alias %s are set.", name, alias))
			}
			params[name] = value
		}
	}
	return params, warnings, unsupported
}

// unsupportedMessage is arg_spec.py's message: the unknown names, then every
// option name and, in one pair of parentheses, every alias, each list sorted.
func (s Spec) unsupportedMessage(unsupported []string) string {
	sort.Strings(unsupported)
	aliases := make([]string, 0)
	for alias := range s.aliasesOf() {
		aliases = append(aliases, alias)
	}
	sort.Strings(aliases)
	list := strings.Join(s.sortedNames(), ", ")
	if len(aliases) > 0 {
		list += " (" + strings.Join(aliases, ", ") + ")"
	}
	return fmt.Sprintf("Unsupported parameters for (%s) module: %s. Supported parameters include: %s.",
		s.Name, strings.Join(unsupported, ", "), list)
}

// checkMutuallyExclusive names every group with more than one option set.
func checkMutuallyExclusive(groups [][]string, isSet func(string) bool) error {
	var violated []string
	for _, group := range groups {
		if countSet(group, isSet) > 1 {
			violated = append(violated, strings.Join(group, "|"))
		}
	}
	if len(violated) > 0 {
		return &ValidationError{Msg: "parameters are mutually exclusive: " + strings.Join(violated, ", ")}
	}
	return nil
}

// checkRequiredTogether names the first group that is only partly set.
func checkRequiredTogether(groups [][]string, isSet func(string) bool) error {
	for _, group := range groups {
		if n := countSet(group, isSet); n > 0 && n < len(group) {
			return &ValidationError{Msg: "parameters are required together: " + strings.Join(group, ", ")}
		}
	}
	return nil
}

// checkRequiredOneOf names the first group of which nothing is set. Defaults
// count as set, as in Ansible.
func checkRequiredOneOf(groups [][]string, isSet func(string) bool) error {
	for _, group := range groups {
		if countSet(group, isSet) == 0 {
			return &ValidationError{Msg: "one of the following is required: " + strings.Join(group, ", ")}
		}
	}
	return nil
}

func countSet(group []string, isSet func(string) bool) int {
	n := 0
	for _, name := range group {
		if isSet(name) {
			n++
		}
	}
	return n
}

func (s Spec) sortedNames() []string {
	names := make([]string, 0, len(s.Options))
	for name := range s.Options {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// noLogValues returns the text of every value given to a no_log option in
// options, whether under the option's name or one of its aliases, so that
// they can be masked wherever they appear in the output.
func (s Spec) noLogValues(options map[string]any) []string {
	aliasOf := s.aliasesOf()
	var secrets []string
	for key, value := range options {
		if s.isNoLog(key, aliasOf) {
			secrets = appendStrings(secrets, value)
		}
		secrets = appendSecretValues(secrets, value, s.option(key, aliasOf).SecretKeys)
	}
	return secrets
}

// urlCredentials returns the credentials written into URLs anywhere in
// options (the password of "https://user:password@host/...", any characters
// included; the token of "https://token@host/..."; the values of query
// parameters such as X-Amz-Signature, sig, token or apikey: see package
// redact), so that a source URL given to any option is never shown with
// them, in invocation or in an error. Ansible's own modules leave these in
// invocation; secrets never reach this collection's output.
func urlCredentials(value any) []string {
	var out []string
	switch v := value.(type) {
	case string:
		if strings.Contains(v, "://") {
			return redact.Secrets(v)
		}
	case []any:
		for _, item := range v {
			out = append(out, urlCredentials(item)...)
		}
	case map[string]any:
		for _, item := range v {
			out = append(out, urlCredentials(item)...)
		}
	}
	return out
}

// appendSecretValues adds the values held under any of keys, at any depth
// of value's dicts and lists.
func appendSecretValues(out []string, value any, keys []string) []string {
	if len(keys) == 0 {
		return out
	}
	switch v := value.(type) {
	case map[string]any:
		for key, item := range v {
			if containsText(keys, key) {
				out = appendStrings(out, item)
				continue
			}
			out = appendSecretValues(out, item, keys)
		}
	case []any:
		for _, item := range v {
			out = appendSecretValues(out, item, keys)
		}
	}
	return out
}

// option returns the option that key names, directly or as an alias.
func (s Spec) option(key string, aliasOf map[string]string) Option {
	if name, ok := aliasOf[key]; ok {
		key = name
	}
	return s.Options[key]
}

// isNoLog tells whether key names a no_log option, directly or as an alias.
func (s Spec) isNoLog(key string, aliasOf map[string]string) bool {
	opt := s.option(key, aliasOf)
	return opt.NoLog && len(opt.SecretKeys) == 0
}

// appendStrings adds the text of every string and number inside value, as
// Ansible's _return_datastructure_name does. Booleans and nulls are not
// secrets (masking "true" would garble every result).
func appendStrings(out []string, value any) []string {
	switch v := value.(type) {
	case string:
		if v != "" {
			out = append(out, v)
		}
	case []any:
		for _, item := range v {
			out = appendStrings(out, item)
		}
	case map[string]any:
		for _, item := range v {
			out = appendStrings(out, item)
		}
	case nil, bool:
	default:
		out = append(out, fmt.Sprint(v))
	}
	return out
}
