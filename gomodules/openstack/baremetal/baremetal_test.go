package baremetal_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/imageops/cloud/gomodules/internal/testenv"
	"github.com/imageops/cloud/gomodules/openstack/baremetal"
)

func TestNodesOfAResourceClassAndTheirDeployPair(t *testing.T) {
	client := testenv.Ironic(t)
	ctx := context.Background()
	rc := "test-pair-" + time.Now().Format("150405.000")
	withPair, _ := testenv.EnrollNode(t, client, testenv.TestNode{Name: "pair", ResourceClass: rc,
		DriverInfo: map[string]any{"deploy_kernel": "k-1", "deploy_ramdisk": "r-1"}})
	bare, _ := testenv.EnrollNode(t, client, testenv.TestNode{Name: "bare", ResourceClass: rc})
	testenv.EnrollNode(t, client, testenv.TestNode{Name: "other", ResourceClass: rc + "-other"})

	list, err := client.Nodes(ctx, baremetal.ListOptions{ResourceClass: rc})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].UUID != bare.UUID || list[1].UUID != withPair.UUID {
		t.Fatalf("nodes of %s = %v; want bare then pair (sorted by name)", rc, names(list))
	}
	if k, hasK, r, hasR := baremetal.DeployPair(list[1]); k != "k-1" || r != "r-1" || !hasK || !hasR {
		t.Errorf("DeployPair(pair) = %q %v %q %v", k, hasK, r, hasR)
	}
	if _, hasK, _, hasR := baremetal.DeployPair(list[0]); hasK || hasR {
		t.Errorf("DeployPair(bare) reports keys that are absent")
	}
}

func TestPatchSetsAndRemovesFields(t *testing.T) {
	client := testenv.Ironic(t)
	ctx := context.Background()
	node, _ := testenv.EnrollNode(t, client, testenv.TestNode{Name: "patch", ResourceClass: "test-patch",
		DriverInfo: map[string]any{"deploy_kernel": "old-k"}})
	key := "imageops_test-key"
	updated, err := client.Patch(ctx, node.UUID,
		baremetal.Set(baremetal.FieldPath("driver_info", baremetal.DeployRamdiskKey), "new-r"),
		baremetal.Remove(baremetal.FieldPath("driver_info", baremetal.DeployKernelKey)),
		baremetal.Set(baremetal.FieldPath("extra", key), map[string]any{"x": "y"}))
	if err != nil {
		t.Fatal(err)
	}
	if k, hasK, r, _ := baremetal.DeployPair(updated); hasK || r != "new-r" {
		t.Errorf("after patch: kernel %q (%v), ramdisk %q", k, hasK, r)
	}
	if got, ok := updated.Extra[key].(map[string]any); !ok || got["x"] != "y" {
		t.Errorf("extra[%q] = %v", key, updated.Extra[key])
	}
	_, err = client.Patch(ctx, node.UUID, baremetal.Remove(baremetal.FieldPath("driver_info", "absent")))
	if err == nil || baremetal.IsConflict(err) || !strings.Contains(err.Error(), "/driver_info/absent") {
		t.Fatalf("removing an absent key: %v; want a 400 error naming the path", err)
	}
}

func TestAllocateReservesANodeAndDeleteReleasesIt(t *testing.T) {
	client := testenv.Ironic(t)
	ctx := context.Background()
	rc := "test-alloc-" + time.Now().Format("150405.000")
	node, _ := testenv.EnrollNode(t, client, testenv.TestNode{Name: "alloc", ResourceClass: rc})
	name := "test-allocation-" + node.UUID[:8]
	allocation, err := client.Allocate(ctx, baremetal.AllocationRequest{ResourceClass: rc, Name: name, CandidateNodes: []string{node.Name}})
	if err != nil {
		t.Fatal(err)
	}
	if allocation.State != baremetal.AllocationActive || allocation.NodeUUID != node.UUID {
		t.Fatalf("allocation = %+v", allocation)
	}
	reserved, err := client.Node(ctx, node.UUID)
	if err != nil {
		t.Fatal(err)
	}
	if reserved.AllocationUUID != allocation.UUID || reserved.InstanceUUID == "" {
		t.Errorf("node allocation_uuid %q instance_uuid %q; want %q and set", reserved.AllocationUUID, reserved.InstanceUUID, allocation.UUID)
	}

	// A second allocation of the same name conflicts; with no free node it fails.
	_, err = client.Allocate(ctx, baremetal.AllocationRequest{ResourceClass: rc, Name: name})
	if !baremetal.IsConflict(err) {
		t.Errorf("a second allocation named %q: %v; want a 409", name, err)
	}
	_, err = client.Allocate(ctx, baremetal.AllocationRequest{ResourceClass: rc, Name: name + "-2"})
	if !errors.Is(err, baremetal.ErrAllocationFailed) {
		t.Fatalf("allocating with no free node: %v; want ErrAllocationFailed", err)
	}
	if _, err := client.Allocation(ctx, name+"-2"); !baremetal.IsNotFound(err) {
		t.Errorf("the failed allocation is still there: %v", err)
	}

	if err := client.DeleteAllocation(ctx, allocation.UUID); err != nil {
		t.Fatal(err)
	}
	if err := client.DeleteAllocation(ctx, allocation.UUID); err != nil {
		t.Errorf("deleting it again: %v; want nil", err)
	}
	released, err := client.Node(ctx, node.UUID)
	if err != nil {
		t.Fatal(err)
	}
	if released.AllocationUUID != "" || released.InstanceUUID != "" {
		t.Errorf("after delete: allocation_uuid %q instance_uuid %q", released.AllocationUUID, released.InstanceUUID)
	}
}

func names(list []baremetal.Node) []string {
	out := make([]string, len(list))
	for i, node := range list {
		out[i] = node.Name
	}
	return out
}
