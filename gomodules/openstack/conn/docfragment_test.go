package conn

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/imageops/cloud/gomodules/ansible"
	"gopkg.in/yaml.v2"
)

const docFragmentPath = "../../../plugins/doc_fragments/openstack.py"

// docOption is an option as Ansible's DOCUMENTATION describes it.
type docOption struct {
	Description []string `yaml:"description"`
	Type        string   `yaml:"type"`
	Required    bool     `yaml:"required"`
	Default     any      `yaml:"default"`
	Choices     []any    `yaml:"choices"`
	Aliases     []string `yaml:"aliases"`
	Elements    string   `yaml:"elements"`
}

type docFragment struct {
	Options      map[string]docOption `yaml:"options"`
	Requirements []string             `yaml:"requirements"`
	Notes        []string             `yaml:"notes"`
}

var documentationPattern = regexp.MustCompile(`(?s)DOCUMENTATION = r?("""|''')(.*?)("""|''')`)

func readDocFragment(t *testing.T) docFragment {
	t.Helper()
	source, err := os.ReadFile(docFragmentPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(source, []byte("class ModuleDocFragment(object):")) {
		t.Fatalf("%s has no ModuleDocFragment class", docFragmentPath)
	}
	match := documentationPattern.FindSubmatch(source)
	if match == nil {
		t.Fatalf("%s has no DOCUMENTATION string", docFragmentPath)
	}
	var doc docFragment
	if err := yaml.UnmarshalStrict(match[2], &doc); err != nil {
		t.Fatalf("DOCUMENTATION of %s: %v", docFragmentPath, err)
	}
	return doc
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for key := range m {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	return keys
}

// TestDocFragmentMatchesOptions: the doc fragment documents exactly
// Options, with the same types, defaults, choices, aliases and required flags.
func TestDocFragmentMatchesOptions(t *testing.T) {
	doc := readDocFragment(t)
	if got, want := sortedKeys(doc.Options), sortedKeys(Options); !reflect.DeepEqual(got, want) {
		t.Fatalf("documented options %v, Options %v", got, want)
	}
	for name, opt := range Options {
		documented := doc.Options[name]
		wantType := string(opt.Type)
		if wantType == "" {
			wantType = string(ansible.TypeStr)
		}
		if documented.Type != wantType {
			t.Errorf("%s: documented type %q, Options %q", name, documented.Type, wantType)
		}
		if documented.Elements != string(opt.Elements) {
			t.Errorf("%s: documented elements %q, Options %q", name, documented.Elements, opt.Elements)
		}
		if documented.Required != opt.Required {
			t.Errorf("%s: documented required %v, Options %v", name, documented.Required, opt.Required)
		}
		if !reflect.DeepEqual(documented.Default, opt.Default) {
			t.Errorf("%s: documented default %#v, Options %#v", name, documented.Default, opt.Default)
		}
		if !reflect.DeepEqual(documented.Choices, opt.Choices) {
			t.Errorf("%s: documented choices %v, Options %v", name, documented.Choices, opt.Choices)
		}
		gotAliases, wantAliases := append([]string(nil), documented.Aliases...), append([]string(nil), opt.Aliases...)
		sort.Strings(gotAliases)
		sort.Strings(wantAliases)
		if !reflect.DeepEqual(gotAliases, wantAliases) {
			t.Errorf("%s: documented aliases %v, Options %v", name, gotAliases, wantAliases)
		}
		description := strings.Join(documented.Description, " ")
		if strings.TrimSpace(description) == "" {
			t.Errorf("%s has no description", name)
		}
		// Ansible's doc schema has no no_log key: the description says it.
		if says := strings.Contains(description, "no_log"); says != opt.NoLog {
			t.Errorf("%s: NoLog is %v but its description mentioning no_log is %v", name, opt.NoLog, says)
		}
	}
	if len(doc.Requirements) == 0 {
		t.Error("the fragment has no requirements entry")
	}
	notes := strings.Join(doc.Notes, " ")
	for _, want := range []string{"OS_CLIENT_CONFIG_FILE", "OS_CLOUD", "$XDG_CONFIG_HOME/openstack/clouds.yaml",
		"/etc/openstack/clouds.yaml", "secure.yaml"} {
		if !strings.Contains(notes, want) {
			t.Errorf("the notes do not mention %s", want)
		}
	}
}

// TestDocFragmentLoadsInAnsibleDoc has ansible-doc render a throwaway module
// that extends imageops.cloud.openstack, with this checkout as the
// collection: the fragment must load and bring its options.
func TestDocFragmentLoadsInAnsibleDoc(t *testing.T) {
	ansibleDoc, err := exec.LookPath("ansible-doc")
	if err != nil {
		if os.Getenv("IMAGEOPS_REQUIRE_SERVICES") == "1" {
			t.Fatal("ansible-doc is not installed")
		}
		t.Skip("ansible-doc is not installed")
	}
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	collections := filepath.Join(dir, "collections")
	namespace := filepath.Join(collections, "ansible_collections", "imageops")
	if err := os.MkdirAll(namespace, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(root, filepath.Join(namespace, "cloud")); err != nil {
		t.Fatal(err)
	}
	library := filepath.Join(dir, "library")
	writeFile(t, filepath.Join(library, "fragment_probe.py"), `DOCUMENTATION = r"""
module: fragment_probe
short_description: Throwaway module of a test
description: [Loads the imageops.cloud.openstack doc fragment.]
author: imageops.cloud contributors
options:
  name:
    description: [A module's own option.]
    type: str
extends_documentation_fragment:
  - imageops.cloud.openstack
"""
`)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, ansibleDoc, "--json", "-M", library, "fragment_probe")
	cmd.Env = append(os.Environ(), "ANSIBLE_COLLECTIONS_PATH="+collections, "ANSIBLE_LOCAL_TEMP="+filepath.Join(dir, "tmp"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ansible-doc: %v\n%s", err, stderr.String())
	}
	var rendered map[string]struct {
		Doc struct {
			Options      map[string]docOption `json:"options"`
			Requirements []string             `json:"requirements"`
			Notes        []string             `json:"notes"`
		} `json:"doc"`
	}
	if err := json.Unmarshal(out, &rendered); err != nil {
		t.Fatalf("decoding ansible-doc's JSON: %v\n%s", err, out)
	}
	doc := rendered["fragment_probe"].Doc
	want := append(sortedKeys(Options), "name")
	sort.Strings(want)
	if got := sortedKeys(doc.Options); !reflect.DeepEqual(got, want) {
		t.Fatalf("ansible-doc shows options %v, want %v\n%s", got, want, stderr.String())
	}
	if doc.Options["interface"].Type != "str" || len(doc.Options["interface"].Choices) != 3 ||
		len(doc.Requirements) == 0 || len(doc.Notes) == 0 {
		t.Fatalf("ansible-doc rendered %+v", doc)
	}
}
