package ingest

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageops/cloud/gomodules/internal/testenv"
	"github.com/imageops/cloud/gomodules/openstack/glance"
)

// These tests run against the real local Glance (scripts/glance.sh) with real
// disk images served over HTTP on loopback.

func serveFiles(t *testing.T, dir string) string {
	t.Helper()
	server := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(server.Close)
	return server.URL
}

func serveFile(t *testing.T, path string) string {
	return serveFiles(t, filepath.Dir(path)) + "/" + filepath.Base(path)
}

func present(name, url string) Options {
	return Options{Name: name, State: "present", SourceURL: url, DiskFormat: "qcow2", ContainerFormat: "bare",
		Visibility: "community", UpdateExistingVisibility: true}
}

func ensure(t *testing.T, glance *gophercloud.ServiceClient, opts Options, checkMode bool) (Result, error) {
	t.Helper()
	return New(testenv.GlanceClient(t, glance)).Ensure(context.Background(), opts, checkMode)
}

func TestUploadStreamsQCOW2AndIsIdempotent(t *testing.T) {
	glance := testenv.Glance(t)
	im := testenv.RealImages(t)
	name := testenv.UniqueName(t, glance, "stream")
	opts := present(name, serveFile(t, im.QCOW2))
	opts.ChecksumSHA512 = "sha512:" + testenv.SHA512File(t, im.QCOW2)
	opts.Properties = []any{"os_distro=debian", "os_version=12"}
	opts.Tags = []string{"test"}

	first, err := ensure(t, glance, opts, false)
	require.NoError(t, err)
	assert.True(t, first.Changed)
	assert.True(t, first.Uploaded)
	assert.False(t, first.Converted, "a qcow2 source needs no conversion to qcow2")
	assert.Equal(t, "active", first.Image["status"])
	assert.Equal(t, "community", first.Image["visibility"])
	assert.Equal(t, "debian", first.Image["os_distro"])
	assert.Equal(t, testenv.SHA512File(t, im.QCOW2), first.Image["os_hash_value"], "Glance stored the source bytes")
	assert.Equal(t, testenv.SHA512File(t, im.QCOW2), first.Image[SourceSHA512Property])

	second, err := ensure(t, glance, opts, false)
	require.NoError(t, err)
	assert.False(t, second.Changed)
	assert.False(t, second.Uploaded)
	assert.Equal(t, first.ID, second.ID)
	assert.Equal(t, first.Image["updated_at"], second.Image["updated_at"], "an idempotent run writes nothing")
	assert.Len(t, testenv.ImagesNamed(t, glance, name), 1)
}

func TestUploadConvertsRawAndRecordsTheSource(t *testing.T) {
	glance := testenv.Glance(t)
	im := testenv.RealImages(t)
	name := testenv.UniqueName(t, glance, "convert")
	opts := present(name, serveFile(t, im.Raw))
	opts.ChecksumSHA512 = testenv.SHA512File(t, im.Raw)
	opts.Workdir = t.TempDir()

	result, err := ensure(t, glance, opts, false)
	require.NoError(t, err)
	assert.True(t, result.Converted)
	assert.Equal(t, "qcow2", result.Image["disk_format"])
	assert.NotEqual(t, testenv.SHA512File(t, im.Raw), result.Image["os_hash_value"])
	assert.Equal(t, testenv.SHA512File(t, im.Raw), result.Image[SourceSHA512Property])
	entries, _ := filepath.Glob(filepath.Join(opts.Workdir, "*"))
	assert.Empty(t, entries, "the working directory is left empty")

	// The existing image is checked against the recorded source hash, not os_hash_value.
	again, err := ensure(t, glance, opts, false)
	require.NoError(t, err)
	assert.False(t, again.Changed)
}

func TestGzipSourceIsDecompressedButKernelsAreNot(t *testing.T) {
	glance := testenv.Glance(t)
	im := testenv.RealImages(t)

	name := testenv.UniqueName(t, glance, "gzip")
	result, err := ensure(t, glance, present(name, serveFile(t, im.QCOW2Gzip)), false)
	require.NoError(t, err)
	assert.False(t, result.Converted)
	assert.Equal(t, testenv.SHA512File(t, im.QCOW2), result.Image["os_hash_value"], "Glance holds the decompressed qcow2")

	ramdisk := testenv.UniqueName(t, glance, "initrd")
	opts := present(ramdisk, "file://"+im.Initrd)
	opts.SourceDiskFormat, opts.DiskFormat, opts.ContainerFormat = "ari", "ari", "ari"
	result, err = ensure(t, glance, opts, false)
	require.NoError(t, err)
	assert.Equal(t, "ari", result.Image["disk_format"])
	assert.Equal(t, testenv.SHA512File(t, im.Initrd), result.Image["os_hash_value"], "a ramdisk is uploaded as it comes")
}

