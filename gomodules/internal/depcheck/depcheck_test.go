package depcheck

import (
	"os/exec"
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
		"ansible":  {},
		"fetch":    {},
		"imageref": {},
		"convert":  {"ansible"}, // for its module spec, in module.go
	} {
		for _, dep := range imports(t, pkg) {
			if !contains(allowed, dep) {
				t.Errorf("%s depends on %s; it may depend only on %v", pkg, dep, allowed)
			}
		}
	}
}

func TestMainsOnlyWire(t *testing.T) {
	for module, logic := range map[string]string{
		"community_image": "communityimage", "community_image_batch": "communityimage",
		"image_convert": "convert", "image_manifest": "manifest", "mirror_images": "mirror",
		"image_cleaner": "cleaner", "image_deployer": "deployer",
	} {
		direct, err := exec.Command("go", "list", "-f", `{{join .Imports " "}}`, project+"cmd/"+module).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", module, err)
		}
		for _, dep := range strings.Fields(string(direct)) {
			if strings.HasPrefix(dep, project) && dep != project+"ansible" && dep != project+logic {
				t.Errorf("cmd/%s imports %s; a main imports only ansible and %s", module, dep, logic)
			}
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
