package cleaner

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/imageops/cloud/gomodules/openstack/baremetal"
	"github.com/imageops/cloud/gomodules/openstack/glance"
)

// defaultJobs is how many hide or delete requests run at once.
const defaultJobs = 4

// Report is what a run did (or, in check mode and dry runs, would do). Each
// list holds {id, name, created_at, reason}, oldest first.
type Report struct {
	// Changed is true when an image was (or would be) hidden or deleted.
	Changed bool `json:"changed"`
	// DryRun is true in check mode and with dry_run: nothing was written.
	DryRun bool `json:"dry_run"`
	// Now is the reference time; HideBefore and DeleteBefore the cut-offs
	// derived from it (RFC 3339, UTC).
	Now          string `json:"now"`
	HideBefore   string `json:"hide_before"`
	DeleteBefore string `json:"delete_before"`
	// Hidden are the images hidden, Deleted those deleted.
	Hidden  []Entry `json:"hidden"`
	Deleted []Entry `json:"deleted"`
	// Kept are managed images left alone by the policy (young, newest of
	// their group, already hidden, protected).
	Kept []Entry `json:"kept"`
	// Skipped are images that would have changed but were excluded: listed in
	// skip_images, or in use by a server. (Not "skipped": Ansible reads a
	// true "skipped" key as the task's own status.)
	Skipped []Entry `json:"skipped_images"`
	// Failed are the images whose update or delete failed, the reason being
	// Glance's error.
	Failed []Entry `json:"failed_images,omitempty"`
	// Diff shows, per image ID, name, visibility, os_hidden and deleted
	// before and after.
	Diff *Diff `json:"diff,omitempty"`
}

// Diff is Ansible's diff: image ID -> {name, visibility, os_hidden, deleted}.
type Diff struct {
	Before map[string]any `json:"before"`
	After  map[string]any `json:"after"`
}

// FailedError fails a run in which some images could not be hidden or
// deleted, after every other image was processed. Fields carries the report.
type FailedError struct {
	Report Report
}

func (e *FailedError) Error() string {
	parts := make([]string, len(e.Report.Failed))
	for i, f := range e.Report.Failed {
		parts[i] = fmt.Sprintf("%q (%s): %s", f.Name, f.ID, f.Reason)
	}
	return fmt.Sprintf("%d image(s) could not be changed (the others were): %s", len(parts), strings.Join(parts, "; "))
}

// Fields returns the report, for the failed module's result.
func (e *FailedError) Fields() map[string]any {
	r := e.Report
	return map[string]any{"changed": r.Changed, "dry_run": r.DryRun, "now": r.Now, "hide_before": r.HideBefore,
		"delete_before": r.DeleteBefore, "hidden": r.Hidden, "deleted": r.Deleted, "kept": r.Kept,
		"skipped_images": r.Skipped, "failed_images": r.Failed}
}

// ComputeFunc returns a Nova client. The cleaner calls it only when it needs
// the server list (skip_in_use and some image would change), so that a cloud
// without a compute endpoint can be cleaned with skip_in_use false.
type ComputeFunc func() (*gophercloud.ServiceClient, error)

// NodeReferencesFunc returns the images that Ironic nodes name (see
// baremetal.Client.ImageReferences). The cleaner calls it only when some
// image would change.
type NodeReferencesFunc func(context.Context) (baremetal.ImageReferences, error)

// Cleaner applies the retirement policy to one Glance.
type Cleaner struct {
	glance   *glance.Client
	compute  ComputeFunc
	nodeRefs NodeReferencesFunc
	clock    func() time.Time
	jobs     int
}

// Option configures a Cleaner.
type Option func(*Cleaner)

// WithNodeReferences makes the cleaner keep every image that an Ironic node
// names, whatever the policy says; refs is called once per run, before
// anything is written, and a run whose references cannot be read writes
// nothing. Default: no Ironic (a cloud without a baremetal service).
func WithNodeReferences(refs NodeReferencesFunc) Option {
	return func(c *Cleaner) { c.nodeRefs = refs }
}

// New returns a Cleaner for the Glance that client reaches, asking compute
// for Nova when images in use must be found.
func New(client *glance.Client, compute ComputeFunc, opts ...Option) *Cleaner {
	c := &Cleaner{glance: client, compute: compute, clock: time.Now, jobs: defaultJobs}
	for _, apply := range opts {
		apply(c)
	}
	return c
}

