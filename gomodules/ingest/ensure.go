package ingest

import (
	"context"
	"fmt"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/imageops/cloud/gomodules/convert"
	"github.com/imageops/cloud/gomodules/fetch"
	"github.com/imageops/cloud/gomodules/openstack/glance"
)

// Result is what Ensure did, in the shape the module returns.
type Result struct {
	// Changed is true when Glance was written to (or, in check mode, would be).
	Changed bool `json:"changed"`
	// ID is the Glance image ID; empty when the image is absent or would only
	// be created in check mode.
	ID string `json:"id,omitempty"`
	// Image is the image as Glance shows it (see Flatten).
	Image map[string]any `json:"image,omitempty"`
	// Uploaded is true when image data was uploaded (or would be).
	Uploaded bool `json:"uploaded"`
	// Converted is true when the source was converted on its way to Glance.
	Converted bool `json:"converted"`
	// Diff shows the fields that changed, before and after.
	Diff *Diff `json:"diff,omitempty"`
	// Timings says where the time of an upload went; nil when nothing was
	// uploaded.
	Timings *Timings `json:"timings,omitempty"`
	// Warnings are shown by Ansible after the task.
	Warnings []string `json:"-"`
}

// Ensurer ensures community images in one Glance.
type Ensurer struct {
	glance  *glance.Client
	lookup  []glance.LookupOption
	fetch   []fetch.Option
	convert []convert.Option
}

// Option configures an Ensurer.
type Option func(*Ensurer)

// WithFetchOptions adds options to every download (TLS, timeouts, retries).
// Default: fetch's defaults.
func WithFetchOptions(opts ...fetch.Option) Option {
	return func(e *Ensurer) { e.fetch = append(e.fetch, opts...) }
}

// WithConvertOptions adds options to every conversion (the qemu-img path,
// its parallelism). Default: convert's defaults.
func WithConvertOptions(opts ...convert.Option) Option {
	return func(e *Ensurer) { e.convert = append(e.convert, opts...) }
}

// WithLookup narrows or widens how images are found by name (for instance
// glance.InProject, to scope them to one project). Default: what a user of
// the name would find (glance.Client.FindByName).
func WithLookup(opts ...glance.LookupOption) Option {
	return func(e *Ensurer) { e.lookup = append(e.lookup, opts...) }
}

// New returns an Ensurer for the Glance that client reaches.
func New(client *glance.Client, opts ...Option) *Ensurer {
	e := &Ensurer{glance: client}
	for _, apply := range opts {
		apply(e)
	}
	return e
}

// Ensure makes Glance hold the image o describes (state present) or no image
// of that name (state absent), among the images of the client's project
// (glance.Client.Owner): another project's image is never changed. When the
// project has no image of the name, a public or community image of another
// project is used read only if its data is verified against the task's
// checksums (see sharedMatch); otherwise the image is uploaded. In check mode it reads Glance but writes
// nothing, and returns the same Changed and Diff that a real run would.
//
// Unfinished images of this collection are another run's upload in
// progress, which Ensure waits for and then uses, or stale leftovers, which
// it deletes (see package glance). When other runs upload the same image at
// the same time, all of them end with the same one image
// (glance.Client.Converge). Images of the name without data that this
// collection did not make fail it.
func (e *Ensurer) Ensure(ctx context.Context, o Options, checkMode bool) (Result, error) {
	d, err := o.normalize()
	if err != nil {
		return Result{}, err
	}
	var found []images.Image
	if d.State == "absent" || checkMode {
		found, err = e.glance.FindByName(ctx, d.Name, e.lookup...)
	} else {
		// Another run's upload of the image is waited for, then used.
		found, err = e.glance.AwaitUploads(ctx, d.Name, e.lookup...)
	}
	if err != nil {
		return Result{}, err
	}
	if d.State == "absent" {
		return e.ensureAbsent(ctx, d, found, checkMode)
	}
	found, leftovers := e.splitLeftovers(found)
	removed, err := e.removeLeftovers(ctx, d, leftovers, checkMode)
	if err != nil {
		return Result{}, err
	}
	var reclaimed []string
	if !checkMode {
		reclaimed = reclaimWorkdirs(d.Workdir)
	}
	var result Result
	if len(found) == 0 {
		// Not in the project: another project's public or community image
		// of the name serves, read only, once its data is verified (unless
		// use_existing_trusted_community_images is false, or verification skipped).
		var shared *images.Image
		var how string
		if d.otherProjectsCommunityImages() {
			if shared, how, err = e.findVerifiedShared(ctx, d); err != nil {
				return Result{}, err
			}
		}
		if shared != nil {
			result = useShared(d, shared, how)
		} else {
			result, err = e.ensureUploaded(ctx, d, checkMode)
		}
	} else {
		result, err = e.ensureUpToDate(ctx, d, found, checkMode)
	}
	if len(removed) > 0 {
		result.Changed = true
	}
	result.Warnings = append(append(append(d.warnings, removed...), reclaimed...), result.Warnings...)
	return result, err
}

