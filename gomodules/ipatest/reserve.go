package ipatest

import (
	"context"
	"time"

	"github.com/imageops/cloud/gomodules/openstack/baremetal"
)

// Reserver reserves the node a test runs on, so that nothing else deploys
// it meanwhile, and releases it afterwards. Chameleon reserves with a Blazar
// lease (a node_type reservation); Blazar is not packaged here, so the
// default is Allocations, Ironic's own reservation. A Blazar Reserver would
// create a lease for exactly that node and delete it on Release.
type Reserver interface {
	// Describe says, for check mode and messages, how node would be reserved.
	Describe(node baremetal.Node) string
	// Reserve reserves node and returns the reservation's ID. An error for
	// which Taken is true means someone else holds the node.
	Reserve(ctx context.Context, node baremetal.Node) (string, error)
	// Release ends the reservation id of node; one already gone is not an error.
	Release(ctx context.Context, node baremetal.Node, id string) error
	// Leftover finds a reservation of this Reserver on node that no record
	// names (a run killed between reserving and recording), older than
	// minAge, so that it can be released.
	Leftover(ctx context.Context, node baremetal.Node, minAge time.Duration) (id string, found bool, err error)
	// Taken tells whether a Reserve error means the node is reserved by
	// someone else (try another node).
	Taken(err error) bool
}

// allocationPrefix names this module's allocations: the prefix and the
// node's UUID, so that two runs never reserve the same node and a later run
// finds the allocation of a killed one.
const allocationPrefix = "imageops-ipa-test-"

// Allocations reserves nodes with Ironic's allocations API: an allocation
// named imageops-ipa-test-<node uuid> of the node's resource_class with the
// node as its only candidate.
type Allocations struct {
	Client *baremetal.Client
}

// Describe names the allocation.
func (a Allocations) Describe(node baremetal.Node) string {
	return "Ironic allocation " + allocationPrefix + node.UUID
}

// Reserve creates the allocation and waits until Ironic made it.
func (a Allocations) Reserve(ctx context.Context, node baremetal.Node) (string, error) {
	allocation, err := a.Client.Allocate(ctx, baremetal.AllocationRequest{ResourceClass: node.ResourceClass,
		Name: allocationPrefix + node.UUID, CandidateNodes: []string{node.UUID}})
	if err != nil {
		return "", err
	}
	return allocation.UUID, nil
}

// Release deletes the allocation.
func (a Allocations) Release(ctx context.Context, _ baremetal.Node, id string) error {
	return a.Client.DeleteAllocation(ctx, id)
}

// Leftover finds the allocation named after the node.
func (a Allocations) Leftover(ctx context.Context, node baremetal.Node, minAge time.Duration) (string, bool, error) {
	allocation, err := a.Client.Allocation(ctx, allocationPrefix+node.UUID)
	if baremetal.IsNotFound(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	if time.Since(allocation.CreatedAt) < minAge {
		return "", false, nil
	}
	return allocation.UUID, true, nil
}

// Taken: another run's allocation has the name (409), or Ironic found the
// node no longer available.
func (a Allocations) Taken(err error) bool {
	return baremetal.IsConflict(err) || isAllocationFailed(err)
}
