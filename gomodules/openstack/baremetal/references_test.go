package baremetal_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/imageops/cloud/gomodules/openstack/baremetal"
)

func TestImageReferencesAreReadAsIronicReadsThem(t *testing.T) {
	kernel, ramdisk := "0b6f1c2e-7c31-4d0a-9a7e-2f4c1e8d5a90", "6f1b8c3a-2a4e-4f0e-9a55-0c8a2d3d1e6f"
	instance := "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
	refs := baremetal.FindImageReferences([]baremetal.Node{
		{UUID: "n1", Name: "compute-1", DriverInfo: map[string]any{
			"deploy_kernel": kernel, "deploy_ramdisk": "glance://" + ramdisk, "ipmi_address": kernel,
			"kernel_append_params": kernel, "deploy_iso": "https://example.org/ipa.iso"},
			InstanceInfo: map[string]any{"image_source": instance, "ramdisk_kernel_arguments": instance}},
		{UUID: "n2", DriverInfo: map[string]any{"kernel": "0B6F1C2E7C314D0A9A7E2F4C1E8D5A90", "ramdisk": "pxe_deploy_ramdisk",
			"rescue_ramdisk": 7}},
	})
	assert.Equal(t, []baremetal.ImageReference{{Node: "n1", NodeName: "compute-1", Field: "driver_info.deploy_kernel"},
		{Node: "n2", Field: "driver_info.kernel"}}, refs.Of(kernel, "anything"), "an ID in any case or form")
	assert.Equal(t, []baremetal.ImageReference{{Node: "n1", NodeName: "compute-1", Field: "driver_info.deploy_ramdisk"}},
		refs.Of(ramdisk, ""), "glance://<id>")
	assert.Equal(t, []baremetal.ImageReference{{Node: "n1", NodeName: "compute-1", Field: "instance_info.image_source"}},
		refs.Of(instance, ""), "kernel_append_params and ramdisk_kernel_arguments name no image")
	assert.Equal(t, []baremetal.ImageReference{{Node: "n2", Field: "driver_info.ramdisk"}}, refs.Of("other-id", "pxe_deploy_ramdisk"),
		"a value that is no ID and no URL is taken as a name")
	assert.Nil(t, refs.Of("https://example.org/ipa.iso", ""), "URLs of other services are no Glance image")
	assert.Equal(t, 5, refs.Len())
}
