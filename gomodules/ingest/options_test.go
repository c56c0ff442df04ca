package ingest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageops/cloud/gomodules/ansible"
	"github.com/imageops/cloud/gomodules/fetch"
	"github.com/imageops/cloud/gomodules/openstack/glance"
)

func TestPropertiesAcceptDictOrKeyValueList(t *testing.T) {
	fromList, err := parseProperties([]any{"os_distro=ubuntu", "os_version=22.04", "note=a=b"})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"os_distro": "ubuntu", "os_version": "22.04", "note": "a=b"}, fromList)

	fromDict, err := parseProperties(map[string]any{"hw_qemu_guest_agent": true, "hw_disk_bus": "scsi", "cores": int64(2)})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"hw_qemu_guest_agent": "true", "hw_disk_bus": "scsi", "cores": "2"}, fromDict)
}

func TestBadPropertiesNameTheEntry(t *testing.T) {
	_, err := parseProperties([]any{"os_distro=ubuntu", "no-equals-sign"})
	assert.EqualError(t, err, `properties[1] is no-equals-sign; expected a "key=value" string`)
	_, err = parseProperties("os_distro=ubuntu")
	assert.ErrorContains(t, err, "must be a dict or a list")
	_, err = parseProperties(map[string]any{"visibility": "public"})
	assert.ErrorContains(t, err, `"visibility" is one of Glance's own image fields`)
}

func TestNormalizeRejectsWhatTheSpecCannot(t *testing.T) {
	base := Options{Name: "x", State: "present", SourceURL: "http://127.0.0.1/x"}
	_, err := base.normalize()
	require.NoError(t, err)

	noURL := base
	noURL.SourceURL = ""
	_, err = noURL.normalize()
	assert.ErrorContains(t, err, "source_url is required when state is present")

	badSum := base
	badSum.Checksum = "md5:d41d8"
	_, err = badSum.normalize()
	assert.ErrorContains(t, err, "checksum")

	badDecompress := base
	badDecompress.Decompress = "sometimes"
	_, err = badDecompress.normalize()
	assert.EqualError(t, err, "decompress is sometimes; expected auto, true or false")

	kube := base
	kube.KubernetesVersion = "v1.30.3"
	d, err := kube.normalize()
	require.NoError(t, err)
	assert.Equal(t, "v1.30.3", d.properties["kube_version"])
}

func TestDecompressModes(t *testing.T) {
	for value, want := range map[any]fetch.DecompressMode{nil: fetch.DecompressAuto, "auto": fetch.DecompressAuto,
		true: fetch.DecompressAlways, "yes": fetch.DecompressAlways, false: fetch.DecompressNever, "no": fetch.DecompressNever} {
		got, err := parseDecompress(value)
		require.NoError(t, err)
		assert.Equal(t, want, got, "decompress %v", value)
	}
}

func existingImage() *images.Image {
	return &images.Image{ID: "id-1", Name: "x", Visibility: images.ImageVisibilityPrivate, Tags: []string{"a"},
		MinDiskGigabytes: 1, Properties: map[string]any{"os_distro": "debian", "os_hash_algo": "sha512",
			"os_hash_value": strings.Repeat("1", 128)}, CreatedAt: time.Unix(0, 0)}
}

func TestPlannedUpdatesOnlyWhereDifferent(t *testing.T) {
	d := desired{Options: Options{Visibility: "private", UpdateExistingVisibility: true, Tags: []string{"a"}},
		properties: map[string]string{"os_distro": "debian"}}
	assert.Empty(t, plannedUpdates(d, existingImage()), "an image as desired needs no update")

	minDisk, protected := 10, true
	d = desired{Options: Options{Visibility: "public", UpdateExistingVisibility: true, Tags: []string{"b", "a"},
		MinDisk: &minDisk, Protected: &protected}, properties: map[string]string{"os_distro": "ubuntu", "new": "1"}}
	updates := plannedUpdates(d, existingImage())
	diff := diffOf(updates)
	assert.Equal(t, map[string]any{"visibility": "private", "properties": map[string]any{"new": nil, "os_distro": "debian"},
		"tags": []string{"a"}, "min_disk": 1, "protected": false}, diff.Before)
	assert.Equal(t, map[string]any{"visibility": "public", "properties": map[string]any{"new": "1", "os_distro": "ubuntu"},
		"tags": []string{"a", "b"}, "min_disk": 10, "protected": true}, diff.After)
}

