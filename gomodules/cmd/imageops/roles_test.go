package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v2"

	"github.com/imageops/cloud/gomodules/ansible"
	"github.com/imageops/cloud/gomodules/ansible/ansibletest"
	"github.com/imageops/cloud/gomodules/openstack/conn"
)

// The role argument specs are a third copy of module options (beside the Go
// spec and DOCUMENTATION); these tests keep every role of roles/ in line
// with the modules of the binary, so that a new role or module is covered
// without being named here.

// roleSpecs reads every roles/<role>/meta/argument_specs.yml.
func roleSpecs(t *testing.T) map[string]map[string]map[string]ansibletest.DocOption {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(collectionRoot, "roles", "*", "meta", "argument_specs.yml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no roles/*/meta/argument_specs.yml: %v", err)
	}
	out := map[string]map[string]map[string]ansibletest.DocOption{}
	for _, file := range files {
		spec, err := ansibletest.ReadRoleSpec(file)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(filepath.Dir(filepath.Dir(file)))] = spec
	}
	return out
}

// TestEveryRoleHasItsMeta: Galaxy reads a role's meta/main.yml (galaxy_info)
// and Ansible validates its variables with meta/argument_specs.yml.
func TestEveryRoleHasItsMeta(t *testing.T) {
	roles, err := filepath.Glob(filepath.Join(collectionRoot, "roles", "*"))
	if err != nil || len(roles) == 0 {
		t.Fatalf("no roles: %v", err)
	}
	for _, role := range roles {
		for _, file := range []string{"main.yml", "argument_specs.yml"} {
			content, err := os.ReadFile(filepath.Join(role, "meta", file))
			if err != nil {
				t.Errorf("role %s: %v", filepath.Base(role), err)
				continue
			}
			var meta map[string]any
			if err := yaml.Unmarshal(content, &meta); err != nil {
				t.Errorf("role %s: meta/%s: %v", filepath.Base(role), file, err)
			}
			if file == "main.yml" && meta["galaxy_info"] == nil {
				t.Errorf("role %s: meta/main.yml has no galaxy_info", filepath.Base(role))
			}
		}
	}
}

// runScopeOptions are the options that scope a whole run rather than one
// item: besides openstack.cloud's connection options, the project whose
// images a run manages. A role gives them once for all its items.
var runScopeOptions = map[string]bool{"owner": true}

// withoutRunScope returns spec without the connection options and
// runScopeOptions.
func withoutRunScope(spec ansible.Spec) ansible.Spec {
	options := map[string]ansible.Option{}
	for name, opt := range spec.Options {
		if _, shared := conn.Options[name]; !shared && !runScopeOptions[name] {
			options[name] = opt
		}
	}
	spec.Options = options
	return spec
}

