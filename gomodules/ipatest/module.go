package ipatest

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/imageops/cloud/gomodules/ansible"
	"github.com/imageops/cloud/gomodules/openstack/conn"
)

// ModuleName is the module's fully qualified name.
const ModuleName = "imageops.cloud.ipa_test"

// ModuleSpec is the ipa_test argument spec; plugins/modules/ipa_test.py
// documents it (a test checks that they agree).
var ModuleSpec = ansible.Spec{
	Name:              ModuleName,
	SupportsCheckMode: true,
	Options: map[string]ansible.Option{
		"node_type":       {Type: ansible.TypeStr, Required: true},
		"kernel_image":    {Type: ansible.TypeStr},
		"initramfs_image": {Type: ansible.TypeStr},
		"test_image":      {Type: ansible.TypeStr},
		"push":            {Type: ansible.TypeBool, Default: false},
		"timeout":         {Type: ansible.TypeInt, Default: int(DefaultTimeout.Seconds())},
	},
}.With(conn.Options)

// ModuleOptions are the module's options.
type ModuleOptions struct {
	conn.Config
	NodeType       string `json:"node_type"`
	KernelImage    string `json:"kernel_image"`
	InitramfsImage string `json:"initramfs_image"`
	TestImage      string `json:"test_image"`
	Push           bool   `json:"push"`
	// Timeout is in seconds.
	Timeout int `json:"timeout"`
}

// Validate checks the options without contacting any service.
func (o ModuleOptions) Validate() error {
	if strings.TrimSpace(o.NodeType) == "" {
		return fmt.Errorf("node_type is %q; expected the resource_class of the nodes to test", o.NodeType)
	}
	if o.Timeout < 1 {
		return fmt.Errorf("timeout is %d; expected a number of seconds, 1 or more", o.Timeout)
	}
	return nil
}

// RunModule is the module's ansible.RunFunc: it connects to the cloud's
// Glance and Ironic and runs the test (check mode: nothing is written).
func RunModule(ctx context.Context, m *ansible.Module) (any, error) {
	var opts ModuleOptions
	if err := m.Decode(&opts); err != nil {
		return nil, err
	}
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	clients, err := conn.Connect(ctx, opts.Config, conn.WithSecretHandler(m.AddSecret))
	if err != nil {
		return nil, err
	}
	images, err := clients.Glance(opts.Config.GlanceOptions()...)
	if err != nil {
		return nil, err
	}
	ironic, err := clients.Ironic()
	if err != nil {
		return nil, err
	}
	return New(images, ironic).Run(ctx, Options{NodeType: opts.NodeType, KernelImage: opts.KernelImage,
		InitramfsImage: opts.InitramfsImage, TestImage: opts.TestImage, Push: opts.Push,
		Timeout: time.Duration(opts.Timeout) * time.Second, CheckMode: m.CheckMode})
}
