package imagebuild

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	json "github.com/goccy/go-json"
	yaml "go.yaml.in/yaml/v3"

	"github.com/imageops/cloud/gomodules/ansible"
	"github.com/imageops/cloud/gomodules/buildrecord"
	"github.com/imageops/cloud/gomodules/redact"
)

// Defaults of the build variables, used when neither the task nor a var file
// gives them.
const (
	DefaultDistribution  = "debian"
	DefaultRelease       = "bookworm"
	DefaultMirror        = "http://deb.debian.org/debian"
	DefaultKernelCmdline = "console=tty0 console=ttyS0,115200"
	DefaultSize          = int64(4) << 30 // bytes of the disk's virtual size
	DefaultFilesystem    = "ext4"
)

// DefaultFormats are the outputs made when formats is not given.
var DefaultFormats = []string{"qcow2"}

// BasePackages are installed in every image, before packages: a kernel
// with its initramfs, systemd as init, udev (cloud-init finds its NoCloud seed
// by label), cloud-init with ifupdown to render its network configuration,
// systemd-boot's EFI binary, which is copied into the ESP, and live-boot,
// whose initramfs scripts boot the ISO's squashfs (they act only when the
// command line says boot=live, so the disk boots without them; installed in
// every image so that the disk and the ISO are the same system whatever
// formats are asked for).
var BasePackages = []string{"linux-image-amd64", "initramfs-tools", "systemd-sysv", "udev",
	"cloud-init", "ifupdown", "systemd-boot-efi", "live-boot"}

// Source values of Config.Sources besides a var file's path.
const (
	SourceDefault = "default" // the variable's default
	SourceTask    = "task"    // the module's arguments
)

// Releases are the releases each distribution may be built from.
var Releases = map[string][]string{"debian": {"bullseye", "bookworm", "trixie"}}

// Formats are the outputs Build can make.
var Formats = []string{"qcow2", "raw", "iso"}

// ErrInvalidSpec is wrapped by every error Load returns for a spec that is
// wrong (as opposed to a file that cannot be read).
var ErrInvalidSpec = errors.New("invalid image spec")

// Config is a build's spec once the defaults, the var files and the task's
// values are layered. Its JSON names are the module's option names.
type Config struct {
	Distribution    string   `json:"distribution"`
	Release         string   `json:"release"`
	Mirror          string   `json:"mirror"`
	Packages        []string `json:"packages"`
	KernelCmdline   string   `json:"kernel_cmdline"`
	Size            int64    `json:"size"` // bytes
	Filesystem      string   `json:"filesystem"`
	Formats         []string `json:"formats"`
	Name            string   `json:"name"`
	OutputDir       string   `json:"output_dir"`
	SourceDateEpoch int64    `json:"source_date_epoch"` // seconds; 0: SOURCE_DATE_EPOCH, else the build's start
	HTTPProxy       string   `json:"http_proxy"`
	HTTPSProxy      string   `json:"https_proxy"`
	NoProxy         string   `json:"no_proxy"`
	// The options of kubernetes-sigs image-builder's setup, sysprep and
	// load_additional_components roles and node playbook: repos.go,
	// roles.go, components.go.
	Repos
	CustomRoles
	Components
	// Inputs are the digests of the local files the build reads
	// (inputDigests), set by Load: part of SpecSHA256.
	Inputs map[string]string `json:"inputs,omitempty"`
}

// Variable is one build variable as the build record shows it: its value
// and its source, SourceDefault, SourceTask or a var file's path.
type Variable = buildrecord.Variable

// Spec is a loaded spec: the config and where each variable came from.
type Spec struct {
	Config    Config
	Variables map[string]Variable
	VarFiles  []string
}

// variableSpec is ModuleSpec's options that are build variables, with no
// defaults, to check the values of each var file as the task's.
func variableSpec() ansible.Spec {
	opts := map[string]ansible.Option{}
	for name, opt := range ModuleSpec.Options {
		if isVariable(name) {
			opt.Default, opt.Required = nil, false
			opts[name] = opt
		}
	}
	return ansible.Spec{Name: ModuleName, Options: opts}
}

// isVariable tells whether an option is a build variable (recorded, and
// allowed in var files) rather than an instruction for this run.
func isVariable(name string) bool { return name != "var_files" && name != "force" }

