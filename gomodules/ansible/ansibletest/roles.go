package ansibletest

import (
	"fmt"
	"os"

	"gopkg.in/yaml.v2"
)

// ReadRoleSpec reads a role's meta/argument_specs.yml and returns, for each
// entry point ("main", ...), its options with Ansible's implicit values made
// explicit as in DocOption. It fails when the file cannot be read or an
// option cannot be decoded.
func ReadRoleSpec(path string) (map[string]map[string]DocOption, error) {
	content, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the role's argument specs: %w", err)
	}
	var file struct {
		ArgumentSpecs map[string]optionsFile `yaml:"argument_specs"`
	}
	if err := yaml.Unmarshal(content, &file); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", path, err)
	}
	out := make(map[string]map[string]DocOption, len(file.ArgumentSpecs))
	for entryPoint, spec := range file.ArgumentSpecs {
		options, err := parseOptions(spec.Options)
		if err != nil {
			return nil, fmt.Errorf("parsing %s: entry point %s: %w", path, entryPoint, err)
		}
		out[entryPoint] = options
	}
	return out, nil
}

// ReadOptionsFile reads a YAML file whose "options" mapping is written as
// an argument spec's (a role's copy of a module's options, which it
// validates input with) and returns the options as ReadRoleSpec does.
func ReadOptionsFile(path string) (map[string]DocOption, error) {
	content, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the options file: %w", err)
	}
	var file optionsFile
	if err := yaml.Unmarshal(content, &file); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", path, err)
	}
	options, err := parseOptions(file.Options)
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", path, err)
	}
	return options, nil
}

// optionsFile is anything with an argument spec's "options" mapping.
type optionsFile struct {
	Options yaml.MapSlice `yaml:"options"`
}

func parseOptions(items yaml.MapSlice) (map[string]DocOption, error) {
	options := make(map[string]DocOption, len(items))
	for _, item := range items {
		fields, _ := item.Value.(yaml.MapSlice)
		option, err := parseOption(fields)
		if err != nil {
			return nil, fmt.Errorf("option %v: %w", item.Key, err)
		}
		options[fmt.Sprint(item.Key)] = option
	}
	return options, nil
}
