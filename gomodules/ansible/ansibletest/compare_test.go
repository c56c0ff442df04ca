package ansibletest_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageops/cloud/gomodules/ansible"
	"github.com/imageops/cloud/gomodules/ansible/ansibletest"
)

// collection writes a collection checkout into a temporary directory: the
// module file plugins/modules/demo.py with documentation doc, and each
// fragment (file name to Python source) under plugins/doc_fragments. It
// returns the module file's path.
func collection(t *testing.T, doc string, fragments map[string]string) string {
	t.Helper()
	root := t.TempDir()
	modules, docFragments := filepath.Join(root, "plugins", "modules"), filepath.Join(root, "plugins", "doc_fragments")
	require.NoError(t, os.MkdirAll(modules, 0o755))
	require.NoError(t, os.MkdirAll(docFragments, 0o755))
	py := filepath.Join(modules, "demo.py")
	source := "#!/usr/bin/python\nfrom __future__ import absolute_import\n\nDOCUMENTATION = r\"\"\"\n" + doc +
		"\"\"\"\n\nEXAMPLES = r'''\n- name: not options\n'''\n"
	require.NoError(t, os.WriteFile(py, []byte(source), 0o644))
	for name, content := range fragments {
		require.NoError(t, os.WriteFile(filepath.Join(docFragments, name), []byte(content), 0o644))
	}
	return py
}

func fragment(doc string, extra ...string) string {
	out := "class ModuleDocFragment(object):\n\n    DOCUMENTATION = r'''\n" + doc + "'''\n"
	for i := 0; i+1 < len(extra); i += 2 {
		out += "\n    " + extra[i] + " = r'''\n" + extra[i+1] + "'''\n"
	}
	return out
}

var demoSpec = ansible.Spec{
	Name:              "imageops.cloud.demo",
	SupportsCheckMode: true,
	Options: map[string]ansible.Option{
		"name":      {Required: true, Aliases: []string{"image", "id"}},
		"state":     {Type: ansible.TypeStr, Default: "present", Choices: []any{"present", "absent"}},
		"retries":   {Type: ansible.TypeInt, Default: 3},
		"ratio":     {Type: ansible.TypeFloat, Default: 0.5},
		"force":     {Type: ansible.TypeBool, Default: false},
		"tags":      {Type: ansible.TypeList, Elements: ansible.TypeStr, Default: []string{}},
		"labels":    {Type: ansible.TypeDict, Default: map[string]any{"tier": "gold"}},
		"dest":      {Type: ansible.TypePath},
		"api_token": {NoLog: true},
		"cloud":     {Type: ansible.TypeStr},
	},
}

const demoDoc = `---
module: demo
short_description: A module for the tests
description: [Demonstrates every field.]
extends_documentation_fragment:
  - imageops.cloud.cloud
  - ansible.builtin.action_common_attributes
options:
  name:
    description: The name.
    required: yes
    aliases: [id, image]
  state:
    description: [State.]
    type: str
    default: present
    choices: [absent, present]
  retries:
    description: Retries.
    type: integer
    default: 3
  ratio:
    description: Ratio.
    type: float
    default: 0.5
  force:
    description: Force.
    type: bool
    default: no
  tags:
    description: Tags.
    type: list
    elements: str
    default: []
  labels:
    description: Labels.
    type: dict
    default: {tier: gold}
  dest:
    description: Where.
    type: path
  api_token:
    description: The token.
    type: str
attributes:
  check_mode:
    support: full
`

func TestAgreeingDocumentationHasNoDifferences(t *testing.T) {
	py := collection(t, demoDoc, map[string]string{"cloud.py": fragment("options:\n  cloud:\n    description: The cloud.\n    type: str\n")})
	differences, err := ansibletest.CompareDocumentation(demoSpec, py)
	require.NoError(t, err)
	assert.Empty(t, differences)

	rec := &recorder{}
	ansibletest.CheckDocumentation(rec, demoSpec, py)
	assert.Empty(t, rec.errors)
	assert.Empty(t, rec.fatal)
	assert.Equal(t, []string{py + ": fragment ansible.builtin.action_common_attributes belongs to another collection and was not checked"}, rec.logs)
}

