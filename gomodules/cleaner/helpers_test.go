package cleaner

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/stretchr/testify/require"

	"github.com/imageops/cloud/gomodules/internal/testenv"
)

// runProperty marks the images of one test, so that tests running at the
// same time against the same Glance never manage each other's images.
const runProperty = "imageops_test_run"

// fixture makes real images in the local Glance for one test and deletes
// them when the test ends, whatever the cleaner did to them.
type fixture struct {
	t      *testing.T
	glance *gophercloud.ServiceClient
	run    string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	glance := testenv.Glance(t)
	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix)
	return &fixture{t: t, glance: glance, run: t.Name() + "-" + hex.EncodeToString(suffix)}
}

// image creates an active image (a 1 KiB raw disk) with the run's property
// and props, protected if asked, and returns it as Glance shows it.
func (f *fixture) image(name string, props map[string]string, protected bool) images.Image {
	f.t.Helper()
	ctx := context.Background()
	properties := map[string]string{runProperty: f.run}
	for key, value := range props {
		properties[key] = value
	}
	visibility := images.ImageVisibilityPublic
	created, err := images.Create(ctx, f.glance, images.CreateOpts{Name: name, DiskFormat: "raw", ContainerFormat: "bare",
		Visibility: &visibility, Properties: properties}).Extract()
	require.NoError(f.t, err)
	f.t.Cleanup(func() { f.remove(created.ID) })
	require.NoError(f.t, imagedata.Upload(ctx, f.glance, created.ID, bytes.NewReader(make([]byte, 1024))).ExtractErr())
	if protected {
		_, err = images.Update(ctx, f.glance, created.ID, images.UpdateOpts{images.ReplaceImageProtected{NewProtected: true}}).Extract()
		require.NoError(f.t, err)
	}
	image, err := images.Get(ctx, f.glance, created.ID).Extract()
	require.NoError(f.t, err)
	return *image
}

// imagesApart creates images one after another, each created at least a
// second after the previous one (Glance's created_at has whole seconds).
func (f *fixture) imagesApart(names ...string) []images.Image {
	f.t.Helper()
	out := make([]images.Image, len(names))
	for i, name := range names {
		if i > 0 {
			time.Sleep(1100 * time.Millisecond)
		}
		out[i] = f.image(name, nil, false)
	}
	return out
}

// withVisibility sets an image's visibility and returns it as Glance shows it.
func (f *fixture) withVisibility(image images.Image, visibility images.ImageVisibility) images.Image {
	f.t.Helper()
	updated, err := images.Update(context.Background(), f.glance, image.ID,
		images.UpdateOpts{images.UpdateVisibility{Visibility: visibility}}).Extract()
	require.NoError(f.t, err)
	return *updated
}

func (f *fixture) remove(id string) {
	ctx := context.Background()
	image, err := images.Get(ctx, f.glance, id).Extract()
	if err != nil {
		return // already deleted
	}
	if image.Protected {
		_, _ = images.Update(ctx, f.glance, id, images.UpdateOpts{images.ReplaceImageProtected{NewProtected: false}}).Extract()
	}
	_ = images.Delete(ctx, f.glance, id).ExtractErr()
}

// get returns the image as Glance now shows it, or nil when it is gone.
func (f *fixture) get(id string) *images.Image {
	f.t.Helper()
	image, err := images.Get(context.Background(), f.glance, id).Extract()
	if gophercloud.ResponseCodeIs(err, 404) {
		return nil
	}
	require.NoError(f.t, err)
	return image
}

// options manages this test's images only, without Nova.
func (f *fixture) options() Options {
	off := false
	return Options{Filters: map[string]any{runProperty: f.run}, SkipInUse: &off}
}

// clean runs the cleaner against the local Glance (compute: nil unless given).
func (f *fixture) clean(opts Options, checkMode bool, compute ComputeFunc) (Report, error) {
	f.t.Helper()
	return New(testenv.GlanceClient(f.t, f.glance), compute).Clean(context.Background(), opts, checkMode)
}

// aged returns a reference time at which an image created at created is
// months calendar months and a day old.
func aged(created time.Time, months int) string {
	return created.AddDate(0, months, 1).UTC().Format(time.RFC3339)
}

func ids(entries []Entry) []string {
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.ID
	}
	return out
}

func reasons(entries []Entry) map[string]string {
	out := make(map[string]string, len(entries))
	for _, e := range entries {
		out[e.ID] = e.Reason
	}
	return out
}
