package imageref

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoNetworkOrModuleDependencies keeps imageref a pure layer: parsing and
// rewriting must not pull in registry clients or the Ansible runtime.
func TestNoNetworkOrModuleDependencies(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH")
	}
	out, err := exec.Command(goBin, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, banned := range []string{
			"github.com/google/go-containerregistry/pkg/v1/remote",
			"github.com/imageops/cloud/gomodules/ansible",
			"github.com/imageops/cloud/gomodules/mirror",
			"github.com/imageops/cloud/gomodules/registryaccess",
			"net/http",
		} {
			if dep == banned {
				t.Errorf("imageref depends on %s", dep)
			}
		}
	}
}