func TestKernelsAndRamdisksByDiskFormatAloneAreUploadedAsTheyCome(t *testing.T) {
	// As openstack.cloud.image takes them: disk_format and container_format, no source_disk_format.
	glance := testenv.Glance(t)
	im := testenv.RealImages(t)
	for format, path := range map[string]string{"aki": im.Kernel, "ari": im.Initrd} {
		name := testenv.UniqueName(t, glance, format)
		opts := present(name, serveFile(t, path))
		opts.DiskFormat, opts.ContainerFormat = format, format
		result, err := ensure(t, glance, opts, false)
		require.NoError(t, err, format)
		assert.False(t, result.Converted, format)
		assert.Equal(t, format, result.Image["disk_format"])
		assert.Equal(t, testenv.SHA512File(t, path), result.Image["os_hash_value"], "%s is uploaded as it comes", format)
	}
}

func TestBadSourcesLeaveNothingInGlance(t *testing.T) {
	glance := testenv.Glance(t)
	im := testenv.RealImages(t)
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	unreachable := "http://" + closed.Addr().String() + "/disk.qcow2"
	closed.Close()

	cases := map[string]struct {
		url, checksum, format string
		wantErr               string
	}{
		"wrong checksum":    {serveFile(t, im.QCOW2), "sha256:" + strings.Repeat("ab", 32), "", "checksum"},
		"unreachable":       {unreachable, "", "", "refused"},
		"missing file":      {serveFiles(t, im.Dir) + "/nothing.qcow2", "", "", "404"},
		"text, not image":   {serveFile(t, im.Text), "", "", "not a disk image"},
		"format mismatch":   {serveFile(t, im.Raw), "", "qcow2", "source_disk_format is qcow2"},
		"bad checksum form": {serveFile(t, im.QCOW2), "md5:0123", "", "checksum"},
	}
	for label, tc := range cases {
		t.Run(label, func(t *testing.T) {
			name := testenv.UniqueName(t, glance, "bad")
			opts := present(name, tc.url)
			opts.Checksum, opts.SourceDiskFormat = tc.checksum, tc.format
			_, err := ensure(t, glance, opts, false)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
			assert.Empty(t, testenv.ImagesNamed(t, glance, name), "no image is left behind")
		})
	}
}

func TestExistingImageIsUpdatedOnlyWhereItDiffers(t *testing.T) {
	glance := testenv.Glance(t)
	im := testenv.RealImages(t)
	name := testenv.UniqueName(t, glance, "update")
	opts := present(name, serveFile(t, im.QCOW2))
	opts.Visibility = "private"
	first, err := ensure(t, glance, opts, false)
	require.NoError(t, err)

	opts.Visibility = "public"
	opts.Properties = map[string]any{"hw_architecture": "x86_64"}
	opts.Tags = []string{"new"}
	planned, err := ensure(t, glance, opts, true)
	require.NoError(t, err)
	assert.True(t, planned.Changed)
	assert.Equal(t, map[string]any{"visibility": "private", "properties": map[string]any{"hw_architecture": nil}, "tags": []string{}}, planned.Diff.Before)
	unchanged, err := images.Get(context.Background(), glance, first.ID).Extract()
	require.NoError(t, err)
	assert.Equal(t, images.ImageVisibilityPrivate, unchanged.Visibility, "check mode writes nothing")

	applied, err := ensure(t, glance, opts, false)
	require.NoError(t, err)
	assert.True(t, applied.Changed)
	assert.Equal(t, planned.Diff, applied.Diff, "check mode reports the same diff as the real run")
	assert.Equal(t, "public", applied.Image["visibility"])
	assert.Equal(t, "x86_64", applied.Image["hw_architecture"])

	opts.UpdateExistingVisibility = false
	opts.Visibility = "shared"
	kept, err := ensure(t, glance, opts, false)
	require.NoError(t, err)
	assert.False(t, kept.Changed, "update_existing_visibility: false leaves visibility alone")
}

