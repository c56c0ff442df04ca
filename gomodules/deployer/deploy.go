package deployer

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/imageops/cloud/gomodules/fetch"
	"github.com/imageops/cloud/gomodules/ingest"
	"github.com/imageops/cloud/gomodules/openstack/conn"
	"github.com/imageops/cloud/gomodules/openstack/glance"
)

// Properties the deployer sets. ReleaseProperty and ReleaseNameProperty are
// on every image it uploads; the Superseded ones on an image that a newer
// release replaced (a cleaner can select those with a filter on
// SupersededProperty, or group by ReleaseNameProperty).
const (
	ReleaseProperty      = "imageops_release"
	ReleaseNameProperty  = "imageops_release_name"
	SupersededProperty   = "imageops_superseded"
	SupersededByProperty = "imageops_superseded_by"
	SupersededAtProperty = "imageops_superseded_at"
)

// incomingSuffix makes the temporary name under which a new version is
// uploaded before it takes the production name.
const incomingSuffix = ".imageops-incoming"

// archiveTimeFormat renders the superseded image's created_at in its new name.
const archiveTimeFormat = "20060102T150405Z"

// Options are the image_deployer module's options.
type Options struct {
	conn.Config
	// Owner is the project (name or ID) whose images are deployed and
	// superseded; empty means the credentials' project. Read by RunModule,
	// which scopes the glance client to it.
	Owner string `json:"owner"`
	// CatalogURL is where the catalog is (http, https, file).
	CatalogURL string `json:"catalog_url"`
	// CatalogFormat is auto (default), azimuth, chameleon or specs.
	CatalogFormat string `json:"catalog_format"`
	// ChameleonBaseURL is where a Chameleon index's release files are;
	// empty means the directory of CatalogURL.
	ChameleonBaseURL string `json:"chameleon_base_url"`
	// Images limits the run to these production names; empty means every
	// release of the catalog. An IPA pair is named by its catalog entry
	// (both halves) or by a half's production name.
	Images []string `json:"images"`
	// IPAImages are the catalog entries (of a Chameleon store) that are
	// Ironic Python Agent kernel/initramfs pairs (see SplitIPA); each is
	// deployed as two images, <name>.kernel and <name>.initramfs, both
	// uploaded before either is promoted.
	IPAImages []string `json:"ipa_images"`
	// Visibility is the production images' visibility; default public.
	Visibility string `json:"visibility"`
	// DiskFormat is the Glance disk format of images whose spec does not
	// say (and the file extension of Chameleon images); default qcow2.
	DiskFormat string `json:"disk_format"`
	// Properties are set on every uploaded image: a dict, or a list of
	// "key=value" strings.
	Properties any `json:"properties"`
	// Workdir is where downloads that need converting go; empty means the
	// system's temporary directory.
	Workdir string `json:"workdir"`
	// ObjectStoreURL is Chameleon's image store (hammers-v2's
	// object_store_url, chi-in-a-box's image_object_store_url); when set,
	// the catalog is its index <ObjectStoreURL>/<ImageContainer>/<Scope>/current.
	ObjectStoreURL string `json:"object_store_url"`
	// ImageContainer is the store's container; default DefaultImageContainer.
	ImageContainer string `json:"image_container"`
	// Scope is the store's scope; default DefaultScope.
	Scope string `json:"scope"`
	// ImagePrefix, when set, names a new version <ImagePrefix><name> until
	// it is promoted (Chameleon's testing_); empty means <name>.imageops-incoming.
	ImagePrefix string `json:"image_prefix"`
	// MetadataField is the property set to "no" on a Chameleon image that a
	// newer release replaced; default DefaultMetadataField.
	MetadataField string `json:"image_metadata_field"`
}

// DefaultMetadataField is the property Chameleon marks its supported images
// with ("true" from CC-Images, "no" once archived).
const DefaultMetadataField = "chameleon-supported"

// Deployment is one release in a result.
type Deployment struct {
	// Name is the production name; Version the release.
	Name    string `json:"name"`
	Version string `json:"version"`
	// ID is the Glance ID of the image with the production name (empty for
	// a release that would be uploaded in check mode).
	ID string `json:"id,omitempty"`
	// IPA and Pair, for a half of an IPA pair: the half (kernel or
	// initramfs) and the catalog entry of the pair.
	IPA  string `json:"ipa,omitempty"`
	Pair string `json:"pair,omitempty"`
	// PreviousID, PreviousName and PreviousVersion describe the image it
	// superseded: its ID, its new (archive) name and its release.
	PreviousID      string `json:"previous_id,omitempty"`
	PreviousName    string `json:"previous_name,omitempty"`
	PreviousVersion string `json:"previous_version,omitempty"`
}