func TestEveryDifferenceIsReported(t *testing.T) {
	doc := `---
module: other
options:
  name:
    description: The name.
    type: str
    aliases: [image, title]
  state:
    description: State.
    default: absent
    choices: [present, absent, gone]
  retries:
    description: Retries.
    type: str
    required: true
  ratio:
    description: Ratio.
    type: float
    default: 0.25
  force:
    description: Force.
    type: bool
    default: true
  tags:
    description: Tags.
    type: list
    elements: int
  labels:
    type: dict
  dest:
    description: Where.
    type: path
    no_log: true
  api_token:
    description: The token.
  undocumented_in_spec:
    description: Only here.
attributes:
  check_mode:
    support: none
`
	py := collection(t, doc, nil)
	differences, err := ansibletest.CompareDocumentation(demoSpec, py)
	require.NoError(t, err)
	want := []string{
		`module is "other" in DOCUMENTATION, but the spec is named "imageops.cloud.demo"`,
		`the spec supports check mode, but DOCUMENTATION says attributes.check_mode.support: none`,
		`option "cloud" is in the spec but not in DOCUMENTATION`,
		`option "dest": no_log is false in the spec, true in DOCUMENTATION`,
		`option "force": default is false in the spec, true in DOCUMENTATION`,
		`option "labels" has no description`,
		`option "labels": default is map[tier:gold] in the spec, null in DOCUMENTATION`,
		`option "name": required is true in the spec, false in DOCUMENTATION`,
		`option "name": aliases differ: only in the spec: ["id"]; only in DOCUMENTATION: ["title"]`,
		`option "ratio": default is 0.5 in the spec, 0.25 in DOCUMENTATION`,
		`option "retries": type is "int" in the spec, "str" in DOCUMENTATION`,
		`option "retries": required is false in the spec, true in DOCUMENTATION`,
		`option "retries": default is 3 in the spec, null in DOCUMENTATION`,
		`option "state": default is "present" in the spec, "absent" in DOCUMENTATION`,
		`option "state": choices differ: only in DOCUMENTATION: ["gone"]`,
		`option "tags": elements is "str" in the spec, "int" in DOCUMENTATION`,
		`option "tags": default is [] in the spec, null in DOCUMENTATION`,
		`option "undocumented_in_spec" is in DOCUMENTATION but not in the spec`,
	}
	assert.Equal(t, want, differences)

	rec := &recorder{}
	ansibletest.CheckDocumentation(rec, demoSpec, py)
	require.Len(t, rec.errors, len(want), "one error per difference")
	assert.Equal(t, py+" and the imageops.cloud.demo spec disagree: "+want[0], rec.errors[0])
}

func TestFragmentsAreMergedAsAnsibleDoes(t *testing.T) {
	spec := ansible.Spec{Name: "imageops.cloud.demo", Options: map[string]ansible.Option{
		"cloud":    {},
		"timeout":  {Type: ansible.TypeInt, Default: 60},
		"region":   {Type: ansible.TypeStr},
		"insecure": {Type: ansible.TypeBool, Default: false},
	}}
	doc := `module: demo
extends_documentation_fragment: [imageops.cloud.conn, imageops.cloud.conn.tls]
options:
  timeout:
    default: 60
`
	frags := map[string]string{"conn.py": fragment(`options:
  cloud: {description: The cloud.}
  timeout: {description: Seconds., type: int, default: 30}
  region: {description: The region.}
`, "TLS", "options:\n  insecure: {description: Skip checks., type: bool, default: false}\n")}
	differences, err := ansibletest.CompareDocumentation(spec, collection(t, doc, frags))
	require.NoError(t, err)
	assert.Empty(t, differences, "the module's default (60) wins over the fragment's (30), other fields are kept")

	doc = "module: demo\nextends_documentation_fragment: imageops.cloud.conn\noptions: {}\n"
	differences, err = ansibletest.CompareDocumentation(spec, collection(t, doc, frags))
	require.NoError(t, err)
	assert.Equal(t, []string{
		`option "insecure" is in the spec but not in DOCUMENTATION`,
		`option "timeout": default is 60 in the spec, 30 in DOCUMENTATION`,
	}, differences)
}

