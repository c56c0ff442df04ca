package communityimage

import (
	"context"

	"github.com/imageops/cloud/gomodules/ansible"
	"github.com/imageops/cloud/gomodules/openstack/conn"
)

// ModuleName is the module's fully qualified name.
const ModuleName = "imageops.cloud.community_image"

// ModuleSpec is the community_image argument spec; plugins/modules/community_image.py
// documents it (a test checks that they agree).
var ModuleSpec = ansible.Spec{
	Name:              ModuleName,
	SupportsCheckMode: true,
	Options: map[string]ansible.Option{
		"name":                       {Type: ansible.TypeStr, Required: true},
		"state":                      {Type: ansible.TypeStr, Default: "present", Choices: []any{"present", "absent"}},
		"source_url":                 {Type: ansible.TypeStr, Aliases: []string{"url"}},
		"source_disk_format":         {Type: ansible.TypeStr, Choices: stringsToAny(DiskFormats)},
		"disk_format":                {Type: ansible.TypeStr, Default: "qcow2", Choices: stringsToAny(DiskFormats)},
		"container_format":           {Type: ansible.TypeStr, Default: "bare", Choices: stringsToAny(ContainerFormats)},
		"checksum":                   {Type: ansible.TypeStr},
		"checksum_sha512":            {Type: ansible.TypeStr},
		"visibility":                 {Type: ansible.TypeStr, Default: "community", Choices: stringsToAny(Visibilities)},
		"update_existing_visibility": {Type: ansible.TypeBool, Default: true},
		"properties":                 {Type: ansible.TypeRaw},
		"kubernetes_version":         {Type: ansible.TypeStr},
		"tags":                       {Type: ansible.TypeList, Elements: ansible.TypeStr},
		"min_disk":                   {Type: ansible.TypeInt},
		"min_ram":                    {Type: ansible.TypeInt},
		"protected":                  {Type: ansible.TypeBool},
		"workdir":                    {Type: ansible.TypePath},
		"decompress":                 {Type: ansible.TypeRaw, Default: "auto"},
	},
}.With(conn.Options)

// RunModule is the module's ansible.RunFunc: it connects to the cloud and
// calls Ensure.
func RunModule(ctx context.Context, m *ansible.Module) (any, error) {
	var opts Options
	if err := m.Decode(&opts); err != nil {
		return nil, err
	}
	ensurer, err := connect(ctx, m, opts.Config)
	if err != nil {
		return nil, err
	}
	result, err := ensurer.Ensure(ctx, opts, m.CheckMode)
	if err != nil {
		return nil, err
	}
	for _, warning := range result.Warnings {
		m.Warn("%s", warning)
	}
	return result, nil
}

// connect returns an Ensurer for the cloud the module's connection options
// name; the secrets the connection reads are masked in the module's output.
func connect(ctx context.Context, m *ansible.Module, cfg conn.Config) (*Ensurer, error) {
	clients, err := conn.Connect(ctx, cfg, conn.WithSecretHandler(m.AddSecret))
	if err != nil {
		return nil, err
	}
	glance, err := clients.Image()
	if err != nil {
		return nil, err
	}
	return New(glance), nil
}

func stringsToAny(values []string) []any {
	out := make([]any, len(values))
	for i, value := range values {
		out[i] = value
	}
	return out
}