// Clean lists the managed images, decides each one's fate and, unless
// checkMode or o.DryRun, hides and deletes. Errors in the options, in
// listing images or in listing servers are returned before anything is
// written. An image that fails to change does not stop the others: the
// run then returns the report with a *FailedError.
func (c *Cleaner) Clean(ctx context.Context, o Options, checkMode bool) (Report, error) {
	p, err := o.resolve(c.clock)
	if err != nil {
		return Report{}, err
	}
	if p.owner == "" {
		// Only the images of the client's project: an admin's Glance lists
		// every project's.
		p.owner = c.glance.Owner()
	}
	dryRun := checkMode || p.dryRun
	if p.supportsURL != "" {
		if p.supports, err = loadSupports(ctx, p.supportsURL); err != nil {
			return Report{}, err
		}
	}
	managed, err := listManaged(ctx, c.glance, p)
	if err != nil {
		return Report{}, err
	}
	decisions := p.plan(managed, nil)
	if p.skipInUse && wouldChange(decisions) {
		if c.compute == nil {
			return Report{}, fmt.Errorf("skip_in_use is true but no compute endpoint is configured to list servers; set compute_endpoint_override or use a cloud with Nova, or set skip_in_use: false")
		}
		compute, err := c.compute()
		if err != nil {
			return Report{}, fmt.Errorf("skip_in_use needs Nova's server list: %w", err)
		}
		inUse, err := imagesInUse(ctx, compute)
		if err != nil {
			return Report{}, err
		}
		decisions = p.plan(managed, inUse)
	}
	if c.nodeRefs != nil && wouldChange(decisions) {
		refs, err := c.nodeRefs(ctx)
		if err != nil {
			return Report{}, fmt.Errorf("finding the images Ironic nodes boot, which are never hidden or deleted: %w", err)
		}
		decisions = keepReferenced(decisions, refs)
	}
	report := newReport(p, dryRun)
	var changes []decision
	for _, d := range decisions {
		entry := entryOf(d.image, d.reason)
		entry.Nodes = d.nodes
		switch d.action {
		case keep:
			report.Kept = append(report.Kept, entry)
		case skip:
			report.Skipped = append(report.Skipped, entry)
		default:
			changes = append(changes, d)
		}
	}
	if dryRun {
		for _, d := range changes {
			report.record(p, d, nil)
		}
	} else {
		c.apply(ctx, p, changes, &report)
	}
	report.sort()
	if len(report.Failed) > 0 {
		return report, &FailedError{Report: report}
	}
	report.Failed = nil
	return report, nil
}

func wouldChange(decisions []decision) bool {
	for _, d := range decisions {
		if d.action == hide || d.action == remove {
			return true
		}
	}
	return false
}

func newReport(p policy, dryRun bool) Report {
	return Report{DryRun: dryRun, Now: p.now.UTC().Format(time.RFC3339), HideBefore: p.hideBefore.UTC().Format(time.RFC3339),
		DeleteBefore: p.deleteBefore.UTC().Format(time.RFC3339), Hidden: []Entry{}, Deleted: []Entry{}, Kept: []Entry{},
		Skipped: []Entry{}, Failed: []Entry{}}
}

// apply makes the changes, defaultJobs at a time, recording each outcome.
func (c *Cleaner) apply(ctx context.Context, p policy, changes []decision, report *Report) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	work := make(chan decision)
	for i := 0; i < c.jobs; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for d := range work {
				err := c.change(ctx, p, d)
				mu.Lock()
				report.record(p, d, err)
				mu.Unlock()
			}
		}()
	}
	for _, d := range changes {
		work <- d
	}
	close(work)
	wg.Wait()
}

// change hides or deletes one image. An image already gone counts as deleted.
func (c *Cleaner) change(ctx context.Context, p policy, d decision) error {
	if d.action == remove {
		return c.glance.Delete(ctx, d.image.ID)
	}
	var patch images.Patch = images.UpdateVisibility{Visibility: images.ImageVisibilityPrivate}
	if p.hideMethod == HideOSHidden {
		patch = images.ReplaceImageHidden{NewHidden: true}
	}
	mark := images.UpdateImageProperty{Op: images.AddOp, Name: HiddenProperty, Value: d.image.ID}
	if _, err := c.glance.Update(ctx, d.image.ID, images.UpdateOpts{mark, patch}); err != nil {
		return fmt.Errorf("hiding it (%s): %w", p.hiddenLabel(), err)
	}
	return nil
}

// record files the outcome of one change and its diff.
func (r *Report) record(p policy, d decision, err error) {
	if err != nil {
		r.Failed = append(r.Failed, entryOf(d.image, err.Error()))
		return
	}
	r.Changed = true
	if r.Diff == nil {
		r.Diff = &Diff{Before: map[string]any{}, After: map[string]any{}}
	}
	before := map[string]any{"name": d.image.Name, "visibility": string(d.image.Visibility), "os_hidden": d.image.Hidden, "deleted": false}
	after := map[string]any{"name": d.image.Name, "visibility": string(d.image.Visibility), "os_hidden": d.image.Hidden, "deleted": false}
	switch {
	case d.action == remove:
		after["deleted"] = true
		r.Deleted = append(r.Deleted, entryOf(d.image, d.reason))
	case p.hideMethod == HideOSHidden:
		after["os_hidden"] = true
		r.Hidden = append(r.Hidden, entryOf(d.image, d.reason))
	default:
		after["visibility"] = string(images.ImageVisibilityPrivate)
		r.Hidden = append(r.Hidden, entryOf(d.image, d.reason))
	}
	r.Diff.Before[d.image.ID], r.Diff.After[d.image.ID] = before, after
}

// sort puts every list oldest first (ties by ID), the same order every run.
func (r *Report) sort() {
	for _, list := range [][]Entry{r.Hidden, r.Deleted, r.Kept, r.Skipped, r.Failed} {
		sortEntries(list)
	}
}
