package glance_test

import (
	"bytes"
	"context"
	"crypto/sha512"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageops/cloud/gomodules/internal/testenv"
	"github.com/imageops/cloud/gomodules/openstack/glance"
)

// These run against the real Keystone + Glance of scripts/cloud.sh.

// uploadAs creates an image of the given visibility with data, through the
// Glance layer of clients, and deletes it when the test ends.
func uploadAs(t *testing.T, client *glance.Client, name string, visibility images.ImageVisibility, data []byte) *images.Image {
	t.Helper()
	image, err := client.CreateAndUpload(context.Background(), glance.Upload{
		Create: images.CreateOpts{Name: name, DiskFormat: "raw", ContainerFormat: "bare", Visibility: &visibility},
		Open: func(context.Context) (*glance.Payload, error) {
			return &glance.Payload{Reader: bytes.NewReader(data)}, nil
		},
		Finish: func(*images.Image) images.UpdateOpts { return nil },
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.Delete(context.Background(), image.ID) })
	return image
}

func newClient(t *testing.T, cloud string, opts ...glance.Option) *glance.Client {
	t.Helper()
	client, err := testenv.KeystoneCloud(t, cloud).Glance(opts...)
	require.NoError(t, err)
	return client
}

func TestLookupStaysInTheProject(t *testing.T) {
	ctx := context.Background()
	other := testenv.KeystoneCloud(t, "other")
	otherGlance, err := other.Glance()
	require.NoError(t, err)
	admin := newClient(t, "admin")
	name := testenv.UniqueName(t, otherGlance.ServiceClient(), "scoped")
	private := uploadAs(t, otherGlance, name, images.ImageVisibilityPrivate, []byte("other's private data"))
	assert.Equal(t, other.ProjectID(), private.Owner)

	// Glance shows the admin every project's images; the layer does not.
	found, err := admin.FindByName(ctx, name)
	require.NoError(t, err)
	assert.Empty(t, glance.IDs(found), "an admin's lookup found another project's private image")
	found, err = admin.FindByName(ctx, name, glance.InEveryVisibility())
	require.NoError(t, err)
	assert.Empty(t, glance.IDs(found))

	// Named with WithOwner, the admin finds it.
	named := newClient(t, "admin", glance.WithOwner(other.ProjectID()))
	found, err = named.FindByName(ctx, name)
	require.NoError(t, err)
	assert.Equal(t, []string{private.ID}, idsOf(found))

	// Private images are never offered to other projects; community ones are, read only.
	demo := newClient(t, "demo")
	shared, err := demo.FindShared(ctx, name)
	require.NoError(t, err)
	assert.Empty(t, shared)
	community := uploadAs(t, otherGlance, name+"-community", images.ImageVisibilityCommunity, []byte("community data"))
	shared, err = demo.FindShared(ctx, name+"-community")
	require.NoError(t, err)
	assert.Equal(t, []string{community.ID}, idsOf(shared))
	found, err = demo.FindByName(ctx, name+"-community")
	require.NoError(t, err)
	assert.Empty(t, found, "FindByName must not return another project's community image")
}

func TestOwnerByName(t *testing.T) {
	ctx := context.Background()
	admin := testenv.KeystoneCloud(t, "admin")
	other := testenv.KeystoneCloud(t, "other")
	client, err := admin.GlanceOf(ctx, "other")
	require.NoError(t, err)
	assert.Equal(t, other.ProjectID(), client.Owner())
	// An admin's image for another project is that project's.
	image := uploadAs(t, client, testenv.UniqueName(t, client.ServiceClient(), "for-other"), images.ImageVisibilityPrivate, []byte("data"))
	assert.Equal(t, other.ProjectID(), image.Owner)

	_, err = admin.GlanceOf(ctx, "no-such-project")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `owner: finding project "no-such-project" in Keystone`)
	assert.Contains(t, err.Error(), "no project has that ID or name")

	demo := testenv.KeystoneCloud(t, "demo")
	_, err = demo.GlanceOf(ctx, "other")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Keystone lets only admins (or readers) look at other projects")
}

func TestImport(t *testing.T) {
	ctx := context.Background()
	client := newClient(t, "demo")
	data := bytes.Repeat([]byte("imageops import "), 1<<16)
	sum := sha512.Sum512(data)
	source := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/data.raw" {
			http.NotFound(w, r)
			return
		}
		// Glance's web-download needs a Content-Length (Zed fails on chunked answers).
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		_, _ = w.Write(data)
	}))
	t.Cleanup(source.Close)

	for _, method := range []string{glance.ImportWebDownload, glance.ImportGlanceDirect} {
		t.Run(method, func(t *testing.T) {
			name := testenv.UniqueName(t, client.ServiceClient(), "import")
			visibility := images.ImageVisibilityPrivate
			image, err := client.CreateAndImport(ctx, glance.Import{
				Create: images.CreateOpts{Name: name, DiskFormat: "raw", ContainerFormat: "bare", Visibility: &visibility},
				Method: method, URI: source.URL + "/data.raw", SHA512: hex.EncodeToString(sum[:]),
				Stage: func(context.Context) (*glance.Payload, error) {
					return &glance.Payload{Reader: bytes.NewReader(data)}, nil
				},
				Finish: func(*images.Image) images.UpdateOpts {
					return images.UpdateOpts{images.UpdateImageProperty{Op: images.AddOp, Name: "imported_by", Value: "test"}}
				},
			})
			require.NoError(t, err)
			t.Cleanup(func() { _ = client.Delete(ctx, image.ID) })
			assert.Equal(t, images.ImageStatusActive, image.Status)
			_, value := glance.Hash(image)
			assert.Equal(t, hex.EncodeToString(sum[:]), value)
			recorded, _ := glance.Property(image, "imported_by")
			assert.Equal(t, "test", recorded)
		})
	}

	t.Run("a failing task leaves no image", func(t *testing.T) {
		name := testenv.UniqueName(t, client.ServiceClient(), "import-fails")
		_, err := client.CreateAndImport(ctx, glance.Import{
			Create: images.CreateOpts{Name: name, DiskFormat: "raw", ContainerFormat: "bare"},
			Method: glance.ImportWebDownload, URI: source.URL + "/missing.raw",
			Finish: func(*images.Image) images.UpdateOpts { return nil },
		})
		require.ErrorIs(t, err, glance.ErrImportFailed)
		assert.Contains(t, err.Error(), "Glance's import task failed: ")
		assert.Empty(t, testenv.ImagesNamed(t, client.ServiceClient(), name))
	})

	t.Run("data that does not match leaves no image", func(t *testing.T) {
		name := testenv.UniqueName(t, client.ServiceClient(), "import-mismatch")
		_, err := client.CreateAndImport(ctx, glance.Import{
			Create: images.CreateOpts{Name: name, DiskFormat: "raw", ContainerFormat: "bare"},
			Method: glance.ImportWebDownload, URI: source.URL + "/data.raw", SHA512: "00" + hex.EncodeToString(sum[1:]),
			Finish: func(*images.Image) images.UpdateOpts { return nil },
		})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "Glance's import stored data with sha512 "+hex.EncodeToString(sum[:]))
		assert.Empty(t, testenv.ImagesNamed(t, client.ServiceClient(), name))
	})
}

func idsOf(found []images.Image) []string {
	out := make([]string, len(found))
	for i, image := range found {
		out[i] = image.ID
	}
	return out
}
