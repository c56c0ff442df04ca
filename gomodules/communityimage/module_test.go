package communityimage

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/imageops/cloud/gomodules/ansible"
	"github.com/imageops/cloud/gomodules/ansible/ansibletest"
	"github.com/imageops/cloud/gomodules/ingest"
)

func TestDocumentationMatchesTheSpecs(t *testing.T) {
	ansibletest.CheckDocumentation(t, ModuleSpec, "../../plugins/modules/community_image.py")
	ansibletest.CheckDocumentation(t, BatchSpec, "../../plugins/modules/community_image_batch.py")
}

func TestRoleImageSpecIsCommunityImageWithoutConnection(t *testing.T) {
	for name := range ingest.ImageSpec.Options {
		_, inModule := ModuleSpec.Options[name]
		assert.True(t, inModule, "batch spec option %s is a community_image option", name)
	}
	assert.NotContains(t, ingest.ImageSpec.Options, "cloud")
	assert.NotContains(t, ingest.ImageSpec.Options, "auth")
}

// The module fails before any connection when options are wrong, with
// Ansible's own messages.
func TestModuleRejectsBadOptionsBeforeConnecting(t *testing.T) {
	for args, want := range map[string]string{
		`{"name": "x", "source_url": "http://127.0.0.1:9/x", "visibility": "everyone"}`: "value of visibility must be one of: public, community, shared, private, got: everyone",
		`{"source_url": "http://127.0.0.1:9/x"}`:                                        "missing required arguments: name",
		`{"name": "x", "size": 3}`:                                                      "Unsupported parameters for (imageops.cloud.community_image) module: size.",
		`{"name": "x", "state": "present"}`:                                             "source_url is required when state is present",
	} {
		parsed, err := ansible.ParseArgs([]byte(args))
		assert.NoError(t, err)
		parsed["auth_type"], parsed["image_endpoint_override"] = "none", "http://127.0.0.1:9"
		result := ansible.Execute(context.Background(), ModuleSpec, parsed, RunModule)
		assert.Equal(t, true, result["failed"], args)
		assert.Contains(t, result["msg"], want, args)
	}
}

// A batch fails before any connection when a spec is not a dict, naming its key.
func TestBatchRejectsSpecsThatAreNotDicts(t *testing.T) {
	parsed, err := ansible.ParseArgs([]byte(`{"images": {"good": {"name": "g", "source_url": "http://127.0.0.1:9/g"},
		"url": "http://127.0.0.1:9/x.qcow2", "names": ["a", "b"]}, "auth_type": "none", "image_endpoint_override": "http://127.0.0.1:9"}`))
	assert.NoError(t, err)
	result := ansible.Execute(context.Background(), BatchSpec, parsed, RunBatchModule)
	assert.Equal(t, true, result["failed"])
	assert.Equal(t, "images.names is a list; images.url is a str; expected a dict of community_image options "+
		"(name, source_url, ...) for each image", result["msg"])
}
