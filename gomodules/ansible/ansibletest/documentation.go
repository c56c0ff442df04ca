package ansibletest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"gopkg.in/yaml.v2"
)

// Documentation is the part of a module's DOCUMENTATION that the argument
// spec must agree with, with its collection's doc fragments merged in.
type Documentation struct {
	// Module is the "module" field, the module's short name.
	Module string
	// Options maps each option name to its documentation.
	Options map[string]DocOption
	// CheckMode is attributes.check_mode.support ("full", "partial", "none"),
	// or "" when not documented.
	CheckMode string
	// Fragments lists extends_documentation_fragment as written.
	Fragments []string
	// Skipped lists the fragments that were not merged because they belong
	// to another collection.
	Skipped []string
	// Problems lists fragments that should have been merged but could not be,
	// each as a sentence.
	Problems []string
}

// DocOption is one documented option, with Ansible's implicit values made
// explicit: Type is "str" when not given, Required false, Default nil.
type DocOption struct {
	// Description is a string or a list of strings; nil when missing.
	Description any
	// Type is the argument spec's name of the type ("str", "int", "bool", ...):
	// ansible-doc's synonyms "string", "integer", "boolean" and "dictionary"
	// are translated.
	Type string
	// Elements is the type of a list's elements, translated as Type; "" when
	// not given.
	Elements string
	// Required is the required field.
	Required bool
	// Default is the default value with numbers as int64 (whole) or float64,
	// lists as []any and maps as map[string]any; nil when not given.
	Default any
	// Choices are the allowed values, normalized as Default.
	Choices []any
	// Aliases are the option's other names.
	Aliases []string
	// NoLog is the option's no_log field, which Ansible's schema does not
	// define; nil when absent, as it should be.
	NoLog *bool
}

// docOptionYAML is an option as written in YAML, before defaults.
type docOptionYAML struct {
	Description any      `yaml:"description"`
	Type        string   `yaml:"type"`
	Elements    string   `yaml:"elements"`
	Required    bool     `yaml:"required"`
	Default     any      `yaml:"default"`
	Choices     []any    `yaml:"choices"`
	Aliases     []string `yaml:"aliases"`
	NoLog       *bool    `yaml:"no_log"`
}

// typeAliases maps the synonyms ansible-doc accepts to the argument spec's
// type names (validate-modules schema.py, option_types).
var typeAliases = map[string]string{"": "str", "string": "str", "boolean": "bool", "integer": "int", "dictionary": "dict"}

// ReadDocumentation reads the DOCUMENTATION string of the module file at
// pyPath (plugins/modules/<module>.py of a collection checkout) and merges
// in the fragments of collection ("namespace.name") that it extends, from
// plugins/doc_fragments beside it. It fails when the file, its
// DOCUMENTATION or the YAML cannot be read; a fragment that cannot be read
// is listed in Problems.
func ReadDocumentation(pyPath, collection string) (Documentation, error) {
	source, err := os.ReadFile(pyPath)
	if err != nil {
		return Documentation{}, fmt.Errorf("reading the module documentation: %w", err)
	}
	text, err := pythonString(string(source), "DOCUMENTATION")
	if err != nil {
		return Documentation{}, fmt.Errorf("%s: %w", pyPath, err)
	}
	var doc struct {
		Module     string                    `yaml:"module"`
		Options    map[string]yaml.MapSlice  `yaml:"options"`
		Extends    any                       `yaml:"extends_documentation_fragment"`
		Attributes map[string]map[string]any `yaml:"attributes"`
	}
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		return Documentation{}, fmt.Errorf("%s: parsing DOCUMENTATION as YAML: %w", pyPath, err)
	}
	out := Documentation{Module: doc.Module, Options: map[string]DocOption{}}
	if support, ok := doc.Attributes["check_mode"]["support"].(string); ok {
		out.CheckMode = support
	}
	switch extends := doc.Extends.(type) {
	case string:
		out.Fragments = []string{extends}
	case []any:
		for _, item := range extends {
			out.Fragments = append(out.Fragments, fmt.Sprint(item))
		}
	}

	// Fragments first, then the module's own fields over them, as Ansible's
	// merge_fragment does.
	merged := map[string]yaml.MapSlice{}
	root := filepath.Dir(filepath.Dir(filepath.Dir(pyPath))) // <root>/plugins/modules/x.py
	for _, name := range out.Fragments {
		if collection == "" || !strings.HasPrefix(name, collection+".") {
			out.Skipped = append(out.Skipped, name)
			continue
		}
		options, err := readFragment(root, strings.TrimPrefix(name, collection+"."))
		if err != nil {
			out.Problems = append(out.Problems, fmt.Sprintf("DOCUMENTATION extends %s, but %v (ansible-doc fails the same way)", name, err))
			continue
		}
		for option, fields := range options {
			merged[option] = mergeFields(merged[option], fields)
		}
	}
	for option, fields := range doc.Options {
		merged[option] = mergeFields(merged[option], fields)
	}
	for option, fields := range merged {
		parsed, err := parseOption(fields)
		if err != nil {
			return Documentation{}, fmt.Errorf("%s: option %q: %w", pyPath, option, err)
		}
		out.Options[option] = parsed
	}
	return out, nil
}

