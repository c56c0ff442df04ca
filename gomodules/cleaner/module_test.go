package cleaner_test

import (
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageops/cloud/gomodules/ansible"
	"github.com/imageops/cloud/gomodules/ansible/ansibletest"
	"github.com/imageops/cloud/gomodules/cleaner"
)

func TestDocumentation(t *testing.T) {
	ansibletest.CheckDocumentation(t, cleaner.ModuleSpec, "../../plugins/modules/image_cleaner.py")
}

func TestBadOptionsFailBeforeAnyServiceIsContacted(t *testing.T) {
	// No cloud at all: a connection attempt would fail with another message.
	t.Setenv("OS_CLOUD", "")
	t.Setenv("OS_CLIENT_CONFIG_FILE", os.DevNull)
	result := ansible.Execute(context.Background(), cleaner.ModuleSpec, map[string]any{
		"filters": map[string]any{"build-distro": "ubuntu"}, "hide_after_months": 18, "delete_after_months": 12,
	}, cleaner.RunModule)
	assert.Equal(t, true, result["failed"])
	assert.Equal(t, "delete_after_months is 12; expected more than hide_after_months (18), so that images are hidden before they are deleted", result["msg"])

	result = ansible.Execute(context.Background(), cleaner.ModuleSpec, map[string]any{
		"filters": map[string]any{"build-distro": "ubuntu"}, "hide_method": "archive",
	}, cleaner.RunModule)
	require.Equal(t, true, result["failed"])
	assert.Contains(t, result["msg"], "value of hide_method must be one of: private, os_hidden, got: archive")

	result = ansible.Execute(context.Background(), cleaner.ModuleSpec, map[string]any{
		"filters": map[string]any{"build-distro": "ubuntu"}, "hide_after_months": 0,
	}, cleaner.RunModule)
	require.Equal(t, true, result["failed"], "0 months is not taken for the default 12")
	assert.Equal(t, "hide_after_months is 0; expected a whole number of months, 1 or more", result["msg"])
}
