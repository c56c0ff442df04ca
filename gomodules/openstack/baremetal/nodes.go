package baremetal

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/nodes"
)

// Node is an Ironic node as the Bare Metal API returns it (GET /v1/nodes/{id}).
type Node = nodes.Node

// The driver_info keys of a node's deploy ramdisk: the Glance image IDs (or
// URLs) of the kernel and initramfs of the Ironic Python Agent it boots to be
// deployed and cleaned.
const (
	DeployKernelKey  = "deploy_kernel"
	DeployRamdiskKey = "deploy_ramdisk"
)

// TargetState is a provision state a node is asked to move to
// (SetProvisionState): active, deleted, provide, manage, ...
type TargetState = nodes.TargetProvisionState

// Provision states and targets used by the modules (Ironic's state machine:
// https://docs.openstack.org/ironic/latest/user/states.html).
const (
	StateAvailable    = string(nodes.Available)
	StateActive       = string(nodes.Active)
	StateDeployWait   = string(nodes.DeployWait)
	StateDeploying    = string(nodes.Deploying)
	StateDeployFail   = string(nodes.DeployFail)
	StateCleanFail    = string(nodes.CleanFail)
	StateManageable   = string(nodes.Manageable)
	StateEnroll       = string(nodes.Enroll)
	TargetActive      = nodes.TargetActive
	TargetDeleted     = nodes.TargetDeleted
	TargetProvide     = nodes.TargetProvide
	TargetManage      = nodes.TargetManage
	nodeListPageLimit = 200
)

// DeployPair returns the node's driver_info deploy_kernel and deploy_ramdisk
// and whether each is set (a key absent differs from a key set to "").
func DeployPair(node Node) (kernel string, hasKernel bool, ramdisk string, hasRamdisk bool) {
	kernel, hasKernel = stringField(node.DriverInfo, DeployKernelKey)
	ramdisk, hasRamdisk = stringField(node.DriverInfo, DeployRamdiskKey)
	return kernel, hasKernel, ramdisk, hasRamdisk
}

func stringField(fields map[string]any, key string) (string, bool) {
	value, ok := fields[key]
	if !ok || value == nil {
		return "", ok && value != nil
	}
	if text, isText := value.(string); isText {
		return text, true
	}
	return fmt.Sprint(value), true
}

// NodeName returns the node's name, or its UUID when it has none: how
// messages name a node.
func NodeName(node Node) string {
	if node.Name != "" {
		return node.Name
	}
	return node.UUID
}

// ListOptions filter Nodes.
type ListOptions struct {
	// ResourceClass keeps the nodes of that resource class; "" keeps all.
	ResourceClass string
}

// Nodes lists the nodes (with every field) that opts keep, sorted by name
// then UUID.
func (c *Client) Nodes(ctx context.Context, opts ListOptions) ([]Node, error) {
	query := nodes.ListOpts{ResourceClass: opts.ResourceClass, Limit: nodeListPageLimit, SortKey: "name"}
	pages, err := nodes.ListDetail(c.sc, query).AllPages(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing Ironic nodes%s: %w", describeList(opts), err)
	}
	list, err := nodes.ExtractNodes(pages)
	if err != nil {
		return nil, fmt.Errorf("reading Ironic's node list%s: %w", describeList(opts), err)
	}
	return list, nil
}

func describeList(opts ListOptions) string {
	if opts.ResourceClass == "" {
		return ""
	}
	return fmt.Sprintf(" of resource class %q", opts.ResourceClass)
}

// Node reads one node by name or UUID.
func (c *Client) Node(ctx context.Context, id string) (Node, error) {
	node, err := nodes.Get(ctx, c.sc, id).Extract()
	if err != nil {
		return Node{}, fmt.Errorf("reading Ironic node %q: %w", id, err)
	}
	return *node, nil
}

// PatchOp is one operation of a JSON patch (RFC 6902) of a node: Op add,
// replace or remove; Path a JSON pointer such as /driver_info/deploy_kernel
// (see FieldPath).
type PatchOp = nodes.UpdateOperation

// Set returns the patch operation that sets the field at path to value
// (JSON patch add: it creates or replaces).
func Set(path string, value any) PatchOp {
	return PatchOp{Op: nodes.AddOp, Path: path, Value: value}
}

// Remove returns the patch operation that removes the field at path.
func Remove(path string) PatchOp { return PatchOp{Op: nodes.RemoveOp, Path: path} }

// FieldPath returns the JSON pointer of key inside the node's dict field
// (driver_info, instance_info, extra, properties). Ironic's patch schema
// accepts only keys of letters, digits, "_" and "-" in a path.
func FieldPath(field, key string) string { return "/" + field + "/" + key }

// Patch applies ops to the node in one request and returns the node as
// Ironic stored it. A node locked by a conductor answers 409: see IsConflict.
func (c *Client) Patch(ctx context.Context, id string, ops ...PatchOp) (Node, error) {
	patch := make(nodes.UpdateOpts, len(ops))
	for i, op := range ops {
		patch[i] = op
	}
	node, err := nodes.Update(ctx, c.sc, id, patch).Extract()
	if err != nil {
		return Node{}, fmt.Errorf("patching Ironic node %q (%s): %w", id, describePatch(ops), err)
	}
	return *node, nil
}

func describePatch(ops []PatchOp) string {
	parts := make([]string, len(ops))
	for i, op := range ops {
		parts[i] = string(op.Op) + " " + op.Path
	}
	return strings.Join(parts, ", ")
}

// SetProvisionState asks Ironic to move the node towards target (active,
// deleted, provide, manage, ...). It returns once Ironic accepted the
// request (202); WaitFor follows the node to its new state.
func (c *Client) SetProvisionState(ctx context.Context, id string, target TargetState) error {
	err := nodes.ChangeProvisionState(ctx, c.sc, id, nodes.ProvisionStateOpts{Target: target}).ExtractErr()
	if err != nil {
		return fmt.Errorf("asking Ironic to move node %q to %q: %w", id, target, err)
	}
	return nil
}

// WaitFor reads the node every poll interval until done says it is done or
// fails, or ctx ends. It returns the node as last read (also when a later
// read failed); when ctx ends first, the error wraps ctx's error and names
// the node's last state.
func (c *Client) WaitFor(ctx context.Context, id string, done func(Node) (bool, error)) (Node, error) {
	var last Node
	err := c.poll(ctx, func() (bool, error) {
		node, err := c.Node(ctx, id)
		if err != nil {
			return false, err
		}
		last = node
		return done(node)
	})
	if err != nil && ctx.Err() != nil && last.UUID != "" {
		return last, fmt.Errorf("waiting for Ironic node %q (last in provision state %q, target %q): %w",
			NodeName(last), last.ProvisionState, last.TargetProvisionState, ctx.Err())
	}
	return last, err
}

// poll calls read every poll interval until it says done or fails, or ctx
// ends (its error wrapped).
func (c *Client) poll(ctx context.Context, read func() (bool, error)) error {
	ticker := time.NewTicker(c.pollInterval)
	defer ticker.Stop()
	for {
		if finished, err := read(); finished || err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for Ironic: %w", ctx.Err())
		case <-ticker.C:
		}
	}
}

// InTransition tells whether the node is between two stable provision
// states (it has a target_provision_state, or is locked by a conductor).
func InTransition(node Node) bool {
	return node.TargetProvisionState != "" || node.Reservation != ""
}
