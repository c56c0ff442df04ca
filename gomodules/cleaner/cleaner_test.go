package cleaner

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageops/cloud/gomodules/cleaner/novastub"
	"github.com/imageops/cloud/gomodules/internal/testenv"
)

// These tests run against the real local Glance (scripts/glance.sh). Ages are
// set with the now option: the images are real and new, the reference time
// is moved forward. Nova cannot run here: the in-use tests use novastub, a
// STUB of Nova's "List Servers Detailed" that follows the Compute API reference.

func TestHiddenImagesAreFoundAgainAndDeleted(t *testing.T) {
	for _, method := range []string{HidePrivate, HideOSHidden} {
		t.Run(method, func(t *testing.T) {
			f := newFixture(t)
			image := f.image("old-"+method, nil, false)
			opts := f.options()
			opts.HideMethod = method

			opts.Now = aged(image.CreatedAt, 13)
			first, err := f.clean(opts, false, nil)
			require.NoError(t, err)
			assert.True(t, first.Changed)
			assert.Equal(t, []string{image.ID}, ids(first.Hidden))
			assert.Empty(t, first.Deleted)
			hidden := f.get(image.ID)
			require.NotNil(t, hidden)
			if method == HidePrivate {
				assert.Equal(t, images.ImageVisibilityPrivate, hidden.Visibility)
				assert.False(t, hidden.Hidden)
			} else {
				assert.Equal(t, images.ImageVisibilityPublic, hidden.Visibility, "os_hidden keeps the visibility")
				assert.True(t, hidden.Hidden)
			}

			again, err := f.clean(opts, false, nil)
			require.NoError(t, err)
			assert.False(t, again.Changed, "a second run changes nothing")
			assert.Equal(t, []string{image.ID}, ids(again.Kept))
			assert.Contains(t, again.Kept[0].Reason, "already hidden")
			assert.Equal(t, hidden.UpdatedAt, f.get(image.ID).UpdatedAt, "a second run writes nothing")

			opts.Now = aged(image.CreatedAt, 19)
			last, err := f.clean(opts, false, nil)
			require.NoError(t, err)
			assert.Equal(t, []string{image.ID}, ids(last.Deleted), "the hidden image is found and deleted")
			assert.Nil(t, f.get(image.ID))
		})
	}
}

// splitNow returns a reference time at which older is at least
// deleteMonths old and younger is not: the delete cut-off falls between two
// images created a second apart. ok is false when no such time exists (the
// cut-off skips over older's date at the end of a short month).
func splitNow(older, younger time.Time, deleteMonths int) (time.Time, bool) {
	now := older.AddDate(0, deleteMonths, 0)
	for i := 0; i < 5; i++ {
		cut := monthsBefore(now, deleteMonths)
		if !cut.Before(older) && cut.Before(younger) {
			return now, true
		}
		now = now.Add(older.Sub(cut))
	}
	return now, false
}

func TestAgeDecidesBetweenHideAndDelete(t *testing.T) {
	f := newFixture(t)
	made := f.imagesApart("older", "younger")
	older, younger := made[0], made[1]

	opts := f.options()
	var now time.Time
	found := false
	for months := 18; months < 26 && !found; months++ {
		now, found = splitNow(older.CreatedAt, younger.CreatedAt, months)
		opts.DeleteAfterMonths = months
	}
	require.True(t, found, "no reference time puts the delete cut-off between %s and %s", older.CreatedAt, younger.CreatedAt)
	opts.Now = now.Format(time.RFC3339)

	young := opts
	young.Now = younger.CreatedAt.AddDate(0, 11, 0).Format(time.RFC3339)
	report, err := f.clean(young, false, nil)
	require.NoError(t, err)
	assert.False(t, report.Changed)
	assert.ElementsMatch(t, []string{older.ID, younger.ID}, ids(report.Kept))
	assert.Contains(t, report.Kept[0].Reason, "younger than 12 months")

	report, err = f.clean(opts, false, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{older.ID}, ids(report.Deleted))
	assert.Equal(t, []string{younger.ID}, ids(report.Hidden))
	assert.Nil(t, f.get(older.ID))
	assert.Equal(t, images.ImageVisibilityPrivate, f.get(younger.ID).Visibility)
}

