package mirror

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/imageops/cloud/gomodules/ansible"
	"github.com/imageops/cloud/gomodules/imageref"
	"github.com/imageops/cloud/gomodules/registryaccess"
)

// ModuleName is the mirror_images module's fully qualified name.
const ModuleName = "imageops.cloud.mirror_images"

// ModuleSpec is the mirror_images argument spec; plugins/modules/mirror_images.py
// documents it (a test checks that they agree).
var ModuleSpec = ansible.Spec{
	Name:              ModuleName,
	SupportsCheckMode: true,
	Options: map[string]ansible.Option{
		"images":    {Type: ansible.TypeRaw, Required: true},
		"registry":  {Type: ansible.TypeStr, Required: true},
		"strategy":  {Type: ansible.TypeStr, Default: string(imageref.DefaultStrategy), Choices: strategyChoices()},
		"platforms": {Type: ansible.TypeList, Elements: ansible.TypeStr, Default: []any{}},
		"jobs":      {Type: ansible.TypeInt, Default: int64(DefaultJobs)},
	},
}.With(registryaccess.AccessOptions)

// ModuleOptions are mirror_images' options.
type ModuleOptions struct {
	// Images is a list of references, or a dict of name -> reference.
	Images any `json:"images"`
	// Registry is the target, "host[:port][/path]".
	Registry string `json:"registry"`
	// Strategy is flatten, path or scoped (see imageref).
	Strategy string `json:"strategy"`
	// Platforms is empty (every platform) or a list of "os/arch[/variant]".
	Platforms []string `json:"platforms"`
	// Jobs is how many images are copied at once.
	Jobs int `json:"jobs"`
	registryaccess.Access
}

// ModuleResult is what mirror_images returns: the Report, "changed" and,
// in diff mode, the targets before and after.
type ModuleResult struct {
	Changed bool `json:"changed"`
	Report
	Diff *Diff `json:"diff,omitempty"`
}

// RunModule is the mirror_images ansible.RunFunc. It fails, after every
// image was tried, when any failed: the message lists each failure and the
// result still carries copied_images, skipped_images and failed_images.
func RunModule(ctx context.Context, m *ansible.Module) (any, error) {
	var opts ModuleOptions
	if err := m.Decode(&opts); err != nil {
		return nil, err
	}
	images, err := imageref.ImagesOption(opts.Images)
	if err != nil {
		return nil, err
	}
	registry, err := imageref.ParseRegistry(opts.Registry)
	if err != nil {
		return nil, fmt.Errorf("option registry: %w", err)
	}
	strategy, err := imageref.ParseStrategy(opts.Strategy)
	if err != nil {
		return nil, fmt.Errorf("option strategy: %w", err)
	}
	plan, err := imageref.Plan(images, &registry, strategy)
	if err != nil {
		return nil, err
	}
	access, err := opts.Access.Options()
	if err != nil {
		return nil, err
	}
	jobs := make([]Job, len(plan))
	for i, p := range plan {
		jobs[i] = Job{Source: p.Source, Target: p.Target, Names: []string{p.Name}}
	}
	mirrorOpts := append([]Option{WithAccess(access...)}, WithJobs(opts.Jobs), WithPlatforms(opts.Platforms...), WithDryRun(m.CheckMode))
	report, err := Mirror(ctx, jobs, mirrorOpts...)
	if err != nil {
		return nil, err
	}
	result := ModuleResult{Changed: report.Changed(), Report: *report, Diff: diff(report)}
	if len(report.Failed) > 0 {
		return nil, &FailedError{Result: result, Total: len(report.Copied) + len(report.Skipped) + len(report.Failed)}
	}
	return result, nil
}

// FailedError is returned by RunModule when some images failed; Fields
// gives the module result beside the message.
type FailedError struct {
	Result ModuleResult
	Total  int
}

func (e *FailedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d of %d images could not be mirrored (%d copied, %d already there):",
		len(e.Result.Failed), e.Total, len(e.Result.Copied), len(e.Result.Skipped))
	for _, f := range e.Result.Failed {
		fmt.Fprintf(&b, "\n- %s -> %s [%s]: %s", f.Source, f.Target, f.Reason, f.Msg)
	}
	return b.String()
}

// Fields implements ansible.Fielder.
func (e *FailedError) Fields() map[string]any {
	return map[string]any{"changed": e.Result.Changed, "copied_images": e.Result.Copied,
		"skipped_images": e.Result.Skipped, "failed_images": e.Result.Failed, "stats": e.Result.Stats}
}

// Diff is Ansible's diff: one line "target digest" per copied image, with
// the digest the target had before ("absent" when it had none).
type Diff struct {
	Before string `json:"before"`
	After  string `json:"after"`
}

func diff(r *Report) *Diff {
	if len(r.Copied) == 0 {
		return nil
	}
	var before, after []string
	for _, c := range r.Copied {
		previous := c.previous
		if previous == "" {
			previous = "absent"
		}
		before = append(before, c.Target+" "+previous)
		after = append(after, c.Target+" "+c.Digest)
	}
	sort.Strings(before)
	sort.Strings(after)
	return &Diff{Before: strings.Join(before, "\n") + "\n", After: strings.Join(after, "\n") + "\n"}
}

func strategyChoices() []any {
	out := make([]any, len(imageref.Strategies))
	for i, s := range imageref.Strategies {
		out[i] = string(s)
	}
	return out
}