// readFragment returns the options of a fragment of the collection at root:
// rest is "<name>" (plugins/doc_fragments/<name>.py, DOCUMENTATION) or
// "<name>.<var>" (attribute VAR of that file), as Ansible resolves them.
func readFragment(root, rest string) (map[string]yaml.MapSlice, error) {
	dir := filepath.Join(root, "plugins", "doc_fragments")
	file, variable := filepath.Join(dir, filepath.FromSlash(strings.ReplaceAll(rest, ".", "/"))+".py"), "DOCUMENTATION"
	if _, err := os.Stat(file); errors.Is(err, fs.ErrNotExist) && strings.Contains(rest, ".") {
		name, v, _ := cutLast(rest, ".")
		file, variable = filepath.Join(dir, filepath.FromSlash(strings.ReplaceAll(name, ".", "/"))+".py"), strings.ToUpper(v)
	}
	source, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s does not exist", filepath.Join("plugins", "doc_fragments", filepath.Base(file)))
	}
	if err != nil {
		return nil, err
	}
	text, err := pythonString(string(source), variable)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	var fragment struct {
		Options map[string]yaml.MapSlice `yaml:"options"`
	}
	if err := yaml.Unmarshal([]byte(text), &fragment); err != nil {
		return nil, fmt.Errorf("%s: parsing %s as YAML: %w", file, variable, err)
	}
	return fragment.Options, nil
}

func cutLast(s, sep string) (string, string, bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// mergeFields returns base with every field of over set over it.
func mergeFields(base, over yaml.MapSlice) yaml.MapSlice {
	out := append(yaml.MapSlice{}, base...)
	for _, item := range over {
		replaced := false
		for i := range out {
			if out[i].Key == item.Key {
				out[i].Value, replaced = item.Value, true
			}
		}
		if !replaced {
			out = append(out, item)
		}
	}
	return out
}

// parseOption decodes an option's fields and applies Ansible's implicit
// values.
func parseOption(fields yaml.MapSlice) (DocOption, error) {
	encoded, err := yaml.Marshal(fields)
	if err != nil {
		return DocOption{}, err
	}
	var raw docOptionYAML // other fields (version_added, suboptions, ...) are ignored
	if err := yaml.Unmarshal(encoded, &raw); err != nil {
		return DocOption{}, err
	}
	typ := raw.Type
	if alias, ok := typeAliases[typ]; ok {
		typ = alias
	}
	elements := raw.Elements
	if alias, ok := typeAliases[elements]; ok && elements != "" {
		elements = alias
	}
	return DocOption{Description: raw.Description, Type: typ, Elements: elements, Required: raw.Required,
		Default: normalize(raw.Default), Choices: normalizeList(raw.Choices), Aliases: raw.Aliases, NoLog: raw.NoLog}, nil
}

// pythonAssignment finds `NAME = r"""` (or three single quotes, with an optional r/u prefix),
// at the start of a line, indented or not (fragments assign inside a class).
var pythonAssignment = regexp.MustCompile(`(?m)^[ \t]*([A-Z_][A-Z0-9_]*)[ \t]*=[ \t]*[rRuU]?("""|''')`)

// pythonString returns the triple-quoted string literal assigned to name in
// a Python source. Escapes are not interpreted: the collection writes its
// documentation as raw strings (r"""...""").
func pythonString(source, name string) (string, error) {
	for _, match := range pythonAssignment.FindAllStringSubmatchIndex(source, -1) {
		if source[match[2]:match[3]] != name {
			continue
		}
		quote := source[match[4]:match[5]]
		body := source[match[1]:]
		end := strings.Index(body, quote)
		if end < 0 {
			return "", fmt.Errorf("%s: the string literal is not closed", name)
		}
		return body[:end], nil
	}
	return "", fmt.Errorf("no %s = r\"\"\"...\"\"\" string found", name)
}