func TestKeepLatestKeepsTheNewestOfEachGroup(t *testing.T) {
	f := newFixture(t)
	var made []images.Image
	for i, group := range []string{"jammy", "noble", "jammy", "noble", "jammy"} {
		if i > 0 {
			time.Sleep(1100 * time.Millisecond)
		}
		made = append(made, f.image("build-"+group, map[string]string{"build-release": group}, false))
	}
	opts := f.options()
	opts.KeepLatest, opts.GroupBy = 1, []string{"build-release"}
	opts.Now = aged(made[4].CreatedAt, 13)

	report, err := f.clean(opts, false, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{made[3].ID, made[4].ID}, ids(report.Kept), "the newest jammy and the newest noble")
	assert.Contains(t, report.Kept[1].Reason, "build-release=jammy")
	assert.Equal(t, []string{made[0].ID, made[1].ID, made[2].ID}, ids(report.Hidden))
	assert.Equal(t, images.ImageVisibilityPublic, f.get(made[4].ID).Visibility)

	// Without groups, only the newest image of all is kept.
	opts.GroupBy, opts.Now = nil, aged(made[4].CreatedAt, 19)
	report, err = f.clean(opts, false, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{made[4].ID}, ids(report.Kept))
	assert.Equal(t, []string{made[0].ID, made[1].ID, made[2].ID, made[3].ID}, ids(report.Deleted))
}

func TestProtectedImagesAreHiddenButNeverDeleted(t *testing.T) {
	f := newFixture(t)
	image := f.image("protected", nil, true)
	opts := f.options()
	opts.Now = aged(image.CreatedAt, 19)

	report, err := f.clean(opts, false, nil)
	require.NoError(t, err)
	assert.Empty(t, report.Deleted)
	assert.Equal(t, []string{image.ID}, ids(report.Hidden))
	assert.Contains(t, report.Hidden[0].Reason, "protected")

	again, err := f.clean(opts, false, nil)
	require.NoError(t, err)
	assert.False(t, again.Changed)
	assert.Equal(t, []string{image.ID}, ids(again.Kept))
	require.NotNil(t, f.get(image.ID), "a protected image stays")
	assert.Equal(t, images.ImageVisibilityPrivate, f.get(image.ID).Visibility)
}

func TestSkipImagesAreNeverTouched(t *testing.T) {
	f := newFixture(t)
	made := []images.Image{f.image("listed", nil, false), f.image("unlisted", nil, false)}
	opts := f.options()
	opts.SkipImages = []string{made[0].ID}
	opts.Now = aged(made[1].CreatedAt, 19)

	report, err := f.clean(opts, false, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{made[0].ID}, ids(report.Skipped))
	assert.Equal(t, "listed in skip_images", report.Skipped[0].Reason)
	assert.Equal(t, []string{made[1].ID}, ids(report.Deleted))
	assert.NotNil(t, f.get(made[0].ID))
}

// stubCompute starts the Nova STUB with servers and returns a compute client
// factory for it.
func stubCompute(t *testing.T, servers []novastub.Server, opts ...novastub.Option) (*novastub.Stub, ComputeFunc) {
	t.Helper()
	stub, err := novastub.Start(servers, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = stub.Close() })
	return stub, func() (*gophercloud.ServiceClient, error) {
		provider := &gophercloud.ProviderClient{HTTPClient: http.Client{}}
		return &gophercloud.ServiceClient{ProviderClient: provider, Endpoint: stub.URL + "/", Type: "compute"}, nil
	}
}

func TestImagesThatServersUseAreSkipped(t *testing.T) {
	f := newFixture(t)
	made := []images.Image{f.image("used-by-shutoff", nil, false), f.image("used-on-page-two", nil, false), f.image("unused", nil, false)}
	// A STUB of Nova: servers of other projects and a volume-booted server,
	// two per page, so that the last reference is only on the second page.
	stub, compute := stubCompute(t, []novastub.Server{
		{ID: "srv-1", Name: "a", Status: "SHUTOFF", TenantID: "project-a", ImageID: made[0].ID},
		{ID: "srv-2", Name: "b", Status: "ACTIVE", TenantID: "project-b", ImageID: ""},
		{ID: "srv-3", Name: "c", Status: "SHELVED_OFFLOADED", TenantID: "project-c", ImageID: made[1].ID},
	}, novastub.WithMaxLimit(2))
	opts := f.options()
	on := true
	opts.SkipInUse = &on
	opts.Now = aged(made[2].CreatedAt, 19)

	report, err := f.clean(opts, false, compute)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{made[0].ID: "in use by 1 server(s): srv-1", made[1].ID: "in use by 1 server(s): srv-3"},
		reasons(report.Skipped))
	assert.Equal(t, []string{made[2].ID}, ids(report.Deleted))
	assert.NotNil(t, f.get(made[0].ID))
	assert.NotNil(t, f.get(made[1].ID))
	assert.Equal(t, 2, stub.Requests(), "both pages of servers were read")
}

