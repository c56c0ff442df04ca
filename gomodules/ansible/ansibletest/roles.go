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
		ArgumentSpecs map[string]struct {
			Options yaml.MapSlice `yaml:"options"`
		} `yaml:"argument_specs"`
	}
	if err := yaml.Unmarshal(content, &file); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", path, err)
	}
	out := make(map[string]map[string]DocOption, len(file.ArgumentSpecs))
	for entryPoint, spec := range file.ArgumentSpecs {
		options := make(map[string]DocOption, len(spec.Options))
		for _, item := range spec.Options {
			fields, _ := item.Value.(yaml.MapSlice)
			option, err := parseOption(fields)
			if err != nil {
				return nil, fmt.Errorf("parsing %s: entry point %s, option %v: %w", path, entryPoint, item.Key, err)
			}
			options[fmt.Sprint(item.Key)] = option
		}
		out[entryPoint] = options
	}
	return out, nil
}