// Result is what a run did (or, in check mode, would do).
type Result struct {
	// Changed is true when an image was (or would be) uploaded or renamed.
	Changed bool `json:"changed"`
	// Deployed are the releases uploaded and promoted, by name.
	Deployed []Deployment `json:"deployed"`
	// Current are the releases the site already had.
	Current []Deployment `json:"current"`
	// Failed maps a production name to the reason its release failed.
	Failed map[string]string `json:"failed_images,omitempty"`
	// Diff is, per production name, {id, version} before and after.
	Diff *Diff `json:"diff,omitempty"`
	// Warnings are shown by Ansible after the task.
	Warnings []string `json:"-"`
}

// Diff is Ansible's diff.
type Diff struct {
	Before map[string]any `json:"before"`
	After  map[string]any `json:"after"`
}

// FailedError fails a run in which some releases could not be deployed,
// after every other release was. Fields carries the result.
type FailedError struct {
	Result Result
}

func (e *FailedError) Error() string {
	names := make([]string, 0, len(e.Result.Failed))
	for name := range e.Result.Failed {
		names = append(names, name)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, name := range names {
		parts[i] = fmt.Sprintf("%s: %s", name, e.Result.Failed[name])
	}
	return fmt.Sprintf("%d release(s) could not be deployed, their current images are unchanged: %s", len(parts), strings.Join(parts, "; "))
}

// Fields returns the partial result.
func (e *FailedError) Fields() map[string]any {
	return map[string]any{"changed": e.Result.Changed, "deployed": e.Result.Deployed, "current": e.Result.Current,
		"failed_images": e.Result.Failed}
}

// Deployer deploys catalog releases into one Glance.
type Deployer struct {
	glance  *glance.Client
	ensurer *ingest.Ensurer
	fetch   []fetch.Option
	clock   func() time.Time
}

// New returns a Deployer for the Glance that client reaches; fetchOpts apply
// to the catalog and metadata downloads (image downloads take the
// Ensurer's options, see ingest.WithFetchOptions).
func New(client *glance.Client, fetchOpts []fetch.Option, opts ...ingest.Option) *Deployer {
	return &Deployer{glance: client, ensurer: ingest.New(client, opts...), fetch: fetchOpts, clock: time.Now}
}

func (o Options) normalize() (Options, error) {
	if o.CatalogFormat == "" {
		o.CatalogFormat = FormatAuto
	}
	if o.MetadataField == "" {
		o.MetadataField = DefaultMetadataField
	}
	if strings.TrimSpace(o.ObjectStoreURL) != "" {
		if strings.TrimSpace(o.CatalogURL) != "" {
			return o, fmt.Errorf("catalog_url and object_store_url are both set; expected one: object_store_url reads Chameleon's store (<url>/<container>/<scope>/current)")
		}
		if o.CatalogFormat != FormatAuto && o.CatalogFormat != FormatChameleon {
			return o, fmt.Errorf("catalog_format is %q with object_store_url; Chameleon's store is read as chameleon", o.CatalogFormat)
		}
		o.CatalogURL, o.ChameleonBaseURL = ChameleonStore(o.ObjectStoreURL, o.ImageContainer, o.Scope)
		o.CatalogFormat = FormatChameleon
	}
	if strings.TrimSpace(o.CatalogURL) == "" {
		return o, fmt.Errorf("catalog_url is empty; expected the http, https or file URL of a catalog, or object_store_url (Chameleon's image store)")
	}
	switch o.CatalogFormat {
	case FormatAuto, FormatAzimuth, FormatChameleon, FormatSpecs:
	default:
		return o, fmt.Errorf("catalog_format is %q; expected auto, azimuth, chameleon or specs", o.CatalogFormat)
	}
	if o.Visibility == "" {
		o.Visibility = "public"
	}
	if !glance.IsVisibility(o.Visibility) {
		return o, fmt.Errorf("visibility is %q; expected one of %s", o.Visibility, strings.Join(glance.Visibilities, ", "))
	}
	if o.DiskFormat == "" {
		o.DiskFormat = "qcow2"
	}
	if !glance.IsDiskFormat(o.DiskFormat) {
		return o, fmt.Errorf("disk_format is %q; expected one of %s", o.DiskFormat, strings.Join(glance.DiskFormats, ", "))
	}
	return o, nil
}

// Deploy reads the catalog and deploys every release the site does not
// have. In check mode it reads the catalog and Glance and writes nothing.
// A catalog that cannot be read fails the run before anything is written;
// a release that fails does not stop the others, and the run then returns
// the result with a *FailedError.
func (d *Deployer) Deploy(ctx context.Context, o Options, checkMode bool) (Result, error) {
	o, err := o.normalize()
	if err != nil {
		return Result{}, err
	}
	releases, err := ReadCatalog(ctx, o.CatalogURL, o.CatalogFormat, o.ChameleonBaseURL, o.DiskFormat, d.fetch...)
	if err != nil {
		return Result{}, err
	}
	if releases, err = SplitIPA(releases, o.IPAImages); err != nil {
		return Result{}, err
	}
	if releases, err = selectReleases(releases, o.Images); err != nil {
		return Result{}, err
	}
	result := Result{Deployed: []Deployment{}, Current: []Deployment{}, Failed: map[string]string{}}
	for _, group := range byPair(releases) {
		outcomes := d.deployGroup(ctx, o, group, checkMode, &result)
		for i, outcome := range outcomes {
			result.record(group[i], outcome)
		}
	}
	if len(result.Failed) > 0 {
		return result, &FailedError{Result: result}
	}
	result.Failed = nil
	return result, nil
}

// outcome is what deploying one release came to.
type outcome struct {
	done    Deployment
	current bool
	err     error
}

// record adds one release's outcome to the result.
func (result *Result) record(r Release, o outcome) {
	switch {
	case o.err != nil:
		result.Failed[r.Name] = o.err.Error()
	case o.current:
		result.Current = append(result.Current, o.done)
	default:
		result.Changed = true
		result.Deployed = append(result.Deployed, o.done)
		if result.Diff == nil {
			result.Diff = &Diff{Before: map[string]any{}, After: map[string]any{}}
		}
		result.Diff.Before[o.done.Name] = map[string]any{"id": o.done.PreviousID, "version": o.done.PreviousVersion}
		result.Diff.After[o.done.Name] = map[string]any{"id": o.done.ID, "version": o.done.Version}
	}
}

// selectReleases keeps the releases named: by production name, or for the
// halves of an IPA pair, by the pair's catalog entry too.
func selectReleases(releases []Release, names []string) ([]Release, error) {
	if len(names) == 0 {
		return releases, nil
	}
	var out []Release
	taken := map[int]bool{}
	for _, name := range names {
		found := false
		for i, r := range releases {
			if r.Name == name || (r.Pair != "" && r.Pair == name) {
				found = true
				if !taken[i] {
					taken[i] = true
					out = append(out, r)
				}
			}
		}
		if !found {
			return nil, fmt.Errorf("images names %q, which the catalog does not have; it has: %s", name, releaseNames(releases))
		}
	}
	return out, nil
}

// byPair groups releases for deployGroup: the halves of an IPA pair
// together, every other release alone, in the order they come.
func byPair(releases []Release) [][]Release {
	var groups [][]Release
	pairAt := map[string]int{}
	for _, r := range releases {
		if i, ok := pairAt[r.Pair]; ok && r.Pair != "" {
			groups[i] = append(groups[i], r)
			continue
		}
		if r.Pair != "" {
			pairAt[r.Pair] = len(groups)
		}
		groups = append(groups, []Release{r})
	}
	return groups
}

// deployGroup deploys one release, or the halves of an IPA pair so that
// the site never gets one half of a new pair alone: every half that is not
// current is uploaded first, and only when all of them are active is any
// promoted. A half that fails to upload fails the others (they wait under
// their incoming names, and the next run only promotes them).
func (d *Deployer) deployGroup(ctx context.Context, o Options, group []Release, checkMode bool, result *Result) []outcome {
	outcomes := make([]outcome, len(group))
	for i, r := range group {
		outcomes[i].done, outcomes[i].current, outcomes[i].err = d.plan(ctx, o, r)
	}
	if checkMode || failedAny(outcomes) {
		return failTogether(group, outcomes)
	}
	uploaded := make([]string, len(group))
	for i, r := range group {
		if !outcomes[i].current {
			uploaded[i], outcomes[i].err = d.upload(ctx, o, r, result)
		}
	}
	if failedAny(outcomes) {
		return failTogether(group, outcomes)
	}
	for i, r := range group {
		if !outcomes[i].current {
			outcomes[i].done, outcomes[i].current, outcomes[i].err = d.promoteUploaded(ctx, o, r, outcomes[i].done, uploaded[i])
		}
	}
	return outcomes
}

func failedAny(outcomes []outcome) bool {
	for _, o := range outcomes {
		if o.err != nil {
			return true
		}
	}
	return false
}

// failTogether fails, when a half of a pair failed, the other halves that
// would have changed, naming the half that failed.
func failTogether(group []Release, outcomes []outcome) []outcome {
	for i, o := range outcomes {
		if o.err == nil {
			continue
		}
		for j := range outcomes {
			if outcomes[j].err == nil && !outcomes[j].current {
				outcomes[j].err = fmt.Errorf("not promoted: %s, the other half of IPA pair %q, failed: %w", group[i].Name, group[i].Pair, o.err)
			}
		}
		break
	}
	return outcomes
}

func releaseNames(releases []Release) string {
	names := make([]string, len(releases))
	for i, r := range releases {
		names[i] = r.Name
	}
	return strings.Join(names, ", ")
}

// A release is deployed in three steps: plan, upload, promoteUploaded.
// Runs of the deployer at the same time share one incoming image (the
// Glance layer converges their uploads), and each looks at the production
// name again before and after it promotes: a run that finds the release
// already promoted by another deletes what it uploaded itself, and when two
// promoted at once, the oldest image (glance.Older) stays and the other run
// deletes its own. Every run hands back the ID that stays.

// plan looks at the production name: current is true when the site has
// the release, and done says what promoting it would supersede.
func (d *Deployer) plan(ctx context.Context, o Options, r Release) (Deployment, bool, error) {
	done := Deployment{Name: r.Name, Version: r.Version, IPA: r.IPA, Pair: r.Pair}
	existing, err := d.production(ctx, o, r.Name)
	if err != nil {
		return done, false, err
	}
	if released := releasedAs(existing, r); released != nil {
		done.ID = released.ID
		return done, true, nil
	}
	previous, err := onlyPrevious(existing, r.Name)
	if err != nil {
		return done, false, err
	}
	if previous != nil {
		done.PreviousID, done.PreviousVersion = previous.ID, releaseOf(previous, r)
		done.PreviousName = archiveName(previous, r)
	}
	return done, false, nil
}

// upload brings the release to its incoming name and returns the ID of
// the active image there.
func (d *Deployer) upload(ctx context.Context, o Options, r Release, result *Result) (string, error) {
	if err := d.dropStaleIncoming(ctx, o, r); err != nil {
		return "", err
	}
	spec, err := d.uploadSpec(ctx, o, r, result)
	if err != nil {
		return "", err
	}
	uploaded, err := d.ensurer.Ensure(ctx, spec, false)
	if err != nil {
		return "", fmt.Errorf("uploading release %s: %w", r.Version, err)
	}
	if status, _ := uploaded.Image["status"].(string); status != string(images.ImageStatusActive) {
		return "", fmt.Errorf("the uploaded release %s (%s) is %s, not active; it was not promoted", r.Version, uploaded.ID, status)
	}
	return uploaded.ID, nil
}

// promoteUploaded gives the uploaded image (ID mine) the production name.
// Another run may have promoted the release while this one uploaded.
func (d *Deployer) promoteUploaded(ctx context.Context, o Options, r Release, done Deployment, mine string) (Deployment, bool, error) {
	existing, err := d.production(ctx, o, r.Name)
	if err != nil {
		return done, false, err
	}
	if released := releasedAs(existing, r); released != nil {
		return d.settle(ctx, done, released, mine)
	}
	previous, err := onlyPrevious(existing, r.Name)
	if err != nil {
		return done, false, err
	}
	if previous != nil {
		done.PreviousID, done.PreviousVersion = previous.ID, releaseOf(previous, r)
		done.PreviousName = archiveName(previous, r)
	}
	promoteErr := d.promote(ctx, o, r, previous, mine, done.PreviousName)
	if existing, err = d.production(ctx, o, r.Name); err != nil {
		return done, false, errors.Join(promoteErr, err)
	}
	winner := releasedAs(existing, r)
	if promoteErr != nil {
		if winner == nil || !errors.Is(promoteErr, errPromotedElsewhere) {
			return done, false, promoteErr
		}
		// Another run promoted the release with its own image (and deleted
		// the one this run found): that one stays.
		return d.settle(ctx, done, winner, winner.ID)
	}
	if winner == nil {
		return done, false, fmt.Errorf("image %s was given the name %q but no image of that name has release %s any more (another run? run again)",
			mine, r.Name, r.Version)
	}
	return d.settle(ctx, done, winner, mine)
}

// settle ends a release another run may have promoted too: winner is the
// oldest image with the production name and the release, mine the image
// this run uploaded, deleted when it is not the winner.
func (d *Deployer) settle(ctx context.Context, done Deployment, winner *images.Image, mine string) (Deployment, bool, error) {
	done.ID = winner.ID
	if winner.ID == mine {
		return done, false, nil
	}
	if err := d.glance.Delete(ctx, mine); err != nil {
		return done, false, fmt.Errorf("deleting image %s, uploaded while another run deployed the same release as %s: %w", mine, winner.ID, err)
	}
	return done, false, nil
}

// releasedAs returns the oldest complete image of existing that records
// the release, or nil. A Chameleon release is recorded in ReleaseProperty
// or, as Chameleon's own deployer records it, in CurrentProperty.
func releasedAs(existing []images.Image, r Release) *images.Image {
	for i := range existing { // oldest first
		if releaseOf(&existing[i], r) == r.Version && glance.Complete(&existing[i]) {
			return &existing[i]
		}
	}
	return nil
}

// releaseOf is the release an image records, in the form r's catalog uses.
func releaseOf(image *images.Image, r Release) string {
	if version := textProperty(image, ReleaseProperty); version != "" || !r.Chameleon {
		return version
	}
	return textProperty(image, CurrentProperty)
}

// onlyPrevious returns the one image with the production name (of another
// release), nil when there is none; several fail.
func onlyPrevious(existing []images.Image, name string) (*images.Image, error) {
	switch len(existing) {
	case 0:
		return nil, nil
	case 1:
		return &existing[0], nil
	}
	return nil, fmt.Errorf("%d images are named %q (IDs %s); expected at most one: rename or delete the others",
		len(existing), name, glance.IDs(existing))
}

// errPromotedElsewhere says that promoting failed because another run
// promoted the same release at the same time.
var errPromotedElsewhere = errors.New("another run promoted the release")

// promote renames the previous image (when there is one) to its archive
// name, then gives the uploaded image the production name and visibility.
func (d *Deployer) promote(ctx context.Context, o Options, r Release, previous *images.Image, uploaded, archive string) error {
	if previous != nil {
		patch := images.UpdateOpts{
			images.ReplaceImageName{NewName: archive},
			images.UpdateImageProperty{Op: images.AddOp, Name: SupersededProperty, Value: "true"},
			images.UpdateImageProperty{Op: images.AddOp, Name: SupersededByProperty, Value: uploaded},
			images.UpdateImageProperty{Op: images.AddOp, Name: SupersededAtProperty, Value: d.clock().UTC().Format(time.RFC3339)},
		}
		if r.Chameleon {
			patch = append(patch, images.UpdateImageProperty{Op: images.AddOp, Name: o.MetadataField, Value: "no"})
		}
		if _, err := d.glance.Update(ctx, previous.ID, patch); err != nil {
			return fmt.Errorf("renaming the previous image %s to %q: %w (release %s waits as %q; run again)",
				previous.ID, archive, err, r.Version, incomingName(o, r))
		}
	}
	promote := images.UpdateOpts{images.ReplaceImageName{NewName: r.Name},
		images.UpdateVisibility{Visibility: images.ImageVisibility(o.Visibility)}}
	if r.IPA != "" {
		promote = append(promote, images.UpdateImageProperty{Op: images.AddOp, Name: IPAProperty, Value: r.IPA})
	}
	if _, err := d.glance.Update(ctx, uploaded, promote); err != nil {
		err = fmt.Errorf("giving the uploaded image %s the name %q: %w", uploaded, r.Name, err)
		if existing, listErr := d.production(ctx, o, r.Name); listErr == nil && releasedAs(existing, r) != nil {
			// Not restored: the production name has the release already.
			return fmt.Errorf("%w: %w", errPromotedElsewhere, err)
		}
		if previous == nil {
			return fmt.Errorf("%w (run again)", err)
		}
		if restoreErr := d.restore(ctx, o, r, previous); restoreErr != nil {
			return fmt.Errorf("%w; giving the previous image %s its name back failed too, no image is named %q until a run succeeds: %v (run again)",
				err, previous.ID, r.Name, restoreErr)
		}
		return fmt.Errorf("%w; the previous image %s has its name back (run again)", err, previous.ID)
	}
	return nil
}

// restore undoes the rename of the previous image when the new one could not
// take the production name, so that the site is not left without one.
func (d *Deployer) restore(ctx context.Context, o Options, r Release, previous *images.Image) error {
	patch := images.UpdateOpts{images.ReplaceImageName{NewName: previous.Name}}
	marked := []string{SupersededProperty, SupersededByProperty, SupersededAtProperty}
	if r.Chameleon {
		marked = append(marked, o.MetadataField)
	}
	for _, key := range marked {
		if _, had := previous.Properties[key]; had {
			patch = append(patch, images.UpdateImageProperty{Op: images.ReplaceOp, Name: key, Value: textProperty(previous, key)})
		} else {
			patch = append(patch, images.UpdateImageProperty{Op: images.RemoveOp, Name: key})
		}
	}
	_, err := d.glance.Update(ctx, previous.ID, patch)
	return err
}

// dropStaleIncoming deletes what an earlier run left under the incoming name
// of another release (unless another run is still uploading it). Such
// images never had the production name. An image of that name that the
// deployer did not upload (with image_prefix testing_, a user's
// testing_<name>) fails the release: it is neither deleted nor, as the
// upload would otherwise take it, promoted. Unfinished images of this release
// are the Glance layer's to finish, wait for or delete once stale.
func (d *Deployer) dropStaleIncoming(ctx context.Context, o Options, r Release) error {
	incoming, err := d.named(ctx, incomingName(o, r))
	if err != nil {
		return err
	}
	for i := range incoming {
		image := &incoming[i]
		if !glance.Ours(image) || textProperty(image, ReleaseNameProperty) != r.Name {
			// Not a deployer's upload (a user's own testing_<name>, or what
			// Chameleon's deployer left): the upload would be taken for it.
			return fmt.Errorf("image %s is named %q, the name new releases of %q are uploaded under, but the deployer did not upload it; "+
				"it is neither used nor deleted: rename or delete it, or set image_prefix to another prefix", image.ID, image.Name, r.Name)
		}
		if releaseOf(image, r) == r.Version || d.glance.InProgress(image) {
			continue
		}
		if err := d.glance.Delete(ctx, image.ID); err != nil {
			return fmt.Errorf("deleting the unfinished upload %s (%q, release %q): %w", image.ID, image.Name,
				textProperty(image, ReleaseProperty), err)
		}
	}
	return nil
}

// uploadSpec is the community_image spec of the incoming image: the
// release's spec with the run's defaults, its metadata (Chameleon) and the
// release properties.
func (d *Deployer) uploadSpec(ctx context.Context, o Options, r Release, result *Result) (ingest.Options, error) {
	spec := map[string]any{}
	for key, value := range r.Spec {
		spec[key] = value
	}
	if r.MetadataURL != "" {
		metadata, ignored, err := chameleonMetadata(ctx, r.MetadataURL, r.IPA, d.fetch...)
		if err != nil {
			return ingest.Options{}, err
		}
		if len(ignored) > 0 {
			result.Warnings = append(result.Warnings, fmt.Sprintf("%s: metadata keys not set as properties (Glance's own fields or not scalars): %s",
				r.Name, strings.Join(ignored, ", ")))
		}
		for key, value := range metadata {
			spec[key] = value
		}
	}
	properties, err := withRelease(spec["properties"], r)
	if err != nil {
		return ingest.Options{}, err
	}
	spec["properties"] = properties
	spec["name"], spec["state"] = incomingName(o, r), "present"
	spec["visibility"], spec["update_existing_visibility"] = "private", false
	batch := ingest.BatchOptions{Config: o.Config, Images: map[string]map[string]any{r.Name: spec},
		Properties: o.Properties, DiskFormat: o.DiskFormat, Workdir: o.Workdir}
	specs, err := batch.Specs()
	if err != nil {
		return ingest.Options{}, fmt.Errorf("the catalog's spec: %w", err)
	}
	return specs[r.Name], nil
}

// withRelease adds the release properties to a spec's properties (a dict
// or a list of "key=value" strings).
func withRelease(properties any, r Release) (any, error) {
	release := map[string]string{ReleaseProperty: r.Version, ReleaseNameProperty: r.Name}
	if r.Chameleon {
		release[CurrentProperty] = r.Version // as Chameleon's deployer records it
	}
	if r.IPA != "" {
		// Which half is set only when the half is promoted: until then the
		// upload is no pair member, so that ipa_test (which takes the newest
		// image of each half) never pairs a waiting half with a current one.
		release[IPAProperty] = ipaUnpromoted
	}
	switch v := properties.(type) {
	case nil:
		out := map[string]any{}
		for key, value := range release {
			out[key] = value
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(v)+len(release))
		for key, value := range v {
			out[key] = value
		}
		for key, value := range release {
			out[key] = value
		}
		return out, nil
	case []any:
		out := append([]any{}, v...)
		for _, key := range sortedKeys(release) {
			out = append(out, key+"="+release[key])
		}
		return out, nil
	}
	return nil, fmt.Errorf("properties of %q is %v; expected a dict or a list of \"key=value\" strings", r.Name, properties)
}

// named lists the images with exactly this name, in every visibility, oldest first.
func (d *Deployer) named(ctx context.Context, name string) ([]images.Image, error) {
	return d.glance.FindByName(ctx, name, glance.InEveryVisibility())
}

// production lists the images with the production name and the production
// visibility, oldest first: as in hammers-v2, a user's private image that
// happens to have the name is neither the release nor a duplicate.
func (d *Deployer) production(ctx context.Context, o Options, name string) ([]images.Image, error) {
	found, err := d.named(ctx, name)
	if err != nil {
		return nil, err
	}
	out := found[:0]
	for _, image := range found {
		if string(image.Visibility) == o.Visibility {
			out = append(out, image)
		}
	}
	return out, nil
}

// incomingName is the name of a new version until it is promoted.
func incomingName(o Options, r Release) string {
	if o.ImagePrefix != "" {
		return o.ImagePrefix + r.Name
	}
	return r.Name + incomingSuffix
}

// archiveName is the name a superseded image takes: <name>-<created_at>,
// or for a Chameleon release <name>_<build-timestamp> as Chameleon's
// deployer names it.
func archiveName(image *images.Image, r Release) string {
	if r.Chameleon {
		return image.Name + "_" + chameleonTimestamp(image)
	}
	return image.Name + "-" + image.CreatedAt.UTC().Format(archiveTimeFormat)
}

// chameleonTimestamp is the image's build-timestamp property (CC-Images
// writes Python's str(datetime.utcnow()), "2025-04-22 10:11:12.123456"; a
// POSIX time is read too) as Python prints a datetime, which is how
// hammers-v2 names archived images. Without one, created_at is used (hammers
// uses the time of the run).
func chameleonTimestamp(image *images.Image) string {
	when := image.CreatedAt.UTC()
	text := strings.TrimSpace(textProperty(image, "build-timestamp"))
	if t, err := time.Parse("2006-01-02 15:04:05.999999", text); err == nil {
		when = t
	} else if seconds, err := strconv.ParseFloat(text, 64); err == nil {
		when = time.Unix(0, int64(seconds*float64(time.Second))).UTC().Round(time.Microsecond)
	}
	if when.Nanosecond() == 0 {
		return when.Format("2006-01-02 15:04:05")
	}
	return when.Format("2006-01-02 15:04:05.000000")
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for key := range m {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	return keys
}

func textProperty(image *images.Image, key string) string {
	value, ok := image.Properties[key]
	if !ok || value == nil {
		return ""
	}
	return fmt.Sprint(value)
}
