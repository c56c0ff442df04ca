package ipatest_test

import (
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/imageops/cloud/gomodules/ansible"
	"github.com/imageops/cloud/gomodules/ansible/ansibletest"
	"github.com/imageops/cloud/gomodules/ipatest"
)

func TestDocumentation(t *testing.T) {
	ansibletest.CheckDocumentation(t, ipatest.ModuleSpec, "../../plugins/modules/ipa_test.py")
}

func TestBadOptionsFailBeforeAnyServiceIsContacted(t *testing.T) {
	t.Setenv("OS_CLOUD", "")
	t.Setenv("OS_CLIENT_CONFIG_FILE", os.DevNull)
	for _, tc := range []struct {
		args map[string]any
		msg  string
	}{
		{map[string]any{"node_type": " "}, `node_type is " "; expected the resource_class of the nodes to test`},
		{map[string]any{"node_type": "gpu", "timeout": 0}, "timeout is 0; expected a number of seconds, 1 or more"},
		{map[string]any{}, "missing required arguments: node_type"},
	} {
		result := ansible.Execute(context.Background(), ipatest.ModuleSpec, tc.args, ipatest.RunModule)
		assert.Equal(t, true, result["failed"], tc.args)
		assert.Contains(t, result["msg"], tc.msg)
	}
}
