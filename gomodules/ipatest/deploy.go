package ipatest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/imageops/cloud/gomodules/openstack/baremetal"
)

// Ironic provision states this package waits through or acts on.
const (
	stateDeleting  = "deleting"
	stateCleaning  = "cleaning"
	stateCleanWait = "clean wait"
	stateError     = "error"
)

// test runs steps 3 to 5 on the reserved node; any failure undoes them.
func (r *run) test(ctx context.Context, node baremetal.Node, reservation string, nodes []baremetal.Node, testImage string) error {
	name := baremetal.NodeName(node)
	rec := newRecord(node, r.tested, reservation, r.self, r.now(), r.opts.Timeout+2*r.teardownTimeout)
	ops := append(r.tested.setOps(), baremetal.Set(baremetal.FieldPath("extra", RecordKey), rec))
	if _, err := r.patch(ctx, node.UUID, ops...); err != nil {
		releaseErr := r.reserver.Release(context.WithoutCancel(ctx), node, reservation)
		return r.fail(StepConfigure, "", errors.Join(err, releaseErr))
	}
	r.change("set node %s driver_info deploy_kernel %s and deploy_ramdisk %s", name, r.tested.Kernel, r.tested.Ramdisk)
	r.result.Tested = true

	if step, lastError, err := r.deployAndUndeploy(ctx, node.UUID, testImage); err != nil {
		undoErr := r.undo(context.WithoutCancel(ctx), node.UUID, rec)
		return r.fail(step, lastError, errors.Join(err, undoErr))
	}
	r.result.Passed = true
	if !r.opts.Push {
		return r.finish(ctx, node, rec)
	}
	return r.push(ctx, node, rec, nodes)
}

// deployAndUndeploy deploys the test image and, once active, undeploys it.
func (r *run) deployAndUndeploy(ctx context.Context, id, testImage string) (step, lastError string, err error) {
	if lastError, err := r.deploy(ctx, id, testImage); err != nil {
		return StepDeploy, lastError, err
	}
	r.change("deployed image %s on node %s: active", testImage, r.result.Node)
	if lastError, err := r.undeploy(ctx, id); err != nil {
		return StepUndeploy, lastError, err
	}
	r.change("undeployed node %s", r.result.Node)
	return "", "", nil
}

// deploy sets the test image and waits until the node is active, fails, or
// goes into maintenance, or the timeout passes.
func (r *run) deploy(ctx context.Context, id, testImage string) (string, error) {
	if _, err := r.patch(ctx, id, baremetal.Set(baremetal.FieldPath("instance_info", "image_source"), testImage)); err != nil {
		return "", err
	}
	if err := r.provision(ctx, id, baremetal.TargetActive); err != nil {
		return "", err
	}
	waitCtx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
	defer cancel()
	node, err := r.ironic.WaitFor(waitCtx, id, func(node baremetal.Node) (bool, error) {
		switch {
		case node.Maintenance:
			return true, fmt.Errorf("node %s went into maintenance during the deploy (%s)", baremetal.NodeName(node), node.MaintenanceReason)
		case node.ProvisionState == baremetal.StateActive && node.TargetProvisionState == "":
			return true, nil
		case node.ProvisionState == baremetal.StateDeployFail || node.ProvisionState == stateError:
			return true, fmt.Errorf("node %s: %s: %s", baremetal.NodeName(node), node.ProvisionState, node.LastError)
		}
		return false, nil
	})
	if err != nil && waitCtx.Err() != nil && ctx.Err() == nil {
		err = fmt.Errorf("node %s did not become active within %s: it is %s%s", baremetal.NodeName(node), r.opts.Timeout,
			describeState(node), noCallback(node))
	}
	lastError := node.LastError
	if lastError == "" && node.Maintenance {
		lastError = node.MaintenanceReason
	}
	return lastError, err
}

// noCallback explains a node still waiting for its agent.
func noCallback(node baremetal.Node) string {
	if node.ProvisionState == baremetal.StateDeployWait {
		return " (no callback from the agent: the deploy ramdisk did not boot or could not reach Ironic)"
	}
	return ""
}

