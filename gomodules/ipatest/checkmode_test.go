package ipatest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageops/cloud/gomodules/internal/testenv"
	"github.com/imageops/cloud/gomodules/openstack/baremetal"
)

// checkRun is a check-mode run over nodes, as do leaves it before planning.
func checkRun(push bool, nodes []baremetal.Node) *run {
	return &run{Tester: New(nil, nil, WithReserver(noReservation{})),
		opts:   Options{NodeType: "compute_skylake", Push: push, CheckMode: true, Timeout: time.Minute},
		tested: pair{Kernel: "new-k", Ramdisk: "new-r"},
		result: Result{Pushed: []string{}, PushFailed: []PushFailure{}, Recovered: []string{}, Changes: []string{},
			Diff: Diff{Before: pairsOf(nodes), After: pairsOf(nodes)}}}
}

// Ansible prints a diff only for a changed task: check mode reports as
// changed what a real run would change for good.
func TestCheckModeReportsLastingChangesAsChanged(t *testing.T) {
	old := map[string]any{baremetal.DeployKernelKey: "old-k", baremetal.DeployRamdiskKey: "old-r"}
	nodes := []baremetal.Node{
		{UUID: "u1", Name: "sky-01", ProvisionState: "available", PowerState: "power off", DriverInfo: old},
		{UUID: "u2", Name: "sky-02", ProvisionState: "available", PowerState: "power off", DriverInfo: old},
	}

	t.Run("push", func(t *testing.T) {
		r := checkRun(true, nodes)
		r.plan(nodes[0], nodes, "img")
		assert.True(t, r.result.Changed, "push would set the pair on every node")
		assert.NotEqual(t, r.result.Diff.Before, r.result.Diff.After)
	})

	t.Run("test without push", func(t *testing.T) {
		r := checkRun(false, nodes)
		r.plan(nodes[0], nodes, "img")
		assert.False(t, r.result.Changed, "the node gets its pair back")
		assert.Equal(t, r.result.Diff.Before, r.result.Diff.After)
	})

	t.Run("killed run undone", func(t *testing.T) {
		rec := newRecord(nodes[0], pair{Kernel: "new-k", Ramdisk: "new-r"}, "alloc", process{host: "elsewhere"}, time.Now().Add(-time.Hour), time.Minute)
		killed := nodes[0]
		killed.ProvisionState, killed.AllocationUUID = "wait call-back", "alloc"
		killed.DriverInfo = map[string]any{baremetal.DeployKernelKey: "new-k", baremetal.DeployRamdiskKey: "new-r"}
		killed.Extra = map[string]any{RecordKey: rec}
		r := checkRun(false, []baremetal.Node{killed, nodes[1]})
		_, _, err := r.recover(context.Background(), []baremetal.Node{killed, nodes[1]})
		require.NoError(t, err)
		assert.True(t, r.result.Changed, "a real run undoes the killed run: a lasting change")
		assert.Equal(t, old, r.result.Diff.After["sky-01"])
		assert.NotEqual(t, old, r.result.Diff.Before["sky-01"])
	})
}

// A node_type that no node has: the error names the option, the value and
// the resource classes there are (a Chameleon site's nodes may all be the
// generic "baremetal").
func TestUnknownNodeTypeListsTheResourceClassesThereAre(t *testing.T) {
	ironic := testenv.Ironic(t)
	rc := "test-rc-" + time.Now().Format("150405.000")
	testenv.EnrollNode(t, ironic, testenv.TestNode{Name: "rc-listed", ResourceClass: rc})
	r := &run{Tester: New(nil, ironic), opts: Options{NodeType: "compute_skylake_missing"}}

	_, err := r.nodesOfType(context.Background())

	require.Error(t, err)
	assert.Contains(t, err.Error(), `node_type "compute_skylake_missing"`)
	assert.Contains(t, err.Error(), `"`+rc+`" (1)`)
}
