package deployer_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/imageops/cloud/gomodules/ansible"
	"github.com/imageops/cloud/gomodules/ansible/ansibletest"
	"github.com/imageops/cloud/gomodules/deployer"
)

func TestDocumentation(t *testing.T) {
	ansibletest.CheckDocumentation(t, deployer.ModuleSpec, "../../plugins/modules/image_deployer.py")
}

func TestMissingCatalogURLIsRefused(t *testing.T) {
	result := ansible.Execute(context.Background(), deployer.ModuleSpec, map[string]any{"catalog_url": "  "}, deployer.RunModule)
	assert.Equal(t, true, result["failed"])
	assert.Equal(t, "catalog_url is empty; expected the http, https or file URL of a catalog, or object_store_url (Chameleon's image store)", result["msg"])
}