// splitLeftovers separates the images of a name from the stale leftovers
// of this collection's uploads that never finished (glance.Client.Stale):
// they can never become the image, so a run deletes them and uploads again.
// Uploads still in progress (in check mode, which does not wait for them)
// are left out of both.
func (e *Ensurer) splitLeftovers(found []images.Image) (kept, leftovers []images.Image) {
	for _, image := range found {
		switch {
		case e.glance.Stale(&image):
			leftovers = append(leftovers, image)
		case !e.glance.InProgress(&image):
			kept = append(kept, image)
		}
	}
	return kept, leftovers
}

// removeLeftovers deletes (in check mode, only reports) the stale leftovers
// of unfinished uploads, and returns a warning for each.
func (e *Ensurer) removeLeftovers(ctx context.Context, d desired, leftovers []images.Image, checkMode bool) ([]string, error) {
	var warnings []string
	for _, image := range leftovers {
		verb := "deleted"
		if checkMode {
			verb = "would delete"
		} else if err := e.glance.Delete(ctx, image.ID); err != nil {
			return nil, fmt.Errorf("deleting image %q (%s), left %s by an upload that did not finish: %w", d.Name, image.ID, image.Status, err)
		}
		warnings = append(warnings, fmt.Sprintf("%s image %q (%s): %s, never verified, no progress since %s: an earlier upload did not finish",
			verb, d.Name, image.ID, image.Status, image.UpdatedAt.UTC().Format(time.RFC3339)))
	}
	return warnings, nil
}

func (e *Ensurer) ensureUploaded(ctx context.Context, d desired, checkMode bool) (Result, error) {
	result := Result{Changed: true, Uploaded: true, Diff: &Diff{Before: map[string]any{}, After: d.planned()}}
	if checkMode {
		return result, nil
	}
	var timings Timings
	var image *images.Image
	var converted bool
	var err error
	if d.ImportMethod == ImportWebDownload || d.ImportMethod == ImportGlanceDirect {
		image, err = e.importImage(ctx, d)
	} else {
		image, converted, err = e.upload(ctx, d, &timings)
	}
	if err != nil {
		return Result{}, err
	}
	if image, err = e.glance.Converge(ctx, image, e.lookup...); err != nil {
		return Result{}, err
	}
	result.ID, result.Image, result.Converted, result.Timings = image.ID, glance.Flatten(image), converted, &timings
	return result, nil
}

func (e *Ensurer) ensureUpToDate(ctx context.Context, d desired, found []images.Image, checkMode bool) (Result, error) {
	var warnings []string
	if len(found) > 1 {
		if !sameBytes(found) {
			return Result{}, fmt.Errorf("%d images named %q hold different data in Glance (IDs, oldest first: %s); "+
				"keep one: delete or rename the others, then run again", len(found), d.Name, glance.IDs(found))
		}
		warnings = append(warnings, fmt.Sprintf("%d images named %q hold the same data (IDs: %s); managing %s",
			len(found), d.Name, glance.IDs(found), chosenOfSameData(found).describe()))
	}
	for i := range found {
		if !glance.HoldsData(&found[i]) {
			return Result{}, fmt.Errorf("image %q (%s) in Glance is %s: it holds no usable data, yet has the name. "+
				"If no upload to it is under way, delete it (openstack image delete %s) and run again",
				d.Name, found[i].ID, found[i].Status, found[i].ID)
		}
	}
	image := chosenOfSameData(found).image
	if !d.InsecureSkipGlanceVerify {
		if err := verifyExisting(d, image, d.checksums); err != nil {
			return Result{}, err
		}
	}
	if warning := formatWarning(d, image); warning != "" {
		warnings = append(warnings, warning)
	}
	updates := plannedUpdates(d, image)
	result := Result{ID: image.ID, Image: glance.Flatten(image), Warnings: warnings}
	if len(updates) == 0 {
		return result, nil
	}
	result.Changed, result.Diff = true, diffOf(updates)
	if checkMode {
		return result, nil
	}
	patches := make(images.UpdateOpts, len(updates))
	for i, u := range updates {
		patches[i] = u.patch
	}
	updated, err := e.glance.Update(ctx, image.ID, patches)
	if err != nil {
		return Result{}, fmt.Errorf("updating image %q: %w", d.Name, err)
	}
	result.Image = glance.Flatten(updated)
	return result, nil
}

