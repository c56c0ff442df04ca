package ansible

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	json "github.com/goccy/go-json"
)

// noLogMask replaces a secret wherever it appears in a result, as Ansible's
// remove_values does.
const noLogMask = "********"

// invocationMask stands for a no_log option's value in "invocation", as in Ansible.
const invocationMask = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"

// RunFunc is a module's logic. It returns a value that marshals to a JSON
// object (a struct with json tags, or a map); its keys become the module's
// result, beside "changed", "invocation" and "warnings". An error fails the
// module with the error's text as "msg"; an error that implements Fielder adds
// its fields to the failed result (for example a partial report).
type RunFunc func(ctx context.Context, m *Module) (any, error)

// Fielder is implemented by errors that carry result fields besides the message.
type Fielder interface {
	Fields() map[string]any
}

// Module is what a RunFunc sees of the task: its validated options and the
// modes Ansible asked for.
type Module struct {
	// Params holds the validated options: canonical names, converted types
	// (string, int64, float64, bool, []any, map[string]any), defaults applied.
	Params map[string]any
	// CheckMode is true when the task runs in check mode: write nothing.
	CheckMode bool
	// DiffMode is true when Ansible asked for a diff (--diff); the result's
	// "diff" key is dropped otherwise.
	DiffMode bool
	// Verbosity is Ansible's -v count.
	Verbosity int

	spec     Spec
	warnings []string
	secrets  []string
}

// Decode copies Params into target, a pointer to a struct whose json tags are
// the option names.
func (m *Module) Decode(target any) error {
	encoded, err := json.Marshal(m.Params)
	if err != nil {
		return fmt.Errorf("encoding module options: %w", err)
	}
	if err := json.Unmarshal(encoded, target); err != nil {
		return fmt.Errorf("decoding module options: %w", err)
	}
	return nil
}

// Warn adds a warning that Ansible shows after the task.
func (m *Module) Warn(format string, args ...any) {
	m.warnings = append(m.warnings, fmt.Sprintf(format, args...))
}

// AddSecret registers a value that must never appear in the result, such as a
// password read from clouds.yaml; it is masked like a no_log option.
func (m *Module) AddSecret(secret string) {
	if secret != "" {
		m.secrets = append(m.secrets, secret)
	}
}

// Request is one invocation of a module: its raw args and the modes.
type Request struct {
	// Args is the decoded args file, _ansible_* keys included.
	Args map[string]any
}

// Execute validates args against spec, runs the module and returns its result
// as a JSON-ready map, with "failed": true and "msg" on any error or panic.
// It never returns an error itself: everything a user must see is in the map.
func Execute(ctx context.Context, spec Spec, args map[string]any, run RunFunc) (result map[string]any) {
	m := &Module{spec: spec}
	options := map[string]any{}
	for key, value := range args {
		if !strings.HasPrefix(key, "_ansible_") {
			options[key] = value
		}
	}
	m.CheckMode = boolArg(args, "_ansible_check_mode")
	m.DiffMode = boolArg(args, "_ansible_diff")
	if v, err := toInt(args["_ansible_verbosity"]); err == nil {
		m.Verbosity = int(v.(int64))
	}
	// Secrets given to options are masked even when validation fails.
	m.secrets = append(spec.noLogValues(options), urlCredentials(options)...)
	defer func() {
		if recovered := recover(); recovered != nil {
			result = m.failure(fmt.Errorf("module %s crashed: %v", spec.Name, recovered))
		}
		result = m.finish(result, options)
	}()

	params, warnings, err := spec.validate(options)
	m.warnings = append(m.warnings, warnings...)
	if err != nil {
		return m.failure(err)
	}
	m.Params = params
	m.secrets = append(m.secrets, spec.noLogValues(params)...)
	if m.CheckMode && !spec.SupportsCheckMode {
		return map[string]any{"changed": false, "skipped": true,
			"msg": fmt.Sprintf("remote module (%s) does not support check mode", spec.Name)}
	}
	value, err := run(ctx, m)
	if err != nil {
		return m.failure(err)
	}
	out, err := toObject(value)
	if err != nil {
		return m.failure(fmt.Errorf("encoding the result of %s: %w", spec.Name, err))
	}
	if _, ok := out["changed"]; !ok {
		out["changed"] = false
	}
	if !m.DiffMode {
		delete(out, "diff")
	}
	return out
}

func boolArg(args map[string]any, key string) bool {
	v, err := toBool(args[key])
	return err == nil && v.(bool)
}

