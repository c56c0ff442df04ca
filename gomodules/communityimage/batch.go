package communityimage

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/imageops/cloud/gomodules/ansible"
	"github.com/imageops/cloud/gomodules/ingest"
	"github.com/imageops/cloud/gomodules/openstack/conn"
	"github.com/imageops/cloud/gomodules/openstack/glance"
)

// BatchModuleName is the fully qualified name of the module that ensures a
// whole dict of community images, as the community_images role does.
const BatchModuleName = "imageops.cloud.community_image_batch"

// BatchSpec is the community_image_batch argument spec.
var BatchSpec = ansible.Spec{
	Name:              BatchModuleName,
	SupportsCheckMode: true,
	Options: map[string]ansible.Option{
		"images":                                {Type: ansible.TypeDict, Required: true},
		"properties":                            {Type: ansible.TypeRaw},
		"disk_format":                           {Type: ansible.TypeStr, Choices: stringsToAny(glance.DiskFormats)},
		"visibility":                            {Type: ansible.TypeStr, Choices: stringsToAny(glance.Visibilities)},
		"update_existing_visibility":            {Type: ansible.TypeBool},
		"workdir":                               {Type: ansible.TypePath},
		"jobs":                                  {Type: ansible.TypeInt, Default: ingest.DefaultJobs},
		"max_virtual_size":                      {Type: ansible.TypeBytes},
		"insecure_skip_glance_verify":           {Type: ansible.TypeBool},
		"use_existing_trusted_community_images": {Type: ansible.TypeBool},
		"share_projects":                        {Type: ansible.TypeList, Elements: ansible.TypeDict},
	},
}.With(conn.Options).With(conn.OwnerOption)

// specsAreDicts fails the specs that are not dicts (a URL where a spec
// belongs), naming their keys, where decoding would fail with Go's types.
func specsAreDicts(specs any) error {
	byKey, _ := specs.(map[string]any)
	var problems []string
	for _, key := range slices.Sorted(maps.Keys(byKey)) {
		if _, ok := byKey[key].(map[string]any); !ok {
			problems = append(problems, fmt.Sprintf("images.%s is a %s", key, yamlType(byKey[key])))
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%s; expected a dict of community_image options (name, source_url, ...) for each image", strings.Join(problems, "; "))
}

// yamlType names a decoded option value's type as YAML users know it.
func yamlType(value any) string {
	switch value.(type) {
	case nil:
		return "null"
	case string:
		return "str"
	case bool:
		return "bool"
	case []any:
		return "list"
	case map[string]any:
		return "dict"
	}
	return "number"
}

// RunBatchModule is community_image_batch's ansible.RunFunc.
func RunBatchModule(ctx context.Context, m *ansible.Module) (any, error) {
	if err := specsAreDicts(m.Params["images"]); err != nil {
		return nil, err
	}
	var opts ingest.BatchOptions
	if err := m.Decode(&opts); err != nil {
		return nil, err
	}
	var share shareOptions
	if err := m.Decode(&share); err != nil {
		return nil, err
	}
	if err := share.check(); err != nil {
		return nil, err
	}
	specs, err := opts.Specs()
	if err != nil {
		return nil, err
	}
	if len(specs) == 0 {
		return ingest.BatchResult{ImageIDs: map[string]string{}, Images: map[string]ingest.Result{}}, nil
	}
	ensurer, client, err := connectGlance(ctx, m, opts.Config, opts.Owner)
	if err != nil {
		return nil, err
	}
	result, err := ensurer.EnsureAll(ctx, specs, opts.Jobs, m.CheckMode)
	for _, key := range slices.Sorted(maps.Keys(result.Images)) {
		for _, warning := range result.Images[key].Warnings {
			m.Warn("%s: %s", key, warning)
		}
	}
	if err != nil {
		return nil, err
	}
	s := &sharer{m: m, owner: client, base: opts.Config, accepters: map[string]*glance.Client{}, checkMode: m.CheckMode}
	return s.shareAll(ctx, share.ShareProjects, result)
}
