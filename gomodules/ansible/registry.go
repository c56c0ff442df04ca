package ansible

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
)

// Entry is one module of a multi-call binary: its argument spec and the
// function that runs it.
type Entry struct {
	Spec Spec
	Run  RunFunc
}

// Registry holds the modules of a multi-call binary, by short name
// ("community_image" for "imageops.cloud.community_image"). One binary per
// platform carries every module of the collection: the modules share most of
// their code (the protocol, gophercloud, go-containerregistry), so one binary
// is a fraction of the size of one binary per module.
//
// The zero value is an empty registry ready to use.
type Registry struct {
	entries map[string]Entry
}

// moduleNameSuffix matches what surrounds a module's name in the file names
// the binary is run under: "AnsiballZ_" (Ansible's copy on the target) and
// "_linux_amd64" (a developer's link in bin/).
var (
	ansiballzPrefix  = "AnsiballZ_"
	platformSuffixRE = regexp.MustCompile(`_linux_[a-z0-9]+$`)
)

// ShortName returns the module's name without its collection:
// "imageops.cloud.community_image" gives "community_image".
func (s Spec) ShortName() string {
	return s.Name[strings.LastIndex(s.Name, ".")+1:]
}

// Register adds a module under its short name. It panics when a module of
// that name is already registered: two files registering one name is a
// programming error that every test of the binary must see.
func (r *Registry) Register(spec Spec, run RunFunc) {
	name := spec.ShortName()
	if r.entries == nil {
		r.entries = map[string]Entry{}
	}
	if _, taken := r.entries[name]; taken {
		panic(fmt.Sprintf("module %q is registered twice", name))
	}
	r.entries[name] = Entry{Spec: spec, Run: run}
}

// Names returns the registered modules' short names, sorted.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.entries))
	for name := range r.entries {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Lookup returns the module registered under name, which may be a short
// name, a fully qualified one ("imageops.cloud.image_convert") or a file
// name the binary runs under ("AnsiballZ_image_convert",
// "image_convert_linux_arm64").
func (r *Registry) Lookup(name string) (Entry, bool) {
	name = filepath.Base(name)
	name = name[strings.LastIndex(name, ".")+1:]
	name = strings.TrimPrefix(name, ansiballzPrefix)
	if entry, ok := r.entries[name]; ok {
		return entry, true
	}
	entry, ok := r.entries[platformSuffixRE.ReplaceAllString(name, "")]
	return entry, ok
}

// Main is the whole main function of a multi-call binary: it runs Run with
// os.Args and exits with its code. SIGINT and SIGTERM cancel the context.
func (r *Registry) Main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := r.Run(ctx, os.Args, os.Stdout)
	stop()
	os.Exit(code)
}

// Run picks the module to run and runs it as Run does for a single module.
// argv is the whole command line, argv[0] included. The module is, in order:
//
//   - the name the binary was started under (a link or copy named after the
//     module: "image_cleaner ARGS_FILE", as systemd timers run it);
//   - the first argument ("imageops image_cleaner [--check] ARGS_FILE");
//   - the args file's _ansible_module_name, which Ansible's action plugin
//     sets to the task's module ("imageops.cloud.image_cleaner").
//
// When none names a registered module, the result fails with the list of
// modules the binary holds.
func (r *Registry) Run(ctx context.Context, argv []string, stdout io.Writer) int {
	return writeResult(stdout, r.runArgv(ctx, argv))
}

func (r *Registry) runArgv(ctx context.Context, argv []string) map[string]any {
	program := "imageops"
	if len(argv) > 0 {
		program = filepath.Base(argv[0])
		if entry, ok := r.Lookup(program); ok {
			return runArgv(ctx, argv[1:], entry.Spec, entry.Run)
		}
		argv = argv[1:]
	}
	if len(argv) > 0 {
		if entry, ok := r.Lookup(argv[0]); ok {
			return runArgv(ctx, argv[1:], entry.Spec, entry.Run)
		}
	}
	args, err := parseArgv(argv)
	if err != nil {
		return r.failure(program, err)
	}
	name, _ := args["_ansible_module_name"].(string)
	entry, ok := r.Lookup(name)
	if !ok {
		return r.failure(program, fmt.Errorf("the args file names module %q (_ansible_module_name)", name))
	}
	return Execute(ctx, entry.Spec, args, entry.Run)
}

// failure is the result when no module could be picked.
func (r *Registry) failure(program string, err error) map[string]any {
	return map[string]any{"failed": true, "changed": false, "msg": fmt.Sprintf(
		"%s: %v; this binary holds the modules %s: run it as `%s MODULE [--check] [--diff] ARGS_FILE`, "+
			"under a module's name, or with an args file whose _ansible_module_name names the module",
		program, err, strings.Join(r.Names(), ", "), program)}
}