func TestFailingServerListStopsBeforeAnyChange(t *testing.T) {
	f := newFixture(t)
	image := f.image("old", nil, false)
	stub, compute := stubCompute(t, nil)
	stub.FailWith(http.StatusInternalServerError) // the Nova STUB answers 500
	opts := f.options()
	on := true
	opts.SkipInUse = &on
	opts.Now = aged(image.CreatedAt, 19)

	_, err := f.clean(opts, false, compute)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "listing the servers of every project in Nova")
	after := f.get(image.ID)
	require.NotNil(t, after, "nothing is deleted when the server list fails")
	assert.Equal(t, image.UpdatedAt, after.UpdatedAt)

	// No compute endpoint at all is an error too, unless skip_in_use is off.
	_, err = f.clean(opts, false, nil)
	assert.ErrorContains(t, err, "skip_in_use is true but no compute endpoint")
}

func TestCheckModeAndDryRunReportWithoutWriting(t *testing.T) {
	f := newFixture(t)
	made := f.imagesApart("a", "b")
	opts := f.options()
	opts.KeepLatest = 0
	opts.Now = aged(made[1].CreatedAt, 13)
	opts.SkipImages = nil

	checked, err := f.clean(opts, true, nil)
	require.NoError(t, err)
	assert.True(t, checked.DryRun)
	assert.True(t, checked.Changed)
	require.NotNil(t, checked.Diff)
	assert.Equal(t, "public", checked.Diff.Before[made[0].ID].(map[string]any)["visibility"])
	assert.Equal(t, "private", checked.Diff.After[made[0].ID].(map[string]any)["visibility"])
	dry := opts
	dry.DryRun = true
	dried, err := f.clean(dry, false, nil)
	require.NoError(t, err)
	for _, image := range made {
		assert.Equal(t, image.UpdatedAt, f.get(image.ID).UpdatedAt, "check mode and dry_run write nothing")
		assert.Equal(t, images.ImageVisibilityPublic, f.get(image.ID).Visibility)
	}

	real, err := f.clean(opts, false, nil)
	require.NoError(t, err)
	assert.False(t, real.DryRun)
	checked.DryRun, dried.DryRun = false, false
	assert.Equal(t, real, checked, "check mode reports what the real run does")
	assert.Equal(t, real, dried, "dry_run reports what the real run does")
}

func TestFiltersThatSelectNothingChangeNothing(t *testing.T) {
	f := newFixture(t)
	image := f.image("not-selected", map[string]string{"build-distro": "ubuntu"}, false)
	stub, compute := stubCompute(t, nil)
	for name, opts := range map[string]Options{
		"property":     {Filters: map[string]any{runProperty: f.run, "build-distro": "debian"}},
		"name_pattern": {Filters: map[string]any{runProperty: f.run}, NamePattern: "^selected$"},
		"tags":         {Filters: map[string]any{runProperty: f.run}, Tags: []string{"no-such-tag"}},
	} {
		opts.Now = aged(image.CreatedAt, 19)
		report, err := f.clean(opts, false, compute)
		require.NoError(t, err, name)
		assert.False(t, report.Changed, name)
		assert.Empty(t, report.Kept, name)
		assert.Empty(t, report.Deleted, name)
	}
	assert.NotNil(t, f.get(image.ID))
	assert.Zero(t, stub.Requests(), "with nothing to change, Nova is not asked")

	selected := Options{Filters: map[string]any{runProperty: f.run, "build-distro": "ubuntu"}, NamePattern: "selected$",
		Now: aged(image.CreatedAt, 1)}
	report, err := f.clean(selected, false, compute)
	require.NoError(t, err)
	assert.Equal(t, []string{image.ID}, ids(report.Kept), "the same filters, matching, select it")
}