func defaultValues() map[string]any {
	return map[string]any{
		"distribution": DefaultDistribution, "release": DefaultRelease, "mirror": DefaultMirror,
		"packages": []any{}, "kernel_cmdline": DefaultKernelCmdline, "size": DefaultSize,
		"filesystem": DefaultFilesystem, "formats": toAny(DefaultFormats), "source_date_epoch": int64(0),
		"http_proxy": "", "https_proxy": "", "no_proxy": "",
		"extra_debs": []any{}, "extra_repos": []any{}, "disable_public_repos": false,
		"reenable_public_repos": true, "remove_extra_repos": false,
		"node_custom_roles_pre": []any{}, "node_custom_roles_post": []any{},
		"node_custom_roles_post_sysprep": []any{}, "custom_role_names": []any{},
		"load_additional_components": false,
		"additional_registry_images": false, "additional_registry_images_list": []any{},
		"additional_url_images": false, "additional_url_images_list": []any{},
		"additional_executables": false, "additional_executables_list": []any{},
		"additional_executables_destination_path": "",
	}
}

// Load layers the defaults, then each of varFiles in order, then task (the
// module's validated options; nil values are not given), checks the result
// and returns it. A var file must be a YAML or JSON mapping of build
// variables; errors name the file, and the line where the parser knows it.
func Load(task map[string]any, varFiles []string) (Spec, error) {
	values := defaultValues()
	vars := map[string]Variable{}
	for name, value := range values {
		vars[name] = Variable{Value: value, Source: SourceDefault}
	}
	for _, file := range varFiles {
		if !filepath.IsAbs(file) {
			return Spec{}, fmt.Errorf("%w: var file %q is a relative path: expected an absolute path (a module does not run in the playbook's directory)", ErrInvalidSpec, file)
		}
		fileValues, err := readVarFile(file)
		if err != nil {
			return Spec{}, err
		}
		for name, value := range fileValues {
			values[name], vars[name] = value, Variable{Value: value, Source: file}
		}
	}
	for name, value := range task {
		if isVariable(name) && value != nil {
			values[name], vars[name] = value, Variable{Value: value, Source: SourceTask}
		}
	}
	cfg, err := decodeConfig(values)
	if err != nil {
		return Spec{}, err
	}
	for _, name := range []string{"http_proxy", "https_proxy"} {
		if v, ok := vars[name].Value.(string); ok {
			vars[name] = Variable{Value: redact.URL(v), Source: vars[name].Source} // a proxy's password stays out of the record
		}
	}
	if err := cfg.check(vars); err != nil {
		return Spec{}, err
	}
	if cfg.Inputs, err = inputDigests(cfg); err != nil {
		return Spec{}, err
	}
	return Spec{Config: cfg, Variables: vars, VarFiles: varFiles}, nil
}

// readVarFile reads one var file: a mapping whose keys are build variables.
func readVarFile(file string) (map[string]any, error) {
	content, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading var file %q: %w", file, err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(content, &doc); err != nil {
		return nil, fmt.Errorf("%w: var file %q is not YAML or JSON: %v", ErrInvalidSpec, file, err)
	}
	if len(doc.Content) == 0 {
		return map[string]any{}, nil
	}
	top := doc.Content[0]
	if top.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%w: var file %q line %d: expected a mapping of build variables", ErrInvalidSpec, file, top.Line)
	}
	known := variableSpec()
	for i := 0; i < len(top.Content); i += 2 {
		key := top.Content[i]
		if _, ok := known.Options[key.Value]; !ok {
			return nil, fmt.Errorf("%w: var file %q line %d: unknown variable %q (expected one of %s)",
				ErrInvalidSpec, file, key.Line, key.Value, strings.Join(variableNames(), ", "))
		}
	}
	var raw map[string]any
	if err := top.Decode(&raw); err != nil {
		return nil, fmt.Errorf("%w: var file %q: %v", ErrInvalidSpec, file, err)
	}
	checked, err := known.Validate(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: var file %q: %v", ErrInvalidSpec, file, err)
	}
	out := map[string]any{}
	for name, value := range checked {
		if value != nil {
			out[name] = value
		}
	}
	return out, nil
}

