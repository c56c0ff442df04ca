package manifest_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageops/cloud/gomodules/manifest"
)

// toNiceYAML renders every document with Ansible's own to_nice_yaml(indent=2),
// the filter Atmosphere's image_manifest role writes its file with, in the
// Python that runs ansible-playbook.
func toNiceYAML(t *testing.T, docs []map[string]map[string]string) []string {
	t.Helper()
	python := ansiblePython(t)
	script := `import json, sys
from ansible.plugins.filter.core import to_nice_yaml
print(json.dumps([to_nice_yaml(d, indent=2) for d in json.load(sys.stdin)]))`
	in, err := json.Marshal(docs)
	require.NoError(t, err)
	cmd := exec.Command(python, "-c", script)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, stderr.String())
	var rendered []string
	require.NoError(t, json.Unmarshal(out, &rendered))
	require.Len(t, rendered, len(docs))
	return rendered
}

// ansiblePython is the interpreter of ansible-playbook's shebang line.
func ansiblePython(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("ansible-playbook")
	if err != nil {
		if os.Getenv("IMAGEOPS_REQUIRE_SERVICES") == "1" {
			t.Fatal("ansible-playbook is not installed (scripts/install-deps.sh installs it)")
		}
		t.Skip("ansible-playbook is not installed; run scripts/install-deps.sh")
	}
	content, err := os.ReadFile(path)
	require.NoError(t, err)
	first, _, _ := strings.Cut(string(content), "\n")
	fields := strings.Fields(strings.TrimPrefix(first, "#!"))
	require.NotEmpty(t, fields, "no interpreter in %s", path)
	if strings.HasSuffix(fields[0], "/env") && len(fields) > 1 {
		return fields[1]
	}
	return fields[0]
}

// Names and references that PyYAML writes plain, single-quoted or
// double-quoted, next to the forms Atmosphere's own list has.
var (
	trickyNames = []string{
		"keystone_api", "barbican_db_sync", "ceph", "a", "yes", "No", "on", "OFF", "null", "~", "1", "007",
		"1.5", "-.5", ".inf", "0x1f", "0b101", "1_000", "12:30", "190:20:30.15", "2024-01-01",
		"2001-12-14t21:59:43.10-05:00", "=", "<<", "-a", "- a", "-", "a: b", "a:b", "a:", "a #b", "a#b",
		"#a", "@a", "'a", "a'b", "\"a", "---a", "...", "?a", "? a", ":a", "a,b", "[a]", "{a}", "a b",
		" lead", "trail ", "tab\there", "ctrl\x01x", "bom\ufeffx", "nbsp\u00a0x", "üñí", "emoji😀",
		"%a", "`a", "|a", ">a", "a|b", "!a", "&a", "*a", "del\x7fx", "zz" + strings.Repeat("k", 126), "", strings.Repeat("ü", 64), "\ufffe", "\u00bfq",
	}
	trickyRefs = []string{
		"quay.io/prometheus/alertmanager:v0.27.0",
		"ghcr.io/vexxhost/barbican:main@sha256:eab0ec0be8f8e5b3534131c494943ed5fc7379dc166db8b7b7c8ac802359330b",
		"ghcr.io/carvel-dev/secretgen-controller@sha256:59ec05ce5847bfd70c8e04f08b5195e918c8f6fbb947ffc91b456494a2958fd5",
		"registry.example.com:5000/openstack/" + strings.Repeat("long-name-", 12) + "x:v1",
		"1.5", "null", "yes", "2024-01-01", "registry:5000/a", "a:b", "nginx", "docker.io/library/haproxy:2.5",
	}
)

func TestRenderIsAnsibleToNiceYAML(t *testing.T) {
	var docs []map[string]map[string]string
	refs := map[string]string{}
	for i, n := range trickyNames {
		refs[n] = trickyRefs[i%len(trickyRefs)]
	}
	docs = append(docs, map[string]map[string]string{"atmosphere_images": refs})
	for _, n := range trickyNames {
		docs = append(docs, map[string]map[string]string{n: {"x": "y"}})
	}
	for _, r := range trickyRefs {
		docs = append(docs, map[string]map[string]string{"container_images": {"image": r}})
	}
	docs = append(docs, map[string]map[string]string{"container_images": {}})

	want := toNiceYAML(t, docs)
	for i, doc := range docs {
		for key, images := range doc {
			got, err := manifest.Render(key, images)
			require.NoError(t, err, key)
			assert.Equal(t, want[i], string(got), "var %q", key)
		}
	}
}

func TestRenderRefusesNamesWrittenAsComplexKeys(t *testing.T) {
	for _, n := range []string{"two\nlines", "line\u2028sep", "cr\rlf", "\u0085nel", strings.Repeat("k", 129), strings.Repeat("ü", 64) + "x"} {
		_, err := manifest.Render("container_images", map[string]string{n: "nginx"})
		require.Error(t, err, "%q", n)
		assert.Contains(t, err.Error(), "must be at most 128 bytes without line breaks")
	}
}
