package baremetal

import (
	"context"
	"errors"
	"fmt"

	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/allocations"
)

// Allocation is an Ironic allocation: a reservation of one node of a
// resource class (POST /v1/allocations), which sets the node's
// allocation_uuid and instance_uuid until it is deleted.
type Allocation = allocations.Allocation

// Allocation states (allocation.state).
const (
	AllocationAllocating = "allocating"
	AllocationActive     = "active"
	AllocationError      = "error"
)

// ErrAllocationFailed is wrapped by Allocate's error when Ironic could not
// find a node (the allocation went to state error); the message carries the
// allocation's last_error.
var ErrAllocationFailed = errors.New("allocation failed")

// AllocationRequest asks for one node.
type AllocationRequest struct {
	// ResourceClass is the node's resource_class (required).
	ResourceClass string
	// Name is the allocation's unique name; "" lets Ironic leave it unnamed.
	Name string
	// CandidateNodes, when set, limits the choice to these nodes (names or UUIDs).
	CandidateNodes []string
	// Extra is stored on the allocation.
	Extra map[string]string
}

// Allocate creates an allocation and waits until Ironic picked a node or
// failed. A failed allocation is deleted again and the error wraps
// ErrAllocationFailed with Ironic's last_error. When ctx ends first, the
// pending allocation is deleted too.
func (c *Client) Allocate(ctx context.Context, req AllocationRequest) (Allocation, error) {
	opts := allocations.CreateOpts{ResourceClass: req.ResourceClass, Name: req.Name,
		CandidateNodes: req.CandidateNodes, Extra: req.Extra}
	created, err := allocations.Create(ctx, c.sc, opts).Extract()
	if err != nil {
		return Allocation{}, fmt.Errorf("asking Ironic for a node of resource class %q: %w", req.ResourceClass, err)
	}
	allocation, err := c.waitForAllocation(ctx, created.UUID)
	if err == nil && allocation.State == AllocationError {
		err = fmt.Errorf("%w: Ironic found no node of resource class %q%s: %s", ErrAllocationFailed,
			req.ResourceClass, describeCandidates(req.CandidateNodes), allocation.LastError)
	}
	if err != nil {
		if cleanup := c.DeleteAllocation(context.WithoutCancel(ctx), created.UUID); cleanup != nil {
			err = errors.Join(err, cleanup)
		}
		return Allocation{}, err
	}
	return allocation, nil
}

func describeCandidates(candidates []string) string {
	if len(candidates) == 0 {
		return ""
	}
	return fmt.Sprintf(" among %v", candidates)
}

func (c *Client) waitForAllocation(ctx context.Context, id string) (Allocation, error) {
	var allocation Allocation
	err := c.poll(ctx, func() (bool, error) {
		var err error
		allocation, err = c.Allocation(ctx, id)
		return err == nil && allocation.State != AllocationAllocating, err
	})
	return allocation, err
}

// Allocation reads one allocation by name or UUID.
func (c *Client) Allocation(ctx context.Context, id string) (Allocation, error) {
	allocation, err := allocations.Get(ctx, c.sc, id).Extract()
	if err != nil {
		return Allocation{}, fmt.Errorf("reading Ironic allocation %q: %w", id, err)
	}
	return *allocation, nil
}

// DeleteAllocation releases an allocation (and so its node's
// allocation_uuid and instance_uuid). An allocation already gone is not an
// error. Ironic refuses (409) while the node is deployed or in a transition.
func (c *Client) DeleteAllocation(ctx context.Context, id string) error {
	err := allocations.Delete(ctx, c.sc, id).ExtractErr()
	if err != nil && !IsNotFound(err) {
		return fmt.Errorf("deleting Ironic allocation %q: %w", id, err)
	}
	return nil
}