func TestVerifyExistingPrefersTheRecordedSourceHash(t *testing.T) {
	image := existingImage()
	d := desired{Options: Options{Name: "x"}}
	right := []fetch.Checksum{{Algorithm: fetch.SHA512, Hex: strings.Repeat("1", 128)}}
	assert.NoError(t, verifyExisting(d, image, right), "os_hash_value is compared when no source hash is recorded")

	image.Properties[SourceSHA512Property] = strings.Repeat("2", 128)
	err := verifyExisting(d, image, right)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "property imageops_source_sha512 is "+strings.Repeat("2", 128))

	sha256Only := []fetch.Checksum{{Algorithm: fetch.SHA256, Hex: strings.Repeat("3", 64)}}
	assert.NoError(t, verifyExisting(d, existingImage(), sha256Only), "nothing in Glance to compare a sha256 with")
}

func TestSourceFormatIsDetectedAndChecked(t *testing.T) {
	qcow2Header := append([]byte("QFI\xfb\x00\x00\x00\x03"), make([]byte, 504)...)
	format, err := sourceFormatOf(desired{}, qcow2Header)
	require.NoError(t, err)
	assert.Equal(t, "qcow2", format)

	_, err = sourceFormatOf(desired{Options: Options{SourceURL: "http://u:secret@h/x", SourceDiskFormat: "qcow2"}}, make([]byte, 512))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "source_disk_format is qcow2 but the data at")
	assert.NotContains(t, err.Error(), "secret")

	_, err = sourceFormatOf(desired{}, []byte("<!DOCTYPE html><html><body>Sign in</body></html>"))
	assert.ErrorContains(t, err, "not a disk image: it starts with text")

	format, err = sourceFormatOf(desired{Options: Options{SourceDiskFormat: "ari"}}, []byte("070701 cpio text"))
	require.NoError(t, err)
	assert.Equal(t, "ari", format, "ramdisks that look like one are taken as declared")

	shadow := []byte("root:$y$j9T$secretsalt$hash:19000:0:99999:7:::\n")
	_, err = sourceFormatOf(desired{Options: Options{SourceDiskFormat: "aki"}}, shadow)
	require.Error(t, err, "a text file is no kernel")
	assert.Contains(t, err.Error(), "is not a kernel")
	assert.NotContains(t, err.Error(), "root", "the error never quotes the source")
	_, err = sourceFormatOf(desired{}, shadow)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "root", "the error never quotes the source")

	bzImage := make([]byte, 0x440)
	copy(bzImage[0x202:], "HdrS")
	format, err = sourceFormatOf(desired{Options: Options{SourceDiskFormat: "aki"}}, bzImage)
	require.NoError(t, err)
	assert.Equal(t, "aki", format)

	_, err = sourceFormatOf(desired{Options: Options{SourceDiskFormat: "raw"}}, qcow2Header)
	assert.ErrorContains(t, err, "source_disk_format is raw but the data at  is qcow2", "a qcow2 is never uploaded as raw data")
}

func TestSectorCheckedRejectsPartialSectors(t *testing.T) {
	buf := make([]byte, 4096)
	ok := &rawChecked{r: strings.NewReader(strings.Repeat("x", 1024)), max: 1024, sectors: true}
	_, err := readAll(ok, buf)
	assert.NoError(t, err)
	odd := &rawChecked{r: strings.NewReader(strings.Repeat("x", 1000)), url: "http://h/x", max: 1024, sectors: true}
	_, err = readAll(odd, buf)
	assert.EqualError(t, err, "the data at http://h/x is not a disk image: it is 1000 bytes, not a whole number of 512-byte sectors")
	big := &rawChecked{r: strings.NewReader(strings.Repeat("x", 2048)), url: "http://h/x", max: 1024, sectors: true}
	_, err = readAll(big, buf)
	assert.EqualError(t, err, "the data at http://h/x is more than 1024 bytes (max_virtual_size), the virtual size of a raw image being its size")
}

func readAll(r interface{ Read([]byte) (int, error) }, buf []byte) (int, error) {
	total := 0
	for {
		n, err := r.Read(buf)
		total += n
		if err != nil {
			if err.Error() == "EOF" {
				return total, nil
			}
			return total, err
		}
	}
}

