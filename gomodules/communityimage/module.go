package communityimage

import (
	"context"

	"github.com/imageops/cloud/gomodules/ansible"
	"github.com/imageops/cloud/gomodules/ingest"
	"github.com/imageops/cloud/gomodules/openstack/conn"
	"github.com/imageops/cloud/gomodules/openstack/glance"
)

// ModuleName is the module's fully qualified name.
const ModuleName = "imageops.cloud.community_image"

// ModuleSpec is the community_image argument spec: one image's options
// (ingest.ImageSpec) and the connection's; plugins/modules/community_image.py
// documents it (a test checks that they agree).
var ModuleSpec = ansible.Spec{Name: ModuleName, SupportsCheckMode: true, Options: ingest.ImageSpec.Options}.With(conn.Options).With(conn.OwnerOption)

// RunModule is the module's ansible.RunFunc: it connects to the cloud and
// calls Ensure.
func RunModule(ctx context.Context, m *ansible.Module) (any, error) {
	var opts ingest.Options
	if err := m.Decode(&opts); err != nil {
		return nil, err
	}
	ensurer, err := connect(ctx, m, opts.Config, opts.Owner)
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
// name, scoped to the images of owner (a project name or ID; "" for the
// credentials' project); the secrets the connection reads are masked in the
// module's output.
func connect(ctx context.Context, m *ansible.Module, cfg conn.Config, owner string) (*ingest.Ensurer, error) {
	ensurer, _, err := connectGlance(ctx, m, cfg, owner)
	return ensurer, err
}

// connectGlance is connect, also returning the Glance client itself.
func connectGlance(ctx context.Context, m *ansible.Module, cfg conn.Config, owner string) (*ingest.Ensurer, *glance.Client, error) {
	clients, err := conn.Connect(ctx, cfg, conn.WithSecretHandler(m.AddSecret))
	if err != nil {
		return nil, nil, err
	}
	client, err := clients.GlanceOf(ctx, owner, cfg.GlanceOptions()...)
	if err != nil {
		return nil, nil, err
	}
	return ingest.New(client), client, nil
}

func stringsToAny(values []string) []any {
	out := make([]any, len(values))
	for i, value := range values {
		out[i] = value
	}
	return out
}
