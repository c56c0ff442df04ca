package ansible

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	json "github.com/goccy/go-json"
	"gopkg.in/yaml.v2"
)

// Main is the whole main function of a module binary: it reads the args file
// named on the command line, runs the module and prints the result as one JSON
// object on stdout. It exits 1 when the module failed, 0 otherwise.
//
// Usage: <binary> [--check] [--diff] ARGS_FILE, where ARGS_FILE is JSON (as
// Ansible writes it) or YAML (for runs by hand). --check and --diff set
// _ansible_check_mode and _ansible_diff. SIGINT and SIGTERM cancel the context
// so that the module can remove its temporary files.
func Main(spec Spec, run RunFunc) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Run(ctx, os.Args[1:], os.Stdout, spec, run)
	stop()
	os.Exit(code)
}

// Run is Main without the process: it parses argv (flags then the args file),
// executes the module and writes the JSON result to stdout. It returns the
// process exit code.
func Run(ctx context.Context, argv []string, stdout io.Writer, spec Spec, run RunFunc) int {
	return writeResult(stdout, runArgv(ctx, argv, spec, run))
}

// writeResult prints result as one line of JSON and returns the exit code:
// 1 when the module failed, 0 otherwise.
func writeResult(stdout io.Writer, result map[string]any) int {
	encoded, err := json.Marshal(result)
	if err != nil {
		encoded = []byte(fmt.Sprintf(`{"failed": true, "msg": %q}`, "encoding the module result: "+err.Error()))
	}
	fmt.Fprintln(stdout, string(encoded))
	if failed, _ := result["failed"].(bool); failed {
		return 1
	}
	return 0
}

func runArgv(ctx context.Context, argv []string, spec Spec, run RunFunc) map[string]any {
	args, err := parseArgv(argv)
	if err != nil {
		return map[string]any{"failed": true, "changed": false, "msg": usage(spec.Name, err)}
	}
	return Execute(ctx, spec, args, run)
}

// errUsage is returned by parseArgv when the command line is not
// [--check] [--diff] ARGS_FILE.
var errUsage = errors.New("expected [--check] [--diff] ARGS_FILE")

// parseArgv parses [--check] [--diff] ARGS_FILE and returns the args file's
// contents with the flags folded in as _ansible_check_mode and _ansible_diff.
func parseArgv(argv []string) (map[string]any, error) {
	flags := flag.NewFlagSet("module", flag.ContinueOnError)
	flags.SetOutput(io.Discard)
	check := flags.Bool("check", false, "run in check mode")
	diff := flags.Bool("diff", false, "report a diff")
	if err := flags.Parse(argv); err != nil || flags.NArg() != 1 {
		return nil, errUsage
	}
	args, err := ReadArgsFile(flags.Arg(0))
	if err != nil {
		return nil, err
	}
	if *check {
		args["_ansible_check_mode"] = true
	}
	if *diff {
		args["_ansible_diff"] = true
	}
	return args, nil
}

// usage turns a parseArgv error into the module's msg.
func usage(name string, err error) string {
	if errors.Is(err, errUsage) {
		return fmt.Sprintf("usage: %s [--check] [--diff] ARGS_FILE (a JSON or YAML file of module options)", name)
	}
	return err.Error()
}

// ReadArgsFile reads a module args file: a JSON object, or a YAML mapping.
func ReadArgsFile(path string) (map[string]any, error) {
	content, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the args file: %w", err)
	}
	return ParseArgs(content)
}

// ParseArgs decodes module args given as a JSON object or a YAML mapping.
// Numbers stay exact (JSON numbers are decoded as json.Number).
func ParseArgs(content []byte) (map[string]any, error) {
	trimmed := strings.TrimSpace(string(content))
	if strings.HasPrefix(trimmed, "{") {
		args := map[string]any{}
		decoder := json.NewDecoder(strings.NewReader(trimmed))
		decoder.UseNumber()
		if err := decoder.Decode(&args); err == nil {
			return args, nil
		}
	}
	var doc any
	if err := yaml.Unmarshal(content, &doc); err != nil {
		return nil, fmt.Errorf("parsing the args file: it is neither a JSON object nor YAML: %w", err)
	}
	if doc == nil {
		// An empty file (or a bare null) gives no options.
		return map[string]any{}, nil
	}
	args, ok := PlainYAML(doc).(map[string]any)
	if !ok {
		return nil, fmt.Errorf("parsing the args file: expected a mapping of option names to values, got %s", typeName(PlainYAML(doc)))
	}
	return args, nil
}

// PlainYAML turns yaml.v2's map[interface{}]interface{} into map[string]any.
func PlainYAML(value any) any {
	switch v := value.(type) {
	case map[any]any:
		out := make(map[string]any, len(v))
		for key, item := range v {
			out[fmt.Sprint(key)] = PlainYAML(item)
		}
		return out
	case []any:
		for i := range v {
			v[i] = PlainYAML(v[i])
		}
		return v
	case int:
		return int64(v)
	}
	return value
}