func TestBatchSpecsMergeDefaultsAndNameTheKey(t *testing.T) {
	public := "public"
	batch := BatchOptions{
		Images: map[string]map[string]any{
			"a": {"name": "A", "source_url": "http://h/a", "properties": []any{"site=own"}},
			"b": {"name": "B", "source_url": "http://h/b", "visibility": "private", "disk_format": "raw"},
		},
		Properties: []any{"site=common", "team=ops"}, Visibility: public, DiskFormat: "qcow2", Jobs: 4,
	}
	specs, err := batch.Specs()
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"site": "common", "team": "ops"}, specs["a"].Properties,
		"the batch's (community_images_custom_properties) win over a spec's, as in azimuth-ops")
	assert.Equal(t, "public", specs["a"].Visibility)
	assert.Equal(t, "private", specs["b"].Visibility, "a spec's own visibility wins")
	assert.Equal(t, "raw", specs["b"].DiskFormat, "a spec's own disk_format wins")
	assert.Equal(t, "qcow2", specs["a"].DiskFormat)

	batch.Images["c"] = map[string]any{"name": "C", "source_url": "http://h/c", "colour": "red"}
	batch.Images["d"] = map[string]any{"name": "D", "source_url": "http://h/d", "min_disk": "lots"}
	_, err = batch.Specs()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "images.c: Unsupported parameters for (imageops.cloud.community_image) module: colour.")
	assert.Contains(t, err.Error(), "images.d: argument 'min_disk' is of type str")
}

func TestNumericPropertiesKeepTheirDigits(t *testing.T) {
	// The way Ansible hands properties over: JSON numbers, decoded by the module runtime.
	args, err := ansible.ParseArgs([]byte(`{"name": "x", "source_url": "http://127.0.0.1/x",
		"properties": {"build": 20240901, "os_version": 22.04, "cores": 2, "ratio": 0.000015}}`))
	require.NoError(t, err)
	var got map[string]string
	result := ansible.Execute(context.Background(), ImageSpec, args, func(_ context.Context, m *ansible.Module) (any, error) {
		var opts Options
		if err := m.Decode(&opts); err != nil {
			return nil, err
		}
		d, err := opts.normalize()
		got = d.properties
		return nil, err
	})
	require.Nil(t, result["failed"], result["msg"])
	assert.Equal(t, map[string]string{"build": "20240901", "os_version": "22.04", "cores": "2", "ratio": "0.000015"}, got)
}

func TestBatchKeysNamingOneImageMustAgree(t *testing.T) {
	batch := BatchOptions{Images: map[string]map[string]any{
		"a":     {"name": "Same", "source_url": "http://h/a", "properties": []any{"os_distro=debian"}},
		"alias": {"name": "Same", "source_url": "http://h/a", "properties": map[string]any{"os_distro": "debian"}},
		"other": {"name": "Other", "source_url": "http://h/o"},
	}, Jobs: 4}
	_, err := batch.Specs()
	require.NoError(t, err, "two keys with the same spec are one image")

	batch.Images["copy"] = map[string]any{"name": "Same", "source_url": "http://h/b", "properties": []any{"os_distro=ubuntu"}}
	_, err = batch.Specs()
	require.Error(t, err)
	assert.Equal(t, `images.a and images.copy both name the image "Same" but differ in properties, source_url; `+
		`give each image its own name`, err.Error())
}

func TestAnExistingImageInAnotherDiskFormatIsReported(t *testing.T) {
	existing := &images.Image{ID: "id-1", DiskFormat: "qcow2"}
	d := desired{Options: Options{Name: "debian", DiskFormat: "raw"}}
	assert.Equal(t, `image "debian" (id-1) is qcow2 in Glance, not raw as disk_format asks; `+
		`an image's data is never replaced: upload it under a new name to have it in raw`, formatWarning(d, existing))
	d.DiskFormat = "qcow2"
	assert.Empty(t, formatWarning(d, existing))
	// Kernels, ramdisks and ISOs are kept in their own format whatever disk_format says.
	for _, format := range []string{"aki", "ari", "iso"} {
		assert.Empty(t, formatWarning(d, &images.Image{ID: "id-2", DiskFormat: format}))
	}
}

func TestVerifyExistingSkipsWhatGlanceDoesNotRecord(t *testing.T) {
	d := desired{Options: Options{Name: "x"}}
	image := existingImage()
	image.Properties[SourceSHA512Property] = strings.Repeat("1", 128)
	unrecorded := []fetch.Checksum{
		{Algorithm: fetch.MD5, Hex: strings.Repeat("9", 32)},
		{Algorithm: fetch.SHA384, Hex: strings.Repeat("9", 96)},
		{Algorithm: fetch.SHA512, FileURL: "http://127.0.0.1/SHA512SUMS"},
	}
	assert.NoError(t, verifyExisting(d, image, unrecorded), "an md5 is never compared with a sha512, a checksum file is read only to download")
}

