package mirror_test

import (
	"testing"

	"github.com/imageops/cloud/gomodules/ansible/ansibletest"
	"github.com/imageops/cloud/gomodules/mirror"
)

func TestSpecMatchesDocumentation(t *testing.T) {
	ansibletest.CheckDocumentation(t, mirror.ModuleSpec, "../../plugins/modules/mirror_images.py")
}