func variableNames() []string {
	var names []string
	for name := range ModuleSpec.Options {
		if isVariable(name) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

func decodeConfig(values map[string]any) (Config, error) {
	encoded, err := json.Marshal(values)
	if err != nil {
		return Config{}, fmt.Errorf("encoding build variables: %w", err)
	}
	var cfg Config
	if err := json.Unmarshal(encoded, &cfg); err != nil {
		return Config{}, fmt.Errorf("%w: decoding build variables: %v", ErrInvalidSpec, err)
	}
	cfg.Repos.normalize()
	cfg.CustomRoles.normalize()
	cfg.Components.normalize()
	return cfg, nil
}

var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]*$`)

// check validates the layered config; errors name the variable, its value,
// where the value came from and what was expected.
func (c Config) check(vars map[string]Variable) error {
	from := func(name string) string { return vars[name].Source }
	bad := func(name string, value any, expected string) error {
		return fmt.Errorf("%w: %s %v (from %s): %s", ErrInvalidSpec, name, describe(value), from(name), expected)
	}
	if c.Name == "" {
		return fmt.Errorf("%w: name is required (in the task or a var file)", ErrInvalidSpec)
	}
	if !namePattern.MatchString(c.Name) {
		return bad("name", c.Name, "expected letters, digits and . _ + - (it names the output files)")
	}
	if c.OutputDir == "" {
		return fmt.Errorf("%w: output_dir is required (in the task or a var file)", ErrInvalidSpec)
	}
	if !filepath.IsAbs(c.OutputDir) {
		return bad("output_dir", c.OutputDir, "expected an absolute path (a module does not run in the playbook's directory)")
	}
	releases, ok := Releases[c.Distribution]
	if !ok {
		return bad("distribution", c.Distribution, "expected one of "+strings.Join(sortedKeys(Releases), ", "))
	}
	if !slices.Contains(releases, c.Release) {
		return bad("release", c.Release, fmt.Sprintf("expected a %s release: one of %s", c.Distribution, strings.Join(releases, ", ")))
	}
	if u, err := url.Parse(c.Mirror); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return bad("mirror", c.Mirror, "expected an http or https URL of an apt archive")
	}
	if err := c.checkSize(); err != nil {
		return bad("size", c.Size, err.Error())
	}
	if c.Filesystem != "ext4" {
		return bad("filesystem", c.Filesystem, "expected ext4")
	}
	if len(c.Formats) == 0 {
		return bad("formats", c.Formats, "expected at least one of "+strings.Join(Formats, ", "))
	}
	for _, f := range c.Formats {
		if !slices.Contains(Formats, f) {
			return bad("formats", c.Formats, "expected each of "+strings.Join(Formats, ", "))
		}
	}
	for _, p := range c.Packages {
		if !packagePattern.MatchString(p) {
			return bad("packages", p, "expected a Debian package name, optionally with =version")
		}
	}
	if c.SourceDateEpoch < 0 {
		return bad("source_date_epoch", c.SourceDateEpoch, "expected seconds since 1970 (0 or more)")
	}
	for _, proxy := range []struct{ name, value string }{{"http_proxy", c.HTTPProxy}, {"https_proxy", c.HTTPSProxy}} {
		if u, err := url.Parse(proxy.value); proxy.value != "" && (err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https")) {
			return bad(proxy.name, withoutUserinfo(proxy.value), "expected an http or https URL of a proxy, such as http://proxy.example:3128")
		}
	}
	for _, checkPart := range []func(badValue) error{c.Repos.check, c.CustomRoles.check, c.Components.check} {
		if err := checkPart(bad); err != nil {
			return err
		}
	}
	return nil
}

// badValue makes the error of a variable's value: the variable, its value,
// where it came from and what was expected.
type badValue func(name string, value any, expected string) error

var packagePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]+(:[a-z0-9]+)?(=[A-Za-z0-9.+~:-]+)?$`)

func describe(value any) string {
	if s, ok := value.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprint(value)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func toAny(list []string) []any {
	out := make([]any, len(list))
	for i, s := range list {
		out[i] = s
	}
	return out
}

// withoutUserinfo hides the user information of a URL, even one without a
// scheme, for errors.
func withoutUserinfo(raw string) string {
	if strings.Contains(raw, "://") {
		return redact.URL(raw)
	}
	if at := strings.LastIndex(raw, "@"); at >= 0 {
		return redact.Redacted + raw[at:]
	}
	return raw
}
