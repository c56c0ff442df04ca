// Package ansible implements Ansible's binary-module protocol for Go programs.
//
// Ansible runs a binary module as "<binary> <args-file>". The args file is a flat
// JSON object holding the task's options and Ansible's private "_ansible_*" keys
// (_ansible_check_mode, _ansible_diff, _ansible_no_log, _ansible_verbosity, ...).
// The module answers with exactly one JSON object on stdout. This package gives
// every module of the collection the same behaviour as a module written with
// ansible.module_utils.basic.AnsibleModule:
//
//   - options are validated against a Spec (types, required, defaults, choices,
//     aliases, mutually exclusive groups, no_log), with Ansible's own error texts,
//     such as "Unsupported parameters for (imageops.cloud.x) module: foo.
//     Supported parameters include: a, b (c).";
//   - check mode and diff mode are read from the args file and offered to the
//     module's code;
//   - the result carries "changed", "invocation" (no_log values masked),
//     "warnings", and on error "failed" and "msg";
//   - every value of a no_log option (and every secret given to Module.AddSecret)
//     is masked in the whole result as Ansible's remove_values does: a string
//     equal to it becomes "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER", and where it
//     appears inside a string it is replaced by "********"; so is the password
//     (or token) written into a URL anywhere in the options ("user:password@");
//   - a panic becomes a failed result rather than a stack trace on stdout.
//
// Deliberate differences from AnsibleModule: an option given as null counts
// as not given; unknown "_ansible_*" keys are ignored rather than rejected, so
// that a binary keeps working with a newer Ansible; an int option accepts a
// whole number written as a float (10.0) but nothing beyond int64; and type
// errors name the value given (unless no_log) with JSON type names.
//
// The same binary can be run by hand, with a JSON or YAML args file and the
// optional flags --check and --diff; that is how systemd timers and users
// without Ansible use the modules.
//
// The collection ships one binary per platform holding every module: a
// Registry maps module names to their specs and run functions and picks the
// module from the name the binary runs under, its first argument, or the args
// file's _ansible_module_name.
//
// The protocol is described in Ansible's developer guide, "Ansible module
// architecture" (binary modules) and module_utils/common/arg_spec.py.
package ansible