func TestChecksumMismatchOfExistingImageFailsWithAdvice(t *testing.T) {
	glance := testenv.Glance(t)
	im := testenv.RealImages(t)
	name := testenv.UniqueName(t, glance, "mismatch")
	opts := present(name, serveFile(t, im.QCOW2))
	_, err := ensure(t, glance, opts, false)
	require.NoError(t, err)

	opts.ChecksumSHA512 = strings.Repeat("0", 128)
	_, err = ensure(t, glance, opts, false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "does not match")
	assert.Contains(t, err.Error(), "openstack image delete")
}

func TestDuplicateNames(t *testing.T) {
	glance := testenv.Glance(t)
	im := testenv.RealImages(t)
	name := testenv.UniqueName(t, glance, "dup")
	for _, path := range []string{im.QCOW2, im.Raw} {
		visibility := images.ImageVisibilityPrivate
		created, err := images.Create(context.Background(), glance, images.CreateOpts{Name: name, DiskFormat: "qcow2",
			ContainerFormat: "bare", Visibility: &visibility}).Extract()
		require.NoError(t, err)
		file := openFile(t, path)
		require.NoError(t, imagedataUpload(glance, created.ID, file))
	}
	_, err := ensure(t, glance, present(name, serveFile(t, im.QCOW2)), false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "hold different data")
	for _, image := range testenv.ImagesNamed(t, glance, name) {
		assert.Contains(t, err.Error(), image.ID)
	}
}

// createQueued creates an image record without data, as an upload killed
// (SIGKILL, OOM, a reboot) before it could clean up leaves it.
func createQueued(t *testing.T, glance *gophercloud.ServiceClient, name string, properties map[string]string) string {
	t.Helper()
	visibility := images.ImageVisibilityCommunity
	created, err := images.Create(context.Background(), glance, images.CreateOpts{Name: name, DiskFormat: "qcow2",
		ContainerFormat: "bare", Visibility: &visibility, Properties: properties}).Extract()
	require.NoError(t, err)
	require.Equal(t, images.ImageStatusQueued, created.Status)
	return created.ID
}

func TestAnUploadKilledBeforeItsCleanupIsRedone(t *testing.T) {
	sc := testenv.Glance(t)
	im := testenv.RealImages(t)
	name := testenv.UniqueName(t, sc, "killed")
	opts := present(name, serveFile(t, im.QCOW2))
	leftover := createQueued(t, sc, name, map[string]string{SourceURLProperty: opts.SourceURL})
	// The leftover is stale once it shows no progress for StaleAfter; until
	// then it may be another run's upload, which the run waits for.
	ensurer := New(testenv.GlanceClient(t, sc, glance.WithStaleAfter(glance.MinStaleAfter)))

	checked, err := ensurer.Ensure(context.Background(), opts, true)
	require.NoError(t, err)
	assert.True(t, checked.Changed)
	assert.True(t, checked.Uploaded, "check mode reports the upload to come")

	result, err := ensurer.Ensure(context.Background(), opts, false)
	require.NoError(t, err)
	assert.True(t, result.Uploaded)
	assert.NotEqual(t, leftover, result.ID)
	assert.Equal(t, "active", result.Image["status"])
	assert.Contains(t, strings.Join(result.Warnings, " "), leftover)
	named := testenv.ImagesNamed(t, sc, name)
	require.Len(t, named, 1, "the leftover is deleted")
	assert.Equal(t, result.ID, named[0].ID)
}

func TestAnImageWithoutDataIsNeverTakenForTheImage(t *testing.T) {
	// Not created by this module (no provenance property): left alone, with advice.
	glance := testenv.Glance(t)
	im := testenv.RealImages(t)
	name := testenv.UniqueName(t, glance, "queued")
	queued := createQueued(t, glance, name, nil)

	_, err := ensure(t, glance, present(name, serveFile(t, im.QCOW2)), false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), queued)
	assert.Contains(t, err.Error(), "queued")
	assert.Contains(t, err.Error(), "openstack image delete "+queued)
	assert.Len(t, testenv.ImagesNamed(t, glance, name), 1)
}

