package ingest

import (
	"github.com/imageops/cloud/gomodules/ansible"
	"github.com/imageops/cloud/gomodules/openstack/glance"
)

// DefaultJobs is how many images EnsureAll processes at once unless told.
const DefaultJobs = 4

// ImageSpec validates the options of one image (Options without the
// connection): community_image's own options, and each image of a batch or
// of a deployer's catalog.
var ImageSpec = ansible.Spec{
	Name:              "imageops.cloud.community_image",
	SupportsCheckMode: true,
	Options: map[string]ansible.Option{
		"name":                       {Type: ansible.TypeStr, Required: true},
		"state":                      {Type: ansible.TypeStr, Default: "present", Choices: []any{"present", "absent"}},
		"source_url":                 {Type: ansible.TypeStr, Aliases: []string{"url"}},
		"source_disk_format":         {Type: ansible.TypeStr, Choices: toAny(glance.DiskFormats)},
		"disk_format":                {Type: ansible.TypeStr, Default: "qcow2", Choices: toAny(glance.DiskFormats)},
		"container_format":           {Type: ansible.TypeStr, Default: "bare", Choices: toAny(glance.ContainerFormats)},
		"checksum":                   {Type: ansible.TypeStr},
		"checksum_sha512":            {Type: ansible.TypeStr},
		"visibility":                 {Type: ansible.TypeStr, Default: "community", Choices: toAny(glance.Visibilities)},
		"update_existing_visibility": {Type: ansible.TypeBool, Default: true},
		"properties":                 {Type: ansible.TypeRaw},
		"kubernetes_version":         {Type: ansible.TypeStr},
		"tags":                       {Type: ansible.TypeList, Elements: ansible.TypeStr},
		"min_disk":                   {Type: ansible.TypeInt},
		"min_ram":                    {Type: ansible.TypeInt},
		"protected":                  {Type: ansible.TypeBool},
		"workdir":                    {Type: ansible.TypePath},
		"decompress":                 {Type: ansible.TypeRaw, Default: "auto"},
		"max_virtual_size":           {Type: ansible.TypeBytes, Default: "64G"},
		"import_method":              {Type: ansible.TypeStr, Default: ImportUpload, Choices: toAny(ImportMethods)},
		"import_timeout":             {Type: ansible.TypeInt, Default: int(glance.DefaultImportTimeout.Seconds())},
		// azimuth-ops' community_images_insecure_skip_glance_verify and
		// community_images_use_existing_trusted_community_images.
		"insecure_skip_glance_verify":           {Type: ansible.TypeBool, Default: false},
		"use_existing_trusted_community_images": {Type: ansible.TypeBool, Default: true},
	},
}

func toAny(values []string) []any {
	out := make([]any, len(values))
	for i, value := range values {
		out[i] = value
	}
	return out
}
