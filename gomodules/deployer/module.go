package deployer

import (
	"context"

	"github.com/imageops/cloud/gomodules/ansible"
	"github.com/imageops/cloud/gomodules/openstack/conn"
	"github.com/imageops/cloud/gomodules/openstack/glance"
)

// ModuleName is the module's fully qualified name.
const ModuleName = "imageops.cloud.image_deployer"

// ModuleSpec is the image_deployer argument spec; plugins/modules/image_deployer.py
// documents it (a test checks that they agree).
var ModuleSpec = ansible.Spec{
	Name:              ModuleName,
	SupportsCheckMode: true,
	Options: map[string]ansible.Option{
		"catalog_url":          {Type: ansible.TypeStr},
		"object_store_url":     {Type: ansible.TypeStr, Aliases: []string{"image_object_store_url"}},
		"image_container":      {Type: ansible.TypeStr, Default: DefaultImageContainer},
		"scope":                {Type: ansible.TypeStr, Default: DefaultScope, Aliases: []string{"image_scope"}},
		"image_prefix":         {Type: ansible.TypeStr},
		"image_metadata_field": {Type: ansible.TypeStr, Default: DefaultMetadataField},
		"catalog_format":       {Type: ansible.TypeStr, Default: FormatAuto, Choices: []any{FormatAuto, FormatAzimuth, FormatChameleon, FormatSpecs}},
		"chameleon_base_url":   {Type: ansible.TypeStr},
		"images":               {Type: ansible.TypeList, Elements: ansible.TypeStr},
		"ipa_images":           {Type: ansible.TypeList, Elements: ansible.TypeStr},
		"visibility":           {Type: ansible.TypeStr, Default: "public", Choices: toAny(glance.Visibilities)},
		"disk_format":          {Type: ansible.TypeStr, Default: "qcow2", Choices: toAny(glance.DiskFormats), Aliases: []string{"image_type"}},
		"properties":           {Type: ansible.TypeRaw},
		"workdir":              {Type: ansible.TypePath},
	},
}.With(conn.Options).With(conn.OwnerOption)

// RunModule is the module's ansible.RunFunc: it checks the options, connects
// to the cloud and calls Deploy.
func RunModule(ctx context.Context, m *ansible.Module) (any, error) {
	var opts Options
	if err := m.Decode(&opts); err != nil {
		return nil, err
	}
	if _, err := opts.normalize(); err != nil {
		return nil, err
	}
	clients, err := conn.Connect(ctx, opts.Config, conn.WithSecretHandler(m.AddSecret))
	if err != nil {
		return nil, err
	}
	client, err := clients.GlanceOf(ctx, opts.Owner, opts.Config.GlanceOptions()...)
	if err != nil {
		return nil, err
	}
	result, err := New(client, nil).Deploy(ctx, opts, m.CheckMode)
	for _, warning := range result.Warnings {
		m.Warn("%s", warning)
	}
	if err != nil {
		return nil, err
	}
	return result, nil
}

func toAny(values []string) []any {
	out := make([]any, len(values))
	for i, value := range values {
		out[i] = value
	}
	return out
}
