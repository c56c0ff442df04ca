package manifest_test

import (
	"testing"

	"github.com/imageops/cloud/gomodules/ansible/ansibletest"
	"github.com/imageops/cloud/gomodules/manifest"
)

func TestSpecMatchesDocumentation(t *testing.T) {
	ansibletest.CheckDocumentation(t, manifest.ModuleSpec, "../../plugins/modules/image_manifest.py")
}
