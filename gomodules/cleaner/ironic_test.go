package cleaner

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageops/cloud/gomodules/internal/testenv"
	"github.com/imageops/cloud/gomodules/openstack/baremetal"
)

// These tests run against the real local Ironic (scripts/ironic.sh) and
// Glance: nodes name real images, which the policy would delete.

func TestImagesThatIronicNodesNameAreNeverHiddenOrDeleted(t *testing.T) {
	ironic := testenv.Ironic(t)
	f := newFixture(t)
	kernel := f.image("ipa.kernel", nil, false)
	ramdisk := f.image("ipa.initramfs", nil, false)
	instance := f.image("instance", nil, false)
	unused := f.image("unused", nil, false)
	node, _ := testenv.EnrollNode(t, ironic, testenv.TestNode{Name: "cleaner", ResourceClass: "test-cleaner",
		DriverInfo: map[string]any{baremetal.DeployKernelKey: kernel.ID, baremetal.DeployRamdiskKey: "glance://" + ramdisk.ID}})
	_, err := ironic.Patch(context.Background(), node.UUID, baremetal.Set(baremetal.FieldPath("instance_info", "image_source"), instance.ID))
	require.NoError(t, err)

	opts := f.options()
	opts.Now = aged(unused.CreatedAt, 19) // every image is old enough to delete
	withIronic := WithNodeReferences(ironic.ImageReferences)
	clean := func(checkMode bool) Report {
		report, err := New(testenv.GlanceClient(t, f.glance), nil, withIronic).Clean(context.Background(), opts, checkMode)
		require.NoError(t, err)
		return report
	}

	checked := clean(true)
	assert.Equal(t, []string{unused.ID}, ids(checked.Deleted), "check mode: only the image no node names would go")
	require.NotNil(t, f.get(unused.ID), "check mode wrote nothing")

	report := clean(false)
	assert.Equal(t, []string{unused.ID}, ids(report.Deleted))
	assert.Nil(t, f.get(unused.ID))
	require.Len(t, report.Skipped, 3)
	skipped := map[string]Entry{}
	for _, entry := range report.Skipped {
		skipped[entry.ID] = entry
		require.NotNil(t, f.get(entry.ID), "%s (%s) was deleted", entry.Name, entry.ID)
	}
	assert.Equal(t, []baremetal.ImageReference{{Node: node.UUID, NodeName: node.Name, Field: "driver_info.deploy_kernel"}}, skipped[kernel.ID].Nodes)
	assert.Equal(t, "named by Ironic node(s): "+node.Name+" (driver_info.deploy_kernel)", skipped[kernel.ID].Reason)
	assert.Equal(t, "driver_info.deploy_ramdisk", skipped[ramdisk.ID].Nodes[0].Field, "glance://<id> is read as Ironic reads it")
	assert.Equal(t, "instance_info.image_source", skipped[instance.ID].Nodes[0].Field)

	// Once the node boots another pair, its old pair goes like any image.
	_, err = ironic.Patch(context.Background(), node.UUID,
		baremetal.Remove(baremetal.FieldPath("driver_info", baremetal.DeployKernelKey)),
		baremetal.Remove(baremetal.FieldPath("instance_info", "image_source")))
	require.NoError(t, err)
	after := clean(false)
	assert.ElementsMatch(t, []string{kernel.ID, instance.ID}, ids(after.Deleted))
	assert.Equal(t, []string{ramdisk.ID}, ids(after.Skipped))
}

// When the nodes cannot be read, nothing is written: an image a node boots
// might otherwise go.
func TestNoNodeListNoChange(t *testing.T) {
	f := newFixture(t)
	image := f.image("old", nil, false)
	opts := f.options()
	opts.Now = aged(image.CreatedAt, 19)
	failing := WithNodeReferences(func(context.Context) (baremetal.ImageReferences, error) {
		return baremetal.ImageReferences{}, errors.New("listing Ironic nodes: Forbidden")
	})
	_, err := New(testenv.GlanceClient(t, f.glance), nil, failing).Clean(context.Background(), opts, false)
	require.ErrorContains(t, err, "finding the images Ironic nodes boot, which are never hidden or deleted: listing Ironic nodes: Forbidden")
	assert.NotNil(t, f.get(image.ID))
}
