package imagebuild

import (
	"context"
	"fmt"
	"os"

	"github.com/imageops/cloud/gomodules/ansible"
	"github.com/imageops/cloud/gomodules/redact"
)

// ModuleName is the image_build module's fully qualified name.
const ModuleName = "imageops.cloud.image_build"

// ModuleSpec is the image_build argument spec; plugins/modules/image_build.py
// documents it (a test checks that they agree). Build variables have no
// default here, so that a var file's value counts unless the task gives one;
// Load applies the Default* constants.
var ModuleSpec = ansible.Spec{
	Name:              ModuleName,
	SupportsCheckMode: true,
	Options: map[string]ansible.Option{
		"distribution":      {Type: ansible.TypeStr},
		"release":           {Type: ansible.TypeStr},
		"mirror":            {Type: ansible.TypeStr},
		"packages":          {Type: ansible.TypeList, Elements: ansible.TypeStr},
		"kernel_cmdline":    {Type: ansible.TypeStr},
		"size":              {Type: ansible.TypeBytes},
		"filesystem":        {Type: ansible.TypeStr, Choices: []any{"ext4"}},
		"formats":           {Type: ansible.TypeList, Elements: ansible.TypeStr},
		"name":              {Type: ansible.TypeStr},
		"output_dir":        {Type: ansible.TypePath},
		"source_date_epoch": {Type: ansible.TypeInt},
		"http_proxy":        {Type: ansible.TypeStr},
		"https_proxy":       {Type: ansible.TypeStr},
		"no_proxy":          {Type: ansible.TypeStr},
		// kubernetes-sigs image-builder's names and meanings (repos.go,
		// roles.go, components.go). Lists also take image-builder's
		// strings: space-separated (extra_debs, extra_repos, roles) or
		// comma-separated (the *_list variables).
		"extra_debs":                              {Type: ansible.TypeList, Elements: ansible.TypeStr},
		"extra_repos":                             {Type: ansible.TypeList, Elements: ansible.TypePath},
		"disable_public_repos":                    {Type: ansible.TypeBool},
		"reenable_public_repos":                   {Type: ansible.TypeBool},
		"remove_extra_repos":                      {Type: ansible.TypeBool},
		"node_custom_roles_pre":                   {Type: ansible.TypeList, Elements: ansible.TypeStr},
		"node_custom_roles_post":                  {Type: ansible.TypeList, Elements: ansible.TypeStr},
		"node_custom_roles_post_sysprep":          {Type: ansible.TypeList, Elements: ansible.TypeStr},
		"custom_role_names":                       {Type: ansible.TypeList, Elements: ansible.TypeStr},
		"load_additional_components":              {Type: ansible.TypeBool},
		"additional_registry_images":              {Type: ansible.TypeBool},
		"additional_registry_images_list":         {Type: ansible.TypeList, Elements: ansible.TypeStr},
		"additional_url_images":                   {Type: ansible.TypeBool},
		"additional_url_images_list":              {Type: ansible.TypeList, Elements: ansible.TypeStr},
		"additional_executables":                  {Type: ansible.TypeBool},
		"additional_executables_list":             {Type: ansible.TypeList, Elements: ansible.TypeStr},
		"additional_executables_destination_path": {Type: ansible.TypePath},
		"var_files":                               {Type: ansible.TypeList, Elements: ansible.TypePath},
		"force":                                   {Type: ansible.TypeBool, Default: false},
	},
}

// ModuleResult is image_build's result; plugins/modules/image_build.py's
// RETURN documents each key.
type ModuleResult struct {
	Changed bool   `json:"changed"`
	Msg     string `json:"msg"`
	// Outputs maps each format to the image's path.
	Outputs map[string]string `json:"outputs"`
	// Record is the build record's path; Build is its content (absent in
	// check mode when the image would be built).
	Record string  `json:"record"`
	Build  *Record `json:"build,omitempty"`
	// Log is the build log's path, when a build ran.
	Log  string `json:"log,omitempty"`
	Diff struct {
		Before map[string]any `json:"before"`
		After  map[string]any `json:"after"`
	} `json:"diff"`
}

// RunModule is the image_build ansible.RunFunc: Load, then Plan in check
// mode or Build.
func RunModule(ctx context.Context, m *ansible.Module) (any, error) {
	var opts struct {
		VarFiles []string `json:"var_files"`
		Force    bool     `json:"force"`
	}
	if err := m.Decode(&opts); err != nil {
		return nil, err
	}
	spec, err := Load(m.Params, opts.VarFiles)
	if err != nil {
		return nil, err
	}
	for _, proxy := range []string{spec.Config.HTTPProxy, spec.Config.HTTPSProxy} {
		for _, secret := range redact.Secrets(proxy) {
			m.AddSecret(secret)
		}
	}
	for _, ignored := range spec.Config.Ignored() {
		m.Warn("%s", ignored)
	}
	plan, err := Plan(spec, opts.Force)
	if err != nil {
		return nil, err
	}
	res := ModuleResult{Changed: plan.Build, Outputs: plan.Outputs, Record: plan.RecordPath}
	res.Diff.Before = map[string]any{"record": plan.RecordPath, "spec_sha256": plan.RecordedSHA256}
	res.Diff.After = map[string]any{"record": plan.RecordPath, "spec_sha256": plan.SpecSHA256}
	switch {
	case !plan.Build:
		res.Msg, res.Build = "image is up to date", plan.Existing
	case m.CheckMode:
		res.Msg = "would build: " + plan.Reason
	default:
		record, err := Build(ctx, spec, WithProgress(os.Stderr))
		if err != nil {
			return nil, err
		}
		res.Msg, res.Build, res.Log = fmt.Sprintf("built: %s", plan.Reason), &record, spec.Config.LogPath()
	}
	return res, nil
}
