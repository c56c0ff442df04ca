package convert

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/imageops/cloud/gomodules/ansible"
)

// ModuleName is the image_convert module's fully qualified name.
const ModuleName = "imageops.cloud.image_convert"

// ModuleSpec is the image_convert argument spec; plugins/modules/image_convert.py
// documents it (a test checks that they agree).
var ModuleSpec = ansible.Spec{
	Name:              ModuleName,
	SupportsCheckMode: true,
	Options: map[string]ansible.Option{
		"src":         {Type: ansible.TypePath, Required: true},
		"dest":        {Type: ansible.TypePath, Required: true},
		"dest_format": {Type: ansible.TypeStr, Required: true, Choices: toAny(DestFormats())},
		"src_format":  {Type: ansible.TypeStr, Choices: toAny(SrcFormats())},
		"compress":    {Type: ansible.TypeBool, Default: false},
		"force":       {Type: ansible.TypeBool, Default: false},
	},
}

// ModuleOptions are image_convert's options, as ModuleSpec validated them.
// Each field is the Request field of the same name.
type ModuleOptions struct {
	Src        string `json:"src"`         // absolute path
	Dest       string `json:"dest"`        // absolute path
	DestFormat string `json:"dest_format"` // one of DestFormats
	SrcFormat  string `json:"src_format"`  // one of SrcFormats, "" when not given
	Compress   bool   `json:"compress"`
	Force      bool   `json:"force"`
}

// ModuleResult is image_convert's result; plugins/modules/image_convert.py's
// RETURN documents each key.
// Fields without a comment are Result's fields of the same name.
type ModuleResult struct {
	Changed bool `json:"changed"`
	// Msg is "converted: <reason>", "would convert: <reason>" (check mode)
	// or "dest is up to date"; see Result.Reason.
	Msg         string `json:"msg"`
	Dest        string `json:"dest"`
	Format      string `json:"format"`
	SrcFormat   string `json:"src_format"`
	VirtualSize int64  `json:"virtual_size"` // bytes
	ActualSize  int64  `json:"actual_size"`  // bytes; 0 in check mode when dest would be written
	// Diff is dest before and after, each {path, state, format, virtual_size};
	// state is "absent" or "file", format and virtual_size are left out when
	// unknown. ansible.Execute drops it unless Ansible asked for a diff.
	Diff ModuleDiff `json:"diff"`
}

// ModuleDiff is Ansible's diff: the destination before and after the task.
type ModuleDiff struct {
	Before map[string]any `json:"before"`
	After  map[string]any `json:"after"`
}

// RunModule is the image_convert ansible.RunFunc: Convert, or Plan in check
// mode. src and dest must be absolute paths, because a module's working
// directory is not the playbook's.
func RunModule(ctx context.Context, m *ansible.Module) (any, error) {
	var opts ModuleOptions
	if err := m.Decode(&opts); err != nil {
		return nil, err
	}
	for _, p := range []struct{ name, value string }{{"src", opts.Src}, {"dest", opts.Dest}} {
		if !filepath.IsAbs(p.value) {
			return nil, fmt.Errorf("%s %q is a relative path: expected an absolute path (a module does not run in the playbook's directory)", p.name, p.value)
		}
	}
	req := Request{Src: opts.Src, Dest: opts.Dest, DestFormat: opts.DestFormat, SrcFormat: opts.SrcFormat,
		Compress: opts.Compress, Force: opts.Force}
	do := Convert
	if m.CheckMode {
		do = Plan
	}
	res, err := do(ctx, req)
	if err != nil {
		return nil, err
	}
	return moduleResult(res, m.CheckMode), nil
}

func moduleResult(res Result, checkMode bool) ModuleResult {
	msg := "dest is up to date"
	switch {
	case res.Changed && checkMode:
		msg = "would convert: " + res.Reason
	case res.Changed:
		msg = "converted: " + res.Reason
	}
	after := map[string]any{"path": res.Dest, "state": "file", "format": res.Format, "virtual_size": res.VirtualSize}
	before := map[string]any{"path": res.Dest, "state": "absent"}
	if b := res.Before; b != nil {
		before["state"] = "file"
		if b.Format != "" {
			before["format"], before["virtual_size"] = b.Format, b.VirtualSize
		}
	}
	return ModuleResult{Changed: res.Changed, Msg: msg, Dest: res.Dest, Format: res.Format, SrcFormat: res.SrcFormat,
		VirtualSize: res.VirtualSize, ActualSize: res.ActualSize, Diff: ModuleDiff{Before: before, After: after}}
}

func toAny(list []string) []any {
	out := make([]any, len(list))
	for i, s := range list {
		out[i] = s
	}
	return out
}
