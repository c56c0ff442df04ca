// Package ansibletest holds test helpers for the collection's modules.
//
// CheckDocumentation makes a module's Go argument spec (ansible.Spec) and the
// DOCUMENTATION of its plugins/modules/<module>.py agree, so that what
// ansible-doc shows is what the binary accepts:
//
//	func TestDocumentation(t *testing.T) {
//		ansibletest.CheckDocumentation(t, mypkg.ModuleSpec, "../../plugins/modules/my_module.py")
//	}
//
// It compares, option by option, the names, type (str when not given),
// elements, required, default, choices and aliases, and reports every
// difference, not only the first. Documentation fragments named in
// extends_documentation_fragment are merged in as Ansible merges them (a
// module's own option fields win over a fragment's) when they belong to the
// module's own collection: "<namespace>.<collection>.<name>" is read from
// plugins/doc_fragments/<name>.py, "<...>.<name>.<var>" from the upper-cased
// attribute <var> of that file. Fragments of other collections cannot be read
// from the checkout and are skipped, which is logged.
//
// Ansible's DOCUMENTATION has no no_log field (ansible-test's validate-modules
// schema rejects one), so no_log is checked the way ansible-test checks it:
// an option whose name looks like a secret (it contains pass, secret, token or
// key, with validate-modules' exceptions such as *_file or public_key) must be
// no_log in the spec, unless it is a path, a bool, has choices, or is named
// with NotSecret. A no_log field that a DOCUMENTATION does carry must agree
// with the spec.
//
// The rules follow Ansible's own: lib/ansible/utils/plugin_docs.py
// (add_fragments) and ansible-test's validate-modules (schema.py, main.py).
package ansibletest