func TestMissingFragmentFileIsReported(t *testing.T) {
	spec := ansible.Spec{Name: "imageops.cloud.demo", Options: map[string]ansible.Option{"cloud": {}}}
	doc := "module: demo\nextends_documentation_fragment: imageops.cloud.openstack\noptions: {}\n"
	differences, err := ansibletest.CompareDocumentation(spec, collection(t, doc, nil))
	require.NoError(t, err)
	assert.Equal(t, []string{
		"DOCUMENTATION extends imageops.cloud.openstack, but plugins/doc_fragments/openstack.py does not exist (ansible-doc fails the same way)",
		`option "cloud" is in the spec but not in DOCUMENTATION`,
	}, differences)
}

func TestSecretLookingOptionsMustBeNoLog(t *testing.T) {
	spec := ansible.Spec{Name: "imageops.cloud.demo", Options: map[string]ansible.Option{
		"api_token":     {},
		"password":      {NoLog: true},
		"key_file":      {Type: ansible.TypePath},
		"passive":       {},
		"auth_key":      {Type: ansible.TypePath},
		"key_rotation":  {},
		"public_key":    {},
		"validate_keys": {Type: ansible.TypeBool},
	}}
	var doc = "module: demo\noptions:\n"
	for name, opt := range spec.Options {
		typ := opt.Type
		if typ == "" {
			typ = "str"
		}
		doc += fmt.Sprintf("  %s: {description: x, type: %s}\n", name, typ)
	}
	py := collection(t, doc, nil)
	differences, err := ansibletest.CompareDocumentation(spec, py)
	require.NoError(t, err)
	assert.Equal(t, []string{
		`option "api_token" may hold a secret but is not no_log in the spec (set NoLog, or name it with ansibletest.NotSecret)`,
		`option "key_rotation" may hold a secret but is not no_log in the spec (set NoLog, or name it with ansibletest.NotSecret)`,
	}, differences)

	differences, err = ansibletest.CompareDocumentation(spec, py, ansibletest.NotSecret("key_rotation"))
	require.NoError(t, err)
	assert.Len(t, differences, 1)
}

func TestUnreadableDocumentationIsFatal(t *testing.T) {
	dir := t.TempDir()
	py := filepath.Join(dir, "plugins", "modules", "demo.py")
	_, err := ansibletest.CompareDocumentation(demoSpec, py)
	assert.ErrorContains(t, err, "no such file or directory")

	require.NoError(t, os.MkdirAll(filepath.Dir(py), 0o755))
	require.NoError(t, os.WriteFile(py, []byte("EXAMPLES = '''\n'''\n"), 0o644))
	rec := &recorder{}
	ansibletest.CheckDocumentation(rec, demoSpec, py)
	assert.Contains(t, rec.fatal, `no DOCUMENTATION = r"""...""" string found`)

	require.NoError(t, os.WriteFile(py, []byte("DOCUMENTATION = '''\noptions: [unclosed\n'''\n"), 0o644))
	_, err = ansibletest.CompareDocumentation(demoSpec, py)
	assert.ErrorContains(t, err, "parsing DOCUMENTATION as YAML")
}

// recorder is a testing.TB that records what CheckDocumentation reports.
type recorder struct {
	testing.TB
	errors, logs []string
	fatal        string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
func (r *recorder) Logf(format string, args ...any) {
	r.logs = append(r.logs, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.fatal = fmt.Sprintf(format, args...)
}
