package ingest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageops/cloud/gomodules/internal/testenv"
	"github.com/imageops/cloud/gomodules/openstack/glance"
)

// Runs of the same image at once, each with its own client as separate
// hosts would have, end with one image; every run succeeds with its ID.
func TestConcurrentRunsEndWithOneImage(t *testing.T) {
	sc := testenv.Glance(t)
	im := testenv.RealImages(t)
	for _, runs := range []int{2, 3} {
		for format, source := range map[string]string{"qcow2": im.QCOW2, "raw": im.QCOW2, "vmdk": im.QCOW2} {
			name := testenv.UniqueName(t, sc, "concurrent")
			opts := present(name, serveFile(t, source))
			opts.DiskFormat = format // raw, vmdk: each run converts (a VMDK's CID is random)
			ids := make([]string, runs)
			errs := make([]error, runs)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range runs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					result, err := New(testenv.GlanceClient(t, sc, testenv.Patient...)).Ensure(context.Background(), opts, false)
					ids[i], errs[i] = result.ID, err
				}()
			}
			close(start)
			wg.Wait()
			for i := range runs {
				require.NoError(t, errs[i], "run %d of %d (%s)", i, runs, format)
				assert.Equal(t, ids[0], ids[i], "every run hands back the same ID (%s)", format)
			}
			named := testenv.ImagesNamed(t, sc, name)
			require.Len(t, named, 1, "%d runs at once (%s) leave one image", runs, format)
			assert.Equal(t, ids[0], named[0].ID)
			assert.True(t, glance.Complete(&named[0]))
		}
	}
}

// An active image this collection created whose upload was never verified
// (the run died before recording its provenance) is never used as it is:
// once stale it is replaced.
func TestAnUnverifiedImageOfOursIsReplaced(t *testing.T) {
	sc := testenv.Glance(t)
	im := testenv.RealImages(t)
	name := testenv.UniqueName(t, sc, "unverified")
	opts := present(name, serveFile(t, im.QCOW2))
	created, err := images.Create(context.Background(), sc, images.CreateOpts{Name: name, DiskFormat: "qcow2", ContainerFormat: "bare",
		Visibility: ptr(images.ImageVisibilityCommunity), Properties: map[string]string{SourceURLProperty: opts.SourceURL}}).Extract()
	require.NoError(t, err)
	require.NoError(t, imagedataUpload(sc, created.ID, openFile(t, im.Kernel)), "data that is not the source's")

	result, err := New(testenv.GlanceClient(t, sc, glance.WithStaleAfter(glance.MinStaleAfter))).Ensure(context.Background(), opts, false)
	require.NoError(t, err)
	assert.NotEqual(t, created.ID, result.ID)
	assert.True(t, result.Uploaded)
	assert.Contains(t, result.Warnings[0], created.ID)
	named := testenv.ImagesNamed(t, sc, name)
	require.Len(t, named, 1)
	assert.Equal(t, testenv.SHA512File(t, im.QCOW2), named[0].Properties[SourceSHA512Property])
}

// A run waits for another run's upload in progress and uses its image.
func TestARunWaitsForAnUploadInProgress(t *testing.T) {
	sc := testenv.Glance(t)
	im := testenv.RealImages(t)
	name := testenv.UniqueName(t, sc, "waits")
	opts := present(name, serveFile(t, im.QCOW2))
	// The other run: its image, created, then filled a moment later.
	other, err := images.Create(context.Background(), sc, images.CreateOpts{Name: name, DiskFormat: "qcow2", ContainerFormat: "bare",
		Visibility: ptr(images.ImageVisibilityCommunity), Properties: map[string]string{SourceURLProperty: opts.SourceURL}}).Extract()
	require.NoError(t, err)
	go func() {
		_ = imagedata.Upload(context.Background(), sc, other.ID, openFile(t, im.QCOW2)).ExtractErr()
		_, _ = images.Update(context.Background(), sc, other.ID, images.UpdateOpts{images.UpdateImageProperty{Op: images.AddOp,
			Name: SourceSHA512Property, Value: testenv.SHA512File(t, im.QCOW2)}}).Extract()
	}()
	result, err := New(testenv.GlanceClient(t, sc)).Ensure(context.Background(), opts, false)
	require.NoError(t, err)
	assert.Equal(t, other.ID, result.ID)
	assert.False(t, result.Uploaded)
	assert.Len(t, testenv.ImagesNamed(t, sc, name), 1)
}

// A name Glance reads as a filter is found again: the second run writes nothing.
func TestAnInNameIsIdempotent(t *testing.T) {
	sc := testenv.Glance(t)
	im := testenv.RealImages(t)
	base := testenv.UniqueName(t, sc, "x")
	name := "in:" + base + ",other"
	t.Cleanup(func() {
		for _, image := range testenv.ImagesNamed(t, sc, name) {
			_ = images.Delete(context.Background(), sc, image.ID).ExtractErr()
		}
	})
	opts := present(name, serveFile(t, im.QCOW2))
	first, err := ensure(t, sc, opts, false)
	require.NoError(t, err)
	second, err := ensure(t, sc, opts, false)
	require.NoError(t, err)
	assert.False(t, second.Changed)
	assert.Equal(t, first.ID, second.ID)
	assert.Len(t, testenv.ImagesNamed(t, sc, name), 1)
}

// A name Glance would refuse fails before anything is downloaded.
func TestNamesGlanceRefusesFailBeforeTheDownload(t *testing.T) {
	sc := testenv.Glance(t)
	var hits atomic.Int32
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { hits.Add(1) }))
	t.Cleanup(server.Close)
	for _, name := range []string{string(make([]byte, 256)), "ubuntu-\U0001F680"} {
		_, err := ensure(t, sc, present(name, server.URL+"/image.qcow2"), false)
		require.ErrorIs(t, err, glance.ErrInvalidName)
		assert.Contains(t, err.Error(), "name: ")
	}
	assert.Zero(t, hits.Load())
}

func ptr[T any](v T) *T { return &v }
