package ipatest

import (
	"context"
	"fmt"
	"strings"

	"github.com/imageops/cloud/gomodules/openstack/baremetal"
)

// push, after a pass, sets the pair on every node of the type: the tested
// node first (its record goes in the same patch), then the others, each
// retried while it answers 409. Nodes that still refuse are reported and
// fail the module; none is skipped silently.
func (r *run) push(ctx context.Context, tested baremetal.Node, rec record, nodes []baremetal.Node) error {
	ops := append(r.tested.setOps(), baremetal.Remove(baremetal.FieldPath("extra", RecordKey)))
	if _, err := r.patch(ctx, tested.UUID, ops...); err != nil {
		undoErr := r.undo(context.WithoutCancel(ctx), tested.UUID, rec)
		return r.fail(StepPush, "", fmt.Errorf("setting the pair on the tested node %s: %w (%v)", r.result.Node, err, undoErr))
	}
	if err := r.reserver.Release(ctx, tested, rec.Reservation); err != nil {
		return r.fail(StepRelease, "", err)
	}
	r.change("released the reservation of node %s", r.result.Node)
	r.markPushed(tested, rec.Previous)
	for _, node := range nodes {
		if node.UUID == tested.UUID || r.tested.heldBy(node) {
			continue
		}
		if _, err := r.patch(ctx, node.UUID, r.tested.setOps()...); err != nil {
			r.result.PushFailed = append(r.result.PushFailed, PushFailure{Node: baremetal.NodeName(node), Error: err.Error()})
			continue
		}
		r.markPushed(node, nil)
	}
	if n := len(r.result.PushFailed); n > 0 {
		names := make([]string, n)
		for i, failure := range r.result.PushFailed {
			names[i] = failure.Node
		}
		return r.fail(StepPush, "", fmt.Errorf("the pair passed on node %s, but %d node(s) of type %q could not be updated: %s",
			r.result.Node, n, r.opts.NodeType, strings.Join(names, ", ")))
	}
	r.result.Msg = fmt.Sprintf("deploy_kernel %s and deploy_ramdisk %s passed on node %s and are set on every node of type %q",
		r.tested.Kernel, r.tested.Ramdisk, r.result.Node, r.opts.NodeType)
	return nil
}

// markPushed records a node push changed; previous, when given, is the
// node's pair before the test (the tested node holds the pair already).
func (r *run) markPushed(node baremetal.Node, previous map[string]string) {
	name := baremetal.NodeName(node)
	if previous != nil {
		if previous[baremetal.DeployKernelKey] == r.tested.Kernel && previous[baremetal.DeployRamdiskKey] == r.tested.Ramdisk {
			return
		}
	}
	r.result.Pushed = append(r.result.Pushed, name)
	r.result.Changed = true
	r.result.Diff.After[name] = map[string]any{baremetal.DeployKernelKey: r.tested.Kernel, baremetal.DeployRamdiskKey: r.tested.Ramdisk}
	r.change("set node %s driver_info deploy_kernel %s and deploy_ramdisk %s", name, r.tested.Kernel, r.tested.Ramdisk)
}

// pushPlan says, in check mode, which nodes push would change.
func (r *run) pushPlan(nodes []baremetal.Node) {
	for _, node := range nodes {
		if r.tested.heldBy(node) {
			continue
		}
		name := baremetal.NodeName(node)
		r.result.Changed = true // a lasting change, once the test passes
		r.result.Diff.After[name] = map[string]any{baremetal.DeployKernelKey: r.tested.Kernel, baremetal.DeployRamdiskKey: r.tested.Ramdisk}
		r.change("after a pass, set node %s driver_info deploy_kernel %s and deploy_ramdisk %s", name, r.tested.Kernel, r.tested.Ramdisk)
	}
}
