package depcheck

import (
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const project = "github.com/imageops/cloud/gomodules/"

// imports returns the project packages that pkg depends on, directly or not.
func imports(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", project+pkg).Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	var deps []string
	for _, line := range strings.Fields(string(out)) {
		if strings.HasPrefix(line, project) && line != project+pkg {
			deps = append(deps, strings.TrimPrefix(line, project))
		}
	}
	return deps
}

func TestBuildingBlocksStandAlone(t *testing.T) {
	for pkg, allowed := range map[string][]string{
		"redact":   {},
		"ansible":  {"redact"},
		"fetch":    {"redact"},
		"imageref": {},
		"convert":  {"ansible", "redact", "scratch"}, // ansible for its module spec, in module.go
		"scratch":  {},
		// The one Glance layer knows nothing of modules, connections or Ansible.
		"openstack/glance": {},
		// The Ironic layer likewise.
		"openstack/baremetal": {},
		"openstack/conn":      {"ansible", "openstack/baremetal", "openstack/glance", "redact"},
		// The download+convert+upload engine under community_image and image_deployer.
		"ingest": {"ansible", "buildrecord", "convert", "fetch", "openstack/baremetal", "openstack/conn", "openstack/glance", "redact", "scratch"},
		// image_build's record, read by ingest for build_* properties.
		"buildrecord": {"redact"},
		// How registries are reached, under mirror_images and image_manifest.
		"registryaccess": {"ansible", "imageref", "redact"},
	} {
		for _, dep := range imports(t, pkg) {
			if !contains(allowed, dep) {
				t.Errorf("%s depends on %s; it may depend only on %v", pkg, dep, allowed)
			}
		}
	}
}

// TestMainsOnlyWire checks the multi-call binary's package: main.go imports
// only the protocol, and each <module>.go imports the protocol and the one
// package that holds its module's logic, nothing else of the project.
func TestMainsOnlyWire(t *testing.T) {
	files, err := filepath.Glob("../../cmd/imageops/*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no gomodules/cmd/imageops/*.go: %v", err)
	}
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		parsed, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatalf("parsing %s: %v", file, err)
		}
		var logic []string
		for _, spec := range parsed.Imports {
			path := strings.Trim(spec.Path.Value, `"`)
			if strings.HasPrefix(path, project) && path != project+"ansible" {
				logic = append(logic, strings.TrimPrefix(path, project))
			}
		}
		allowed := 1
		if filepath.Base(file) == "main.go" {
			allowed = 0
		}
		if len(logic) > allowed {
			t.Errorf("%s imports %v; main.go imports only ansible, a <module>.go ansible and one logic package", file, logic)
		}
	}
}

// TestOneBinary checks that modules are not built as binaries of their own:
// gomodules/cmd holds only the multi-call binary (see CONTRIBUTING.md,
// "Adding a module").
func TestOneBinary(t *testing.T) {
	entries, err := os.ReadDir("../../cmd")
	if err != nil {
		t.Fatal(err)
	}
	for _, entry := range entries {
		if entry.Name() != "imageops" {
			t.Errorf("gomodules/cmd/%s: a module is one file, gomodules/cmd/imageops/<module>.go, "+
				"registered in the multi-call binary, not a binary of its own", entry.Name())
		}
	}
}

// moduleBlocks are building blocks that also hold the adapter of a module
// of their own: other packages import them for the building block, so they
// may be imported, but they import no module package either.
var moduleBlocks = map[string]bool{
	"convert": true, // image_convert's adapter is convert/module.go; ingest converts with convert
}

// modulePackages returns the packages that gomodules/cmd/imageops wires as
// modules: the logic package each <module>.go imports.
func modulePackages(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../../cmd/imageops/*.go")
	if err != nil {
		t.Fatal(err)
	}
	var modules []string
	for _, file := range files {
		if filepath.Base(file) == "main.go" || strings.HasSuffix(file, "_test.go") {
			continue
		}
		parsed, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatalf("parsing %s: %v", file, err)
		}
		for _, spec := range parsed.Imports {
			path := strings.TrimPrefix(strings.Trim(spec.Path.Value, `"`), project)
			if path != spec.Path.Value && path != "ansible" && !contains(modules, path) {
				modules = append(modules, path)
			}
		}
	}
	return modules
}

// TestModulesDoNotImportEachOther: a module package shares helpers with
// another only through building blocks (openstack/glance, ingest,
// registryaccess, ...), never by importing the other's package, directly or
// not.
func TestModulesDoNotImportEachOther(t *testing.T) {
	modules := modulePackages(t)
	for _, want := range []string{"manifest", "mirror", "communityimage", "ipatest"} {
		if !contains(modules, want) {
			t.Fatalf("gomodules/cmd/imageops wires %v, not %s: the check would miss modules", modules, want)
		}
	}
	for _, pkg := range modules {
		for _, dep := range imports(t, pkg) {
			if contains(modules, dep) && !moduleBlocks[dep] {
				t.Errorf("%s imports the module package %s; move what they share into a building block", pkg, dep)
			}
		}
	}
}

// The packages behind Glance modules go through the one Glance layer.
func TestGlanceModulesUseTheGlanceLayer(t *testing.T) {
	for _, pkg := range []string{"communityimage", "cleaner", "deployer", "ipatest"} {
		if !contains(imports(t, pkg), "openstack/glance") {
			t.Errorf("%s does not go through the Glance layer openstack/glance", pkg)
		}
	}
}

func contains(list []string, item string) bool {
	for _, x := range list {
		if x == item {
			return true
		}
	}
	return false
}