// As azimuth-ops' role: community_images_update_existing_visibility false
// leaves new images at Glance's default visibility; true creates them with
// the visibility asked for.
func TestBatchLeavesNewImagesAtGlanceDefaultVisibilityWhenNotUpdatingIt(t *testing.T) {
	keep := false
	batch := BatchOptions{Images: map[string]map[string]any{
		"kept":  {"name": "K", "source_url": "http://h/k"},
		"owned": {"name": "O", "source_url": "http://h/o", "update_existing_visibility": true},
	}, Visibility: "private", UpdateExistingVisibility: &keep, Jobs: 1}
	specs, err := batch.Specs()
	require.NoError(t, err)
	kept, err := specs["kept"].normalize()
	require.NoError(t, err)
	assert.Nil(t, kept.createOpts("qcow2").Visibility, "no visibility sent: Glance's default")
	owned, err := specs["owned"].normalize()
	require.NoError(t, err)
	require.NotNil(t, owned.createOpts("qcow2").Visibility)
	assert.Equal(t, images.ImageVisibilityPrivate, *owned.createOpts("qcow2").Visibility)

	module, err := Options{Name: "m", State: "present", SourceURL: "http://h/m", Visibility: "private"}.normalize()
	require.NoError(t, err)
	assert.NotNil(t, module.createOpts("qcow2").Visibility, "community_image itself always sends its visibility")
}

func TestWeakChecksumsWarn(t *testing.T) {
	d, err := Options{Name: "x", State: "present", SourceURL: "http://h/x", Checksum: "md5:" + strings.Repeat("a", 32)}.normalize()
	require.NoError(t, err)
	require.Len(t, d.warnings, 1)
	assert.Contains(t, d.warnings[0], "md5 is weak")
	d, err = Options{Name: "x", State: "present", SourceURL: "http://h/x", Checksum: "sha256:" + strings.Repeat("a", 64)}.normalize()
	require.NoError(t, err)
	assert.Empty(t, d.warnings)
}

// An image azimuth-ops uploaded after converting it to raw: no provenance
// properties, os_hash_value of the raw bytes.
func TestImageConvertedByAnotherToolIsNamedAsSuch(t *testing.T) {
	image := &images.Image{ID: "id-raw", Name: "x", DiskFormat: "raw",
		Properties: map[string]any{"os_hash_algo": "sha512", "os_hash_value": strings.Repeat("2", 128)}}
	d := desired{Options: Options{Name: "x", SourceDiskFormat: "qcow2"}}
	sums := []fetch.Checksum{{Algorithm: fetch.SHA512, Hex: strings.Repeat("1", 128)}}
	err := verifyExisting(d, image, sums)
	require.Error(t, err)
	for _, want := range []string{"carries no imageops_source_sha512 property, so it was uploaded by another tool",
		"it is raw, while the source is qcow2: converted before its upload",
		"set insecure_skip_glance_verify: true (community_images_insecure_skip_glance_verify)",
		"openstack image delete id-raw"} {
		assert.Contains(t, err.Error(), want)
	}
	image.DiskFormat = "qcow2"
	err = verifyExisting(d, image, sums)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "does not match the expected sha512 checksum", "same format, other data: not a conversion")
}

func TestOtherProjectsCommunityImagesNeedTrustAndVerification(t *testing.T) {
	no := false
	for _, tc := range []struct {
		opts Options
		want bool
	}{
		{Options{}, true},
		{Options{UseExistingTrustedCommunityImages: &no}, false},
		{Options{InsecureSkipGlanceVerify: true}, false},
	} {
		assert.Equal(t, tc.want, desired{Options: tc.opts}.otherProjectsCommunityImages(), "%+v", tc.opts)
	}
}

func TestSameDataImagesHandBackWhatAzimuthOpsWould(t *testing.T) {
	at := func(sec int64) time.Time { return time.Unix(sec, 0) }
	hash := map[string]any{"os_hash_algo": "sha512", "os_hash_value": strings.Repeat("1", 128)}
	foreign := []images.Image{{ID: "old", CreatedAt: at(1), Properties: hash}, {ID: "new", CreatedAt: at(2), Properties: hash}}
	assert.Equal(t, "new", chosenOfSameData(foreign).image.ID, "the newest, which Glance and azimuth-ops list first")

	ours := map[string]any{glance.SourceURLProperty: "http://h/x", glance.SourceSHA512Property: strings.Repeat("1", 128)}
	for key, value := range hash {
		ours[key] = value
	}
	converging := []images.Image{{ID: "a", CreatedAt: at(1), Status: images.ImageStatusActive, Properties: ours},
		{ID: "b", CreatedAt: at(2), Status: images.ImageStatusActive, Properties: ours}}
	assert.Equal(t, "a", chosenOfSameData(converging).image.ID, "the oldest of ours, which concurrent runs keep")
}