// TestRoleCopiesOfModuleOptions: a role that validates input for a module
// before calling it keeps the module's options in
// roles/<role>/vars/<module>_options.yml (community_images validates each
// image with community_image's options before the batch module sees it), and
// an entry point of meta/argument_specs.yml other than main may describe the
// options of the module that takes all of its own. Either must list every one
// of that module's options (but the connection options and the owner, which
// a role gives once for all), with the same type, elements, required, choices, aliases
// and no_log; defaults are the role's.
func TestRoleCopiesOfModuleOptions(t *testing.T) {
	copies, err := filepath.Glob(filepath.Join(collectionRoot, "roles", "*", "vars", "*_options.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range copies {
		where, _ := filepath.Rel(collectionRoot, file)
		module := strings.TrimSuffix(filepath.Base(file), "_options.yml")
		entry, ok := modules.Lookup(module)
		if !ok {
			t.Errorf("%s: the binary holds no module %s", where, module)
			continue
		}
		options, err := ansibletest.ReadOptionsFile(file)
		if err != nil {
			t.Fatal(err)
		}
		compareCopy(t, entry.Spec, options, where)
	}
	for role, entryPoints := range roleSpecs(t) {
		for entryPoint, options := range entryPoints {
			if entryPoint == "main" {
				continue
			}
			where := fmt.Sprintf("roles/%s/meta/argument_specs.yml (%s)", role, entryPoint)
			spec, ok := moduleTakingAll(options)
			if !ok {
				t.Errorf("%s: no module takes all of its options %v; an entry point other than main mirrors a module's options",
					where, sortedNames(options))
				continue
			}
			compareCopy(t, spec, options, where)
		}
	}
}

func compareCopy(t *testing.T, spec ansible.Spec, options map[string]ansibletest.DocOption, where string) {
	t.Helper()
	for _, difference := range ansibletest.CompareOptions(withoutRunScope(spec), options, where, ansibletest.IgnoreDefaults()) {
		t.Errorf("%s and the %s spec disagree: %s", where, spec.Name, difference)
	}
}

// moduleTakingAll returns the registered module whose options include every
// one of options (the one with the fewest options when several do).
func moduleTakingAll(options map[string]ansibletest.DocOption) (ansible.Spec, bool) {
	var best ansible.Spec
	found := false
	for _, name := range modules.Names() {
		entry, _ := modules.Lookup(name)
		takesAll := true
		for option := range options {
			if _, ok := entry.Spec.Options[option]; !ok {
				takesAll = false
				break
			}
		}
		if takesAll && (!found || len(entry.Spec.Options) < len(best.Options)) {
			best, found = entry.Spec, true
		}
	}
	return best, found
}

// roleVariable finds the variable a module argument is templated from:
// "{{ community_images_cloud | default(omit, true) }}" gives community_images_cloud.
var roleVariable = regexp.MustCompile(`^\{\{-?\s*([A-Za-z_][A-Za-z0-9_]*)\s*(\}\}|\|)`)

// TestRoleVariablesFitTheModuleOptionsTheyFill: where a role's task passes
// one of its public variables to a module of the collection
// (`cloud: "{{ community_images_cloud | default(omit, true) }}"`), the
// variable's argument spec must let through only what the option takes: the
// same type (a raw variable may fill any option, any variable a raw option,
// str and path each other), choices among the option's, and no_log when the
// option is.
func TestRoleVariablesFitTheModuleOptionsTheyFill(t *testing.T) {
	checked := 0
	for role, entryPoints := range roleSpecs(t) {
		variables := entryPoints["main"]
		for _, call := range moduleCalls(t, role) {
			entry, ok := modules.Lookup(call.module)
			if !ok {
				t.Errorf("roles/%s/tasks/%s calls %s, which the binary does not hold", role, call.file, call.module)
				continue
			}
			for option, value := range call.args {
				match := roleVariable.FindStringSubmatch(fmt.Sprint(value))
				if match == nil {
					continue
				}
				variable, isPublic := variables[match[1]]
				if !isPublic {
					continue
				}
				where := fmt.Sprintf("roles/%s: %s passed as %s.%s", role, match[1], call.module, option)
				opt, ok := entry.Spec.Options[option]
				if !ok {
					t.Errorf("%s: the module has no such option", where)
					continue
				}
				checked++
				if omitsEmpty.MatchString(fmt.Sprint(value)) {
					variable.Choices = withoutEmpty(variable.Choices)
				}
				for _, problem := range variableFitsOption(variable, opt) {
					t.Errorf("%s: %s", where, problem)
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no role variable passed to a module was found: the task files were not read")
	}
}

// omitsEmpty finds `default(omit, true)`: an empty variable leaves the
// option out, so "" need not be one of the option's choices.
var omitsEmpty = regexp.MustCompile(`default\(\s*omit\s*,\s*(true|True)\s*\)`)

func withoutEmpty(choices []any) []any {
	var out []any
	for _, choice := range choices {
		if choice != "" {
			out = append(out, choice)
		}
	}
	return out
}

func variableFitsOption(variable ansibletest.DocOption, opt ansible.Option) []string {
	var out []string
	optType := string(opt.Type)
	if optType == "" {
		optType = string(ansible.TypeStr)
	}
	stringLike := func(typ string) bool { return typ == "str" || typ == "path" }
	if variable.Type != "raw" && optType != "raw" && variable.Type != optType && !(stringLike(variable.Type) && stringLike(optType)) {
		out = append(out, fmt.Sprintf("type is %s in the role, %s in the module", variable.Type, optType))
	}
	if variable.Type == "list" && optType == "list" && variable.Elements != string(opt.Elements) {
		out = append(out, fmt.Sprintf("elements are %s in the role, %s in the module", variable.Elements, opt.Elements))
	}
	if len(opt.Choices) > 0 {
		allowed := map[string]bool{}
		for _, choice := range opt.Choices {
			allowed[fmt.Sprint(choice)] = true
		}
		for _, choice := range variable.Choices {
			if !allowed[fmt.Sprint(choice)] {
				out = append(out, fmt.Sprintf("choice %v is allowed by the role, not by the module (%v)", choice, opt.Choices))
			}
		}
	}
	if opt.NoLog && (variable.NoLog == nil || !*variable.NoLog) {
		out = append(out, "the option is no_log, the role variable is not")
	}
	return out
}

// moduleCall is one task of a role that calls a module of the collection.
type moduleCall struct {
	file, module string
	args         map[string]any
}

// moduleCalls returns the tasks of roles/<role>/tasks/*.yml, at any depth of
// block/rescue/always, that call imageops.cloud.<module>.
func moduleCalls(t *testing.T, role string) []moduleCall {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(collectionRoot, "roles", role, "tasks", "*.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var calls []moduleCall
	for _, file := range files {
		content, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var tasks any
		if err := yaml.Unmarshal(content, &tasks); err != nil {
			t.Fatalf("parsing %s: %v", file, err)
		}
		collectCalls(ansible.PlainYAML(tasks), filepath.Base(file), &calls)
	}
	return calls
}

func collectCalls(node any, file string, calls *[]moduleCall) {
	switch v := node.(type) {
	case []any:
		for _, item := range v {
			collectCalls(item, file, calls)
		}
	case map[string]any:
		for key, value := range v {
			if module, ok := strings.CutPrefix(key, "imageops.cloud."); ok {
				if args, ok := value.(map[string]any); ok {
					*calls = append(*calls, moduleCall{file: file, module: module, args: args})
				}
			}
			collectCalls(value, file, calls)
		}
	}
}

func sortedNames(options map[string]ansibletest.DocOption) []string {
	names := make([]string, 0, len(options))
	for name := range options {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}
