package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/nodes"
	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/ports"
	"github.com/imageops/cloud/gomodules/openstack/baremetal"
	"github.com/imageops/cloud/gomodules/openstack/conn"
)

// Ironic returns the baremetal layer's client for the local Ironic that
// scripts/ironic.sh starts (IMAGEOPS_IRONIC_URL), polling every 100 ms.
func Ironic(t testing.TB) *baremetal.Client {
	t.Helper()
	url := os.Getenv("IMAGEOPS_IRONIC_URL")
	if url == "" {
		if RequireServices() {
			t.Fatal("no local Ironic: IMAGEOPS_IRONIC_URL is not set (run through scripts/test.sh)")
		}
		t.Skip("no local Ironic (run `make test`, or source the env file of scripts/ironic.sh start)")
	}
	clients, err := conn.Connect(context.Background(), conn.Config{AuthType: "none", BaremetalEndpointOverride: url})
	if err != nil {
		t.Fatalf("connecting to the local Ironic: %v", err)
	}
	client, err := clients.Ironic(baremetal.WithPollInterval(100 * time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return client
}

// TestNode describes a node EnrollNode makes.
type TestNode struct {
	// Name prefixes the node's name (a random suffix makes it unique).
	Name string
	// ResourceClass is the node's resource_class.
	ResourceClass string
	// DriverInfo is the node's driver_info (deploy_kernel, deploy_ramdisk, ...).
	DriverInfo map[string]any
}

// EnrollNode creates a node as an operator would for the local Ironic
// (hardware type manual-management, fake power, pxe boot, direct deploy, one
// port with a random locally administered MAC), powers it off and makes it
// available. The node is deleted when the test ends (undeployed first).
// It returns the node and its port's MAC.
func EnrollNode(t testing.TB, client *baremetal.Client, spec TestNode) (baremetal.Node, string) {
	t.Helper()
	ctx := context.Background()
	sc := client.ServiceClient()
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	name := spec.Name + "-" + hex.EncodeToString(suffix)
	created, err := nodes.Create(ctx, sc, nodes.CreateOpts{Name: name, Driver: "manual-management",
		ResourceClass: spec.ResourceClass, BootInterface: "pxe", DeployInterface: "direct",
		DriverInfo: spec.DriverInfo}).Extract()
	if err != nil {
		t.Fatalf("creating Ironic node %s: %v", name, err)
	}
	t.Cleanup(func() { DeleteNode(t, client, created.UUID) })
	mac := fmt.Sprintf("52:54:%02x:%02x:%02x:%02x", suffix[0], suffix[1], suffix[2], suffix[3])
	if _, err := ports.Create(ctx, sc, ports.CreateOpts{NodeUUID: created.UUID, Address: mac}).Extract(); err != nil {
		t.Fatalf("creating the port of node %s: %v", name, err)
	}
	if err := nodes.ChangePowerState(ctx, sc, created.UUID, nodes.PowerStateOpts{Target: nodes.PowerOff}).ExtractErr(); err != nil {
		t.Fatalf("powering node %s off: %v", name, err)
	}
	for _, step := range []struct {
		target nodes.TargetProvisionState
		state  string
	}{{baremetal.TargetManage, baremetal.StateManageable}, {baremetal.TargetProvide, baremetal.StateAvailable}} {
		waitStable(t, client, created.UUID)
		if err := client.SetProvisionState(ctx, created.UUID, step.target); err != nil {
			t.Fatal(err)
		}
		node := waitStable(t, client, created.UUID)
		if node.ProvisionState != step.state {
			t.Fatalf("node %s went to %q (last_error %q), expected %q", name, node.ProvisionState, node.LastError, step.state)
		}
	}
	return waitStable(t, client, created.UUID), mac
}

// waitStable waits until the node has no target state and no conductor lock.
func waitStable(t testing.TB, client *baremetal.Client, id string) baremetal.Node {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	node, err := client.WaitFor(ctx, id, func(n baremetal.Node) (bool, error) {
		return !baremetal.InTransition(n) && (n.PowerState != "" || n.ProvisionState == baremetal.StateEnroll), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return node
}

// DeleteNode undeploys the node when it is deployed or failed, releases its
// allocation and deletes it; errors are reported, not fatal.
func DeleteNode(t testing.TB, client *baremetal.Client, id string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	node, err := client.Node(ctx, id)
	if baremetal.IsNotFound(err) {
		return
	}
	if err == nil && node.ProvisionState != baremetal.StateAvailable && node.ProvisionState != baremetal.StateManageable &&
		node.ProvisionState != baremetal.StateEnroll {
		_ = client.SetProvisionState(ctx, id, baremetal.TargetDeleted)
	}
	_, _ = client.WaitFor(ctx, id, func(n baremetal.Node) (bool, error) { return !baremetal.InTransition(n), nil })
	if node.AllocationUUID != "" {
		_ = client.DeleteAllocation(ctx, node.AllocationUUID)
	}
	if err := nodes.Delete(ctx, client.ServiceClient(), id).ExtractErr(); err != nil && !baremetal.IsNotFound(err) {
		t.Errorf("deleting Ironic node %s: %v", id, err)
	}
}
