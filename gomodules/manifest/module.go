package manifest

import (
	"context"
	"fmt"

	"github.com/imageops/cloud/gomodules/ansible"
	"github.com/imageops/cloud/gomodules/imageref"
	"github.com/imageops/cloud/gomodules/registryaccess"
)

// ModuleName is the image_manifest module's fully qualified name.
const ModuleName = "imageops.cloud.image_manifest"

// ModuleSpec is the image_manifest argument spec; plugins/modules/image_manifest.py
// documents it (a test checks that they agree).
var ModuleSpec = ansible.Spec{
	Name:              ModuleName,
	SupportsCheckMode: true,
	Options: map[string]ansible.Option{
		"images":      {Type: ansible.TypeDict, Required: true},
		"registry":    {Type: ansible.TypeStr},
		"strategy":    {Type: ansible.TypeStr, Default: string(imageref.DefaultStrategy), Choices: []any{"flatten", "path", "scoped"}},
		"path":        {Type: ansible.TypePath, Aliases: []string{"dest"}},
		"var_name":    {Type: ansible.TypeStr, Default: DefaultVarName},
		"force":       {Type: ansible.TypeBool, Default: false},
		"pin_digests": {Type: ansible.TypeBool, Default: false},
	},
}.With(registryaccess.AccessOptions)

// ModuleOptions are image_manifest's options.
type ModuleOptions struct {
	Images     map[string]any `json:"images"`
	Registry   *string        `json:"registry"`
	Strategy   string         `json:"strategy"`
	Path       string         `json:"path"`
	VarName    string         `json:"var_name"`
	Force      bool           `json:"force"`
	PinDigests bool           `json:"pin_digests"`
	registryaccess.Access
}

// RunModule is the image_manifest ansible.RunFunc.
func RunModule(ctx context.Context, m *ansible.Module) (any, error) {
	var opts ModuleOptions
	if err := m.Decode(&opts); err != nil {
		return nil, err
	}
	images, err := imageref.ImagesOption(opts.Images)
	if err != nil {
		return nil, err
	}
	if opts.VarName == "" {
		return nil, fmt.Errorf("option var_name: must not be empty")
	}
	if opts.Registry != nil && *opts.Registry == "" {
		opts.Registry = nil // "" from a playbook's unset variable means: unchanged
	}
	access, err := opts.Access.Options()
	if err != nil {
		return nil, err
	}
	return Write(ctx, Request{
		Images: images, Registry: opts.Registry, Strategy: opts.Strategy, Path: opts.Path,
		VarName: opts.VarName, Force: opts.Force, PinDigests: opts.PinDigests, CheckMode: m.CheckMode,
	}, access...)
}
