package cleaner

import (
	"context"
	"fmt"
	"time"

	"github.com/imageops/cloud/gomodules/ansible"
	"github.com/imageops/cloud/gomodules/openstack/baremetal"
	"github.com/imageops/cloud/gomodules/openstack/conn"
)

// ModuleName is the module's fully qualified name.
const ModuleName = "imageops.cloud.image_cleaner"

// ModuleSpec is the image_cleaner argument spec; plugins/modules/image_cleaner.py
// documents it (a test checks that they agree).
var ModuleSpec = ansible.Spec{
	Name:              ModuleName,
	SupportsCheckMode: true,
	Options: map[string]ansible.Option{
		"filters":             {Type: ansible.TypeDict},
		"name_pattern":        {Type: ansible.TypeStr},
		"owner":               {Type: ansible.TypeStr},
		"tags":                {Type: ansible.TypeList, Elements: ansible.TypeStr},
		"hide_after_months":   {Type: ansible.TypeInt, Default: DefaultHideAfterMonths},
		"delete_after_months": {Type: ansible.TypeInt, Default: DefaultDeleteAfterMonths},
		"hide_method":         {Type: ansible.TypeStr, Default: HidePrivate, Choices: []any{HidePrivate, HideOSHidden}},
		"keep_latest":         {Type: ansible.TypeInt, Default: 0},
		"group_by":            {Type: ansible.TypeList, Elements: ansible.TypeStr},
		"skip_in_use":         {Type: ansible.TypeBool, Default: true},
		"skip_images":         {Type: ansible.TypeList, Elements: ansible.TypeStr},
		"now":                 {Type: ansible.TypeStr},
		"dry_run":             {Type: ansible.TypeBool, Default: false},
		"supports":            {Type: ansible.TypeRaw},
	},
}.With(conn.Options)

// Validate checks the options without contacting any service; errors name
// the option, the value and what was expected.
func (o Options) Validate() error {
	_, err := o.resolve(time.Now)
	return err
}

// RunModule is the module's ansible.RunFunc: it checks the options, connects
// to the cloud and calls Clean (check mode or dry_run: nothing is written).
func RunModule(ctx context.Context, m *ansible.Module) (any, error) {
	var opts Options
	if err := m.Decode(&opts); err != nil {
		return nil, err
	}
	// Options' zero months mean "the default" for Go callers; a task that says
	// 0 means it, and 0 months is no age at all.
	for _, name := range []string{"hide_after_months", "delete_after_months"} {
		if months, _ := m.Params[name].(int64); months < 1 {
			return nil, fmt.Errorf("%s is %d; expected a whole number of months, 1 or more", name, months)
		}
	}
	if err := opts.Validate(); err != nil {
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
	opts.Owner = client.Owner() // the ID, also when a name was given
	var options []Option
	if clients.HasBaremetal() {
		options = append(options, WithNodeReferences(func(ctx context.Context) (baremetal.ImageReferences, error) {
			ironic, err := clients.Ironic()
			if err != nil {
				return baremetal.ImageReferences{}, err
			}
			return ironic.ImageReferences(ctx)
		}))
	}
	return New(client, clients.Compute, options...).Clean(ctx, opts, m.CheckMode)
}