// undeploy brings the node back to available: it aborts a deploy waiting
// for its agent, tears down a deployed or failed one and waits through
// Ironic's transitions (deleting, cleaning).
func (r *run) undeploy(ctx context.Context, id string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, r.teardownTimeout)
	defer cancel()
	asked := false
	node, err := r.ironic.WaitFor(ctx, id, func(node baremetal.Node) (bool, error) {
		switch node.ProvisionState {
		case baremetal.StateAvailable:
			return node.TargetProvisionState == "", nil
		case baremetal.StateCleanFail:
			return true, fmt.Errorf("node %s: cleaning failed: %s", baremetal.NodeName(node), node.LastError)
		case baremetal.StateActive, baremetal.StateDeployFail, baremetal.StateDeployWait, stateError:
			if asked && node.ProvisionState == stateError {
				return true, fmt.Errorf("node %s: tear down failed: %s", baremetal.NodeName(node), node.LastError)
			}
			if node.Reservation != "" || asked {
				return false, nil // the conductor is still on it
			}
			asked = true
			return false, r.provision(ctx, id, baremetal.TargetDeleted)
		}
		return false, nil // deploying, deleting, cleaning, clean wait: wait
	})
	if err != nil {
		return node.LastError, fmt.Errorf("undeploying node %s: %w", id, err)
	}
	return "", nil
}

// provision asks for a provision state, retrying while the node is locked.
func (r *run) provision(ctx context.Context, id string, target baremetal.TargetState) error {
	return r.retryConflicts(ctx, func() error { return r.ironic.SetProvisionState(ctx, id, target) })
}

// patch patches the node, retrying while it is locked.
func (r *run) patch(ctx context.Context, id string, ops ...baremetal.PatchOp) (baremetal.Node, error) {
	var node baremetal.Node
	err := r.retryConflicts(ctx, func() (err error) {
		node, err = r.ironic.Patch(ctx, id, ops...)
		return err
	})
	return node, err
}

// retryConflicts calls try again while it fails with 409, with back-off.
func (r *run) retryConflicts(ctx context.Context, try func() error) error {
	delay := r.retryDelay
	for attempt := 0; ; attempt++ {
		err := try()
		if err == nil || !baremetal.IsConflict(err) || attempt >= r.retries {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(delay):
		}
		delay = min(2*delay, maxConflictDelay)
	}
}

// undo undeploys the node, gives it its recorded pair back and releases it;
// it goes on after a failed step and returns every error.
func (r *run) undo(ctx context.Context, id string, rec record) error {
	_, undeployErr := r.undeploy(ctx, id)
	restoreErr := r.restore(ctx, id, rec)
	node := baremetal.Node{UUID: id}
	releaseErr := r.reserver.Release(ctx, node, rec.Reservation)
	if releaseErr == nil {
		r.change("released the reservation of node %s", r.result.Node)
	}
	return errors.Join(undeployErr, restoreErr, releaseErr)
}

// restore gives the node its recorded pair back and removes the record.
func (r *run) restore(ctx context.Context, id string, rec record) error {
	node, err := r.ironic.Node(ctx, id)
	if err != nil {
		return err
	}
	if _, err := r.patch(ctx, id, rec.restoreOps(node)...); err != nil {
		return fmt.Errorf("restoring the deploy pair of node %s: %w", baremetal.NodeName(node), err)
	}
	r.result.Restored = true
	r.change("restored node %s driver_info %s", baremetal.NodeName(node), describePair(previousPair(rec)))
	return nil
}

func previousPair(rec record) map[string]any {
	out := map[string]any{}
	for key, value := range rec.Previous {
		out[key] = value
	}
	return out
}

// finish, after a pass without push, restores the node and releases it.
func (r *run) finish(ctx context.Context, node baremetal.Node, rec record) error {
	if err := r.restore(ctx, node.UUID, rec); err != nil {
		return r.fail(StepRestore, "", err)
	}
	if err := r.reserver.Release(ctx, node, rec.Reservation); err != nil {
		return r.fail(StepRelease, "", err)
	}
	r.change("released the reservation of node %s", r.result.Node)
	r.result.Msg = fmt.Sprintf("deploy_kernel %s and deploy_ramdisk %s passed on node %s; its previous pair is back",
		r.tested.Kernel, r.tested.Ramdisk, r.result.Node)
	return nil
}

func toFields(value any) (map[string]any, error) {
	data, err := json.Marshal(value)
	if err != nil {
		return nil, err
	}
	var fields map[string]any
	err = json.Unmarshal(data, &fields)
	return fields, err
}