func TestOneFailedImageDoesNotStopTheOthers(t *testing.T) {
	f := newFixture(t)
	made := []images.Image{f.image("fails", nil, false), f.image("works", nil, false), f.image("hides", nil, false)}
	opts := f.options()
	opts.SkipImages = nil
	opts.Now = aged(made[2].CreatedAt, 19)
	opts.KeepLatest = 0
	proxied := testenv.FailingGlance(t, f.glance, func(r *http.Request, _ []byte) bool {
		return r.Method != http.MethodGet && strings.HasSuffix(r.URL.Path, "/images/"+made[0].ID)
	})

	report, err := New(testenv.GlanceClient(t, proxied), nil).Clean(context.Background(), opts, false)
	var failed *FailedError
	require.ErrorAs(t, err, &failed)
	assert.Contains(t, err.Error(), made[0].ID)
	assert.Equal(t, []string{made[0].ID}, ids(report.Failed))
	assert.Contains(t, report.Failed[0].Reason, "500")
	assert.ElementsMatch(t, []string{made[1].ID, made[2].ID}, ids(report.Deleted))
	assert.NotNil(t, f.get(made[0].ID))
	assert.Equal(t, report.Failed, failed.Fields()["failed_images"])

	again, err := f.clean(opts, false, nil)
	require.NoError(t, err, "a failed run is safe to repeat")
	assert.Equal(t, []string{made[0].ID}, ids(again.Deleted))
}

func TestProjectsOwnPrivateAndSharedImagesAreNeverManaged(t *testing.T) {
	// Admin credentials list every project's images, and a snapshot inherits
	// its base image's properties (the filters) and name: matching images that
	// are private or shared, and that the cleaner did not hide, are a project's
	// own and are left alone, even when a snapshot carries the hide mark of the
	// image it was made from.
	f := newFixture(t)
	private := f.withVisibility(f.image("snapshot", nil, false), images.ImageVisibilityPrivate)
	shared := f.withVisibility(f.image("shared", nil, false), images.ImageVisibilityShared)
	inherited := f.withVisibility(f.image("snapshot-of-hidden", map[string]string{HiddenProperty: "another-image-id"}, false),
		images.ImageVisibilityPrivate)
	published := f.image("published", nil, false)
	for _, method := range []string{HidePrivate, HideOSHidden} {
		opts := f.options()
		opts.HideMethod = method
		opts.Now = aged(published.CreatedAt, 19)
		report, err := f.clean(opts, true, nil)
		require.NoError(t, err, method)
		assert.Equal(t, []string{published.ID}, ids(report.Deleted), method)
		assert.Empty(t, report.Kept, method)
		assert.Empty(t, report.Hidden, method)
	}
	opts := f.options()
	opts.Now = aged(published.CreatedAt, 19)
	_, err := f.clean(opts, false, nil)
	require.NoError(t, err)
	for _, image := range []images.Image{private, shared, inherited} {
		after := f.get(image.ID)
		require.NotNil(t, after, image.Name)
		assert.Equal(t, image.Visibility, after.Visibility, image.Name)
	}
	assert.Nil(t, f.get(published.ID))
}

func TestKeepLatestCountsOnlyImagesUsersCanBoot(t *testing.T) {
	// The newest image of the group is one nobody can boot (hidden by hand
	// after a bad build, or an upload that never finished): keep_latest keeps
	// the newest image users can boot, so the group is never left without one.
	f := newFixture(t)
	good := f.image("build", map[string]string{"build-release": "jammy"}, false)
	time.Sleep(1100 * time.Millisecond)
	bad := f.image("build", map[string]string{"build-release": "jammy"}, false)
	_, err := images.Update(context.Background(), f.glance, bad.ID, images.UpdateOpts{images.ReplaceImageHidden{NewHidden: true}}).Extract()
	require.NoError(t, err)
	visibility := images.ImageVisibilityPublic
	queued, err := images.Create(context.Background(), f.glance, images.CreateOpts{Name: "build", DiskFormat: "raw", ContainerFormat: "bare",
		Visibility: &visibility, Properties: map[string]string{runProperty: f.run, "build-release": "jammy"}}).Extract()
	require.NoError(t, err)
	t.Cleanup(func() { f.remove(queued.ID) })

	for _, method := range []string{HidePrivate, HideOSHidden} {
		opts := f.options()
		opts.HideMethod = method
		opts.KeepLatest, opts.GroupBy = 1, []string{"build-release"}
		opts.Now = aged(good.CreatedAt, 13)
		report, err := f.clean(opts, true, nil)
		require.NoError(t, err, method)
		assert.Contains(t, ids(report.Kept), good.ID, method)
		assert.Contains(t, reasons(report.Kept)[good.ID], "keep_latest", method)
		assert.NotContains(t, ids(report.Hidden), good.ID, method)
	}
}