func (e *Ensurer) ensureAbsent(ctx context.Context, d desired, found []images.Image, checkMode bool) (Result, error) {
	if len(found) == 0 {
		return Result{}, nil
	}
	result := Result{Changed: true, ID: found[0].ID, Diff: &Diff{Before: map[string]any{}, After: map[string]any{}}}
	for i := range found {
		result.Diff.Before[found[i].ID] = map[string]any{"name": found[i].Name, "visibility": string(found[i].Visibility)}
		if found[i].Protected {
			return Result{}, fmt.Errorf("image %q (%s) is protected, so it cannot be deleted; set protected: false on it first", d.Name, found[i].ID)
		}
	}
	if checkMode {
		return result, nil
	}
	for i := range found {
		if err := e.glance.Delete(ctx, found[i].ID); err != nil {
			return Result{}, fmt.Errorf("deleting image %q: %w", d.Name, err)
		}
	}
	return result, nil
}

// planned describes a new image for the diff.
func (d desired) planned() map[string]any {
	out := map[string]any{"name": d.Name, "source_url": fetch.RedactURL(d.SourceURL), "disk_format": d.DiskFormat,
		"container_format": d.ContainerFormat, "visibility": d.Visibility}
	if d.newAtGlanceDefaultVisibility {
		out["visibility"] = "Glance's default"
	}
	if len(d.properties) > 0 {
		out["properties"] = d.properties
	}
	if len(d.Tags) > 0 {
		out["tags"] = d.Tags
	}
	for key, value := range map[string]any{"min_disk": d.MinDisk, "min_ram": d.MinRAM, "protected": d.Protected} {
		if !isNilPointer(value) {
			out[key] = value
		}
	}
	return out
}

func isNilPointer(value any) bool {
	switch v := value.(type) {
	case *int:
		return v == nil
	case *bool:
		return v == nil
	}
	return value == nil
}

// formatWarning tells when an existing image is in another disk format than
// disk_format asks (after community_images_disk_format changed, say): its
// data is never replaced, so the run would otherwise pass silently. Kernels,
// ramdisks and ISOs keep their own format (uploadedAsItComes).
func formatWarning(d desired, image *images.Image) string {
	if image.DiskFormat == d.DiskFormat || uploadedAsItComes(image.DiskFormat) || uploadedAsItComes(d.SourceDiskFormat) {
		return ""
	}
	return fmt.Sprintf("image %q (%s) is %s in Glance, not %s as disk_format asks; an image's data is never replaced: "+
		"upload it under a new name to have it in %s", d.Name, image.ID, image.DiskFormat, d.DiskFormat, d.DiskFormat)
}

// chosen is the image managed among several of one name with the same data.
type chosen struct {
	image  *images.Image
	reason string
}

func (c chosen) describe() string { return c.image.ID + ", " + c.reason }

// chosenOfSameData picks, among images of one name with the same data
// (oldest first), the one azimuth-ops hands back: the newest, which Glance
// lists first and `openstack image list --name` shows first, so that IDs
// stay when a site switches. When some are this collection's own (runs that
// uploaded at the same time, before all but one deleted theirs), the oldest
// of those, the one such runs converge on (glance.Client.Converge).
func chosenOfSameData(found []images.Image) chosen {
	for i := range found {
		if glance.Ours(&found[i]) && glance.Complete(&found[i]) {
			return chosen{&found[i], "the oldest of this collection's uploads, which concurrent runs converge on"}
		}
	}
	return chosen{&found[len(found)-1], "the newest, the one Glance lists first and azimuth-ops hands back"}
}