func TestStateAbsentDeletesEveryImageOfTheName(t *testing.T) {
	glance := testenv.Glance(t)
	im := testenv.RealImages(t)
	name := testenv.UniqueName(t, glance, "absent")
	_, err := ensure(t, glance, present(name, serveFile(t, im.QCOW2)), false)
	require.NoError(t, err)

	gone := Options{Name: name, State: "absent"}
	planned, err := ensure(t, glance, gone, true)
	require.NoError(t, err)
	assert.True(t, planned.Changed)
	assert.Len(t, testenv.ImagesNamed(t, glance, name), 1, "check mode deletes nothing")

	result, err := ensure(t, glance, gone, false)
	require.NoError(t, err)
	assert.True(t, result.Changed)
	assert.Empty(t, testenv.ImagesNamed(t, glance, name))

	again, err := ensure(t, glance, gone, false)
	require.NoError(t, err)
	assert.False(t, again.Changed)
}

func TestGlanceDownIsAClearError(t *testing.T) {
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	endpoint := "http://" + closed.Addr().String() + "/"
	closed.Close()
	down := &gophercloud.ServiceClient{ProviderClient: &gophercloud.ProviderClient{HTTPClient: http.Client{}},
		Endpoint: endpoint, ResourceBase: endpoint + "v2/"}
	_, err = New(testenv.GlanceClient(t, down)).Ensure(context.Background(), present("any", "http://127.0.0.1:1/x"), false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "listing images named \"any\" in Glance at "+endpoint)
	assert.Contains(t, err.Error(), "connection refused")
}

func TestBatchKeepsGoingAndHandsBackIDs(t *testing.T) {
	glance := testenv.Glance(t)
	im := testenv.RealImages(t)
	good := testenv.UniqueName(t, glance, "batch-good")
	kernel := testenv.UniqueName(t, glance, "batch-kernel")
	bad := testenv.UniqueName(t, glance, "batch-bad")
	batch := BatchOptions{
		Images: map[string]map[string]any{
			"disk":   {"name": good, "source_url": serveFile(t, im.QCOW2)},
			"kernel": {"name": kernel, "source_url": "file://" + im.Kernel, "source_disk_format": "aki", "disk_format": "aki", "container_format": "aki"},
			"broken": {"name": bad, "source_url": serveFile(t, im.Text)},
		},
		Properties: []any{"site=test", "os_distro=linux"},
		Visibility: "public",
		Jobs:       2,
	}
	specs, err := batch.Specs()
	require.NoError(t, err)
	result, err := New(testenv.GlanceClient(t, glance)).EnsureAll(context.Background(), specs, 2, false)
	var batchErr *BatchError
	require.ErrorAs(t, err, &batchErr)
	assert.Contains(t, err.Error(), "broken: ")
	assert.Len(t, result.ImageIDs, 2)
	assert.Equal(t, "public", result.Images["disk"].Image["visibility"])
	assert.Equal(t, "test", result.Images["kernel"].Image["site"])
	assert.Equal(t, "aki", result.Images["kernel"].Image["disk_format"])
	assert.Empty(t, testenv.ImagesNamed(t, glance, bad))

	delete(batch.Images, "broken")
	specs, err = batch.Specs()
	require.NoError(t, err)
	rerun, err := New(testenv.GlanceClient(t, glance)).EnsureAll(context.Background(), specs, 2, false)
	require.NoError(t, err)
	assert.False(t, rerun.Changed)
	assert.Equal(t, result.ImageIDs, rerun.ImageIDs)
}

func TestISOIsUploadedAsAnISO(t *testing.T) {
	glance := testenv.Glance(t)
	if _, err := exec.LookPath("xorriso"); err != nil {
		if testenv.RequireServices() {
			t.Fatal("xorriso is needed to make an ISO image (scripts/install-deps.sh installs it)")
		}
		t.Skip("no xorriso")
	}
	dir := t.TempDir()
	iso := filepath.Join(dir, "netboot.iso")
	out, err := exec.Command("xorriso", "-as", "mkisofs", "-quiet", "-o", iso, testenv.NetbootDir).CombinedOutput()
	require.NoError(t, err, string(out))
	name := testenv.UniqueName(t, glance, "iso")
	result, err := ensure(t, glance, present(name, serveFile(t, iso)), false)
	require.NoError(t, err)
	assert.False(t, result.Converted, "an ISO is not converted to the default qcow2")
	assert.Equal(t, "iso", result.Image["disk_format"])
	assert.Equal(t, testenv.SHA512File(t, iso), result.Image["os_hash_value"])
}