func (m *Module) failure(err error) map[string]any {
	out := map[string]any{"failed": true, "changed": false, "msg": err.Error()}
	var fielder Fielder
	if errors.As(err, &fielder) {
		for key, value := range fielder.Fields() {
			if key != "failed" && key != "msg" {
				out[key] = value
			}
		}
	}
	return out
}

// finish adds invocation and warnings, then masks every secret. The result is
// first turned into plain JSON values, so that secrets inside structs, typed
// maps or slices (from a RunFunc or a Fielder) are masked too.
func (m *Module) finish(out map[string]any, given map[string]any) map[string]any {
	shown := m.Params
	if shown == nil {
		shown = given
	}
	invocation := map[string]any{"module_args": m.maskedInvocation(shown)}
	out["invocation"] = invocation
	if len(m.warnings) > 0 {
		out["warnings"] = m.warnings
	}
	generic, err := toObject(out)
	if err != nil {
		generic, _ = toObject(map[string]any{"failed": true, "changed": false, "invocation": invocation,
			"msg": fmt.Sprintf("encoding the result of %s: %v", m.spec.Name, err)})
	}
	return mask(generic, sortSecrets(m.secrets)).(map[string]any)
}

// maskedInvocation shows params with every no_log option's value (given under
// its name or an alias) replaced by Ansible's placeholder.
func (m *Module) maskedInvocation(params map[string]any) map[string]any {
	aliasOf := m.spec.aliasesOf()
	shown := make(map[string]any, len(params))
	for name, value := range params {
		if value != nil && m.spec.isNoLog(name, aliasOf) {
			shown[name] = invocationMask
			continue
		}
		shown[name] = maskSecretKeys(value, m.spec.option(name, aliasOf).SecretKeys)
	}
	return shown
}

// maskSecretKeys returns a copy of value in which the values held under any
// of keys, at any depth, are replaced by Ansible's placeholder.
func maskSecretKeys(value any, keys []string) any {
	if len(keys) == 0 {
		return value
	}
	switch v := value.(type) {
	case map[string]any:
		shown := make(map[string]any, len(v))
		for key, item := range v {
			if containsText(keys, key) && item != nil {
				shown[key] = invocationMask
				continue
			}
			shown[key] = maskSecretKeys(item, keys)
		}
		return shown
	case []any:
		shown := make([]any, len(v))
		for i, item := range v {
			shown[i] = maskSecretKeys(item, keys)
		}
		return shown
	}
	return value
}

// toObject turns a RunFunc's value into a map of plain JSON values (string,
// json.Number, bool, nil, []any, map[string]any) by a JSON round trip.
func toObject(value any) (map[string]any, error) {
	if value == nil {
		return map[string]any{}, nil
	}
	encoded, err := json.Marshal(value)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	decoder := json.NewDecoder(bytes.NewReader(encoded))
	decoder.UseNumber()
	if err := decoder.Decode(&out); err != nil || out == nil {
		return nil, fmt.Errorf("a module result must be a JSON object, not %s", encoded)
	}
	return out, nil
}

// sortSecrets drops duplicates and puts longer secrets first, so that a secret
// that contains another is masked whole.
func sortSecrets(secrets []string) []string {
	seen := map[string]bool{}
	out := make([]string, 0, len(secrets))
	for _, secret := range secrets {
		if secret != "" && !seen[secret] {
			seen[secret] = true
			out = append(out, secret)
		}
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// mask hides secrets in a plain JSON value as Ansible's remove_values does: a
// string that is a secret becomes VALUE_SPECIFIED_IN_NO_LOG_PARAMETER, a
// secret inside a string becomes ********, and a number whose text contains a
// secret becomes VALUE_SPECIFIED_IN_NO_LOG_PARAMETER. Map keys are kept.
func mask(value any, secrets []string) any {
	if len(secrets) == 0 {
		return value
	}
	switch v := value.(type) {
	case string:
		for _, secret := range secrets {
			if v == secret {
				return invocationMask
			}
		}
		for _, secret := range secrets {
			v = strings.ReplaceAll(v, secret, noLogMask)
		}
		return v
	case json.Number:
		for _, secret := range secrets {
			if strings.Contains(v.String(), secret) {
				return invocationMask
			}
		}
		return v
	case []any:
		out := make([]any, len(v))
		for i, item := range v {
			out[i] = mask(item, secrets)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for key, item := range v {
			out[key] = mask(item, secrets)
		}
		return out
	}
	return value
}
