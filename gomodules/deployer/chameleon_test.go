package deployer

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageops/cloud/gomodules/internal/testenv"
	"github.com/imageops/cloud/gomodules/openstack/glance"
)

// Chameleon's image store as CC-Images publishes it (cc_images/push.py):
// <container>/<scope>/current, an object name -> version, and
// <container>/<scope>/versions/<version>/<name>.{qcow2,raw,manifest}, the
// manifest holding the build-* metadata. Served on 127.0.0.1 with real qcow2
// files; the site's options are those of hammers-v2's site.yaml.

// publish pushes a release of s.name to the store as CC-Images does.
func (s *site) publish(version, buildTimestamp, qcow2 string) {
	s.t.Helper()
	dir := "chameleon-supported-images/prod/versions/" + version + "/" + s.name
	s.file(dir+".qcow2", qcow2)
	s.writeJSON(dir+".manifest", map[string]any{
		"build-distro": "ubuntu", "build-release": "jammy", "build-variant": "base",
		"build-repo": "https://github.com/ChameleonCloud/cc-images", "build-timestamp": buildTimestamp,
		"build-tag": s.name + "-" + buildTimestamp, "build-ipa": "false", "chameleon-supported": "true",
	})
	s.writeJSON("chameleon-supported-images/prod/current", map[string]string{s.name: version})
}

func (s *site) chameleonOptions() Options {
	return Options{ObjectStoreURL: s.url, ImageContainer: "chameleon-supported-images", Scope: "prod",
		DiskFormat: "qcow2", ImagePrefix: "testing_"}
}

func (s *site) deployChameleon() Result {
	s.t.Helper()
	result, err := New(testenv.GlanceClient(s.t, s.glance), nil).Deploy(context.Background(), s.chameleonOptions(), false)
	require.NoError(s.t, err)
	return result
}

// named returns every image whose name starts with the test's name, by
// name (Chameleon's own images carry no property of ours), and deletes
// them when the test ends.
func (s *site) named() map[string]images.Image {
	s.t.Helper()
	out := map[string]images.Image{}
	for _, image := range s.all() {
		if strings.Contains(image.Name, s.name) {
			out[image.Name+" "+string(image.Visibility)] = image
		}
	}
	return out
}

func (s *site) cleanupNamed() {
	s.t.Cleanup(func() {
		for _, image := range s.named() {
			_ = images.Delete(context.Background(), s.glance, image.ID).ExtractErr()
		}
	})
}

// chameleonImage creates what Chameleon's deployer leaves: an active image
// with the manifest's properties and "current".
func (s *site) chameleonImage(name string, visibility images.ImageVisibility, properties map[string]string, qcow2 string) images.Image {
	s.t.Helper()
	ctx := context.Background()
	image, err := images.Create(ctx, s.glance, images.CreateOpts{Name: name, DiskFormat: "qcow2", ContainerFormat: "bare",
		Visibility: &visibility, Properties: properties}).Extract()
	require.NoError(s.t, err)
	data, err := os.Open(qcow2)
	require.NoError(s.t, err)
	defer data.Close()
	require.NoError(s.t, imagedata.Upload(ctx, s.glance, image.ID, data).ExtractErr())
	return *image
}

func TestChameleonStoreIsDeployedKeptAndPromoted(t *testing.T) {
	s := newSite(t)
	s.cleanupNamed()
	im := testenv.RealImages(t)
	s.publish("20250422-v1-amd", "2025-04-22 10:11:12.123456", im.QCOW2)

	first := s.deployChameleon()
	require.Len(t, first.Deployed, 1)
	site := s.named()
	require.Len(t, site, 1, "only the production image, no testing_ image left")
	v1 := site[s.name+" public"]
	assert.Equal(t, "20250422-v1-amd", textProperty(&v1, CurrentProperty), "recorded as Chameleon's deployer records it")
	assert.Equal(t, "ubuntu", textProperty(&v1, "build-distro"))
	assert.Equal(t, "true", textProperty(&v1, "chameleon-supported"))

	again := s.deployChameleon()
	assert.False(t, again.Changed)
	assert.Equal(t, v1.ID, again.Current[0].ID)
	assert.Len(t, s.named(), 1, "nothing uploaded")

	s.publish("20250601-v1-amd", "2025-06-01 08:00:00", im.QCOW2)
	bumped := s.deployChameleon()
	require.Len(t, bumped.Deployed, 1)
	site = s.named()
	require.Len(t, site, 2)
	v2 := site[s.name+" public"]
	assert.NotEqual(t, v1.ID, v2.ID)
	assert.Equal(t, "20250601-v1-amd", textProperty(&v2, CurrentProperty))
	archived := site[s.name+"_2025-04-22 10:11:12.123456 public"]
	assert.Equal(t, v1.ID, archived.ID, "archived as <name>_<build-timestamp>, still public: %v", site)
	assert.Equal(t, "no", textProperty(&archived, "chameleon-supported"))
	assert.Equal(t, s.name+"_2025-04-22 10:11:12.123456", bumped.Deployed[0].PreviousName)
}

// A site that Chameleon's deployer filled: the current release public under
// its name (with "current"), an older one archived, and a user's private
// image that happens to have the production name. Nothing is written.
func TestChameleonSiteFilledByChameleonIsLeftAlone(t *testing.T) {
	s := newSite(t)
	s.cleanupNamed()
	im := testenv.RealImages(t)
	s.publish("20250422-v1-amd", "2025-04-22 10:11:12.123456", im.QCOW2)
	manifest := map[string]string{"build-distro": "ubuntu", "build-release": "jammy", "build-variant": "base",
		"build-timestamp": "2025-04-22 10:11:12.123456", "chameleon-supported": "true", "current": "20250422-v1-amd"}
	current := s.chameleonImage(s.name, images.ImageVisibilityPublic, manifest, im.QCOW2)
	s.chameleonImage(s.name+"_2024-12-01 09:00:00.000001", images.ImageVisibilityPublic,
		map[string]string{"chameleon-supported": "no", "current": "20241201-v1-amd", "build-timestamp": "2024-12-01 09:00:00.000001"}, im.QCOW2)
	users := s.chameleonImage(s.name, images.ImageVisibilityPrivate, map[string]string{}, im.QCOW2)
	before := s.named()

	result := s.deployChameleon()
	assert.False(t, result.Changed)
	require.Len(t, result.Current, 1)
	assert.Equal(t, current.ID, result.Current[0].ID)
	after := s.named()
	assert.Equal(t, len(before), len(after))
	for key, image := range before {
		assert.Equal(t, image.UpdatedAt, after[key].UpdatedAt, "%s was written to", key)
	}
	assert.Equal(t, users.ID, after[s.name+" private"].ID)

	// A newer release is promoted over Chameleon's image; the user's private
	// image is neither a duplicate nor replaced.
	s.publish("20250601-v1-amd", "2025-06-01 08:00:00", im.QCOW2)
	bumped := s.deployChameleon()
	require.Len(t, bumped.Deployed, 1)
	assert.Equal(t, current.ID, bumped.Deployed[0].PreviousID)
	assert.Equal(t, "20250422-v1-amd", bumped.Deployed[0].PreviousVersion)
	final := s.named()
	assert.Equal(t, users.ID, final[s.name+" private"].ID)
	assert.Equal(t, current.ID, final[s.name+"_2025-04-22 10:11:12.123456 public"].ID)
}

// An image under the temporary name that the deployer did not upload (a
// user's testing_<name>, or what Chameleon's deployer left) is neither taken
// for the release, nor promoted, nor deleted: the release fails and says so.
func TestChameleonForeignTemporaryImageIsNeitherTakenNorDeleted(t *testing.T) {
	s := newSite(t)
	s.cleanupNamed()
	im := testenv.RealImages(t)
	s.publish("20250422-v1-amd", "2025-04-22 10:11:12.123456", im.QCOW2)
	foreign := s.chameleonImage("testing_"+s.name, images.ImageVisibilityPrivate, map[string]string{"current": "20250422-v1-amd"}, im.QCOW2)

	_, err := New(testenv.GlanceClient(t, s.glance), nil).Deploy(context.Background(), s.chameleonOptions(), false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the deployer did not upload it")
	site := s.named()
	assert.Equal(t, foreign.ID, site["testing_"+s.name+" private"].ID)
	assert.NotContains(t, site, s.name+" public")
}

func TestChameleonTimestampIsPythonsDatetime(t *testing.T) {
	for stamp, want := range map[string]string{
		"2025-04-22 10:11:12.123456": "2025-04-22 10:11:12.123456",
		"2025-04-22 10:11:12":        "2025-04-22 10:11:12",
		"1745316672.5":               "2025-04-22 10:11:12.500000",
	} {
		image := images.Image{Properties: map[string]any{"build-timestamp": stamp}}
		assert.Equal(t, want, chameleonTimestamp(&image), stamp)
	}
}

// publishIPA pushes an IPA pair of s.name to the store: <name>.kernel and
// <name>.initramfs (Debian's installer kernel and initrd, real files) with
// one manifest of build-* keys and each half's checksum, as an ipa_* build
// of Chameleon's yields them. Without initramfs, only the kernel is there.
func (s *site) publishIPA(version, buildTimestamp string, initramfs bool) {
	s.t.Helper()
	im := testenv.RealImages(s.t)
	dir := "chameleon-supported-images/prod/versions/" + version + "/" + s.name
	s.file(dir+".kernel", im.Kernel)
	if initramfs {
		s.file(dir+".initramfs", im.Initrd)
	}
	s.writeJSON(dir+".manifest", map[string]any{
		"build-distro": "ipa_debian", "build-release": "bullseye", "build-variant": "amd64", "build-timestamp": buildTimestamp,
		"build-ipa": "na", "chameleon-supported": "true",
		"kernel_checksum_sha512":    "sha512:" + testenv.SHA512File(s.t, im.Kernel),
		"initramfs_checksum_sha512": "sha512:" + testenv.SHA512File(s.t, im.Initrd),
	})
	s.writeJSON("chameleon-supported-images/prod/current", map[string]string{s.name: version})
}

func (s *site) deployIPA(checkMode bool) (Result, error) {
	s.t.Helper()
	o := s.chameleonOptions()
	o.IPAImages = []string{s.name}
	return New(testenv.GlanceClient(s.t, s.glance), nil).Deploy(context.Background(), o, checkMode)
}

// newestIPA is the newest active image whose build-ipa is half, as
// Chameleon's ipa_test picks the pair it tests by default.
func (s *site) newestIPA(half string) images.Image {
	s.t.Helper()
	var newest images.Image
	for _, image := range s.named() {
		if textProperty(&image, IPAProperty) == half && image.Status == images.ImageStatusActive && image.CreatedAt.After(newest.CreatedAt) {
			newest = image
		}
	}
	return newest
}

// byName is the one image named name, in any visibility.
func (s *site) byName(name string) images.Image {
	s.t.Helper()
	var found []images.Image
	for _, image := range s.named() {
		if image.Name == name {
			found = append(found, image)
		}
	}
	require.Len(s.t, found, 1, "images named %q", name)
	return found[0]
}

func TestChameleonIPAPairIsDeployedTogether(t *testing.T) {
	s := newSite(t)
	s.cleanupNamed()
	kernel, initramfs := s.name+"."+IPAKernel, s.name+"."+IPAInitramfs
	s.publishIPA("20250422-v1-ipa", "2025-04-22 10:11:12.123456", true)

	first, err := s.deployIPA(false)
	require.NoError(t, err)
	require.Len(t, first.Deployed, 2)
	site := s.named()
	require.Len(t, site, 2, "the two halves, no testing_ image left: %v", site)
	k1, r1 := site[kernel+" public"], site[initramfs+" public"]
	assert.Equal(t, "aki", k1.DiskFormat)
	assert.Equal(t, "ari", r1.DiskFormat)
	assert.Equal(t, "bare", r1.ContainerFormat)
	assert.Equal(t, IPAKernel, textProperty(&k1, IPAProperty), "the half, not the manifest's na")
	assert.Equal(t, IPAInitramfs, textProperty(&r1, IPAProperty))
	assert.Equal(t, "ipa_debian", textProperty(&r1, "build-distro"))
	assert.Equal(t, "20250422-v1-ipa", textProperty(&r1, CurrentProperty))
	assert.NotContains(t, r1.Properties, "kernel_checksum_sha512", "checksums verify, they are no properties")
	im := testenv.RealImages(t)
	_, hash := glance.Hash(&r1)
	assert.Equal(t, testenv.SHA512File(t, im.Initrd), hash, "the initrd as it comes, not decompressed")
	assert.Equal(t, []string{initramfs, kernel}, []string{first.Deployed[0].Name, first.Deployed[1].Name})
	assert.Equal(t, IPAKernel, first.Deployed[1].IPA)
	assert.Equal(t, s.name, first.Deployed[1].Pair)

	again, err := s.deployIPA(false)
	require.NoError(t, err)
	assert.False(t, again.Changed)
	assert.Len(t, again.Current, 2)
	assert.Len(t, s.named(), 2, "nothing uploaded")

	// A new pair whose initramfs is not there yet: neither half is promoted.
	s.publishIPA("20250601-v1-ipa", "2025-06-01 08:00:00", false)
	checked, err := s.deployIPA(true)
	require.NoError(t, err, "check mode reads no image file")
	assert.True(t, checked.Changed)
	require.Len(t, checked.Deployed, 2)
	assert.Equal(t, k1.ID, checked.Deployed[1].PreviousID)
	assert.Len(t, s.named(), 2, "check mode wrote nothing")
	_, err = s.deployIPA(false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not promoted: "+initramfs+", the other half of IPA pair")
	site = s.named()
	assert.Equal(t, k1.ID, site[kernel+" public"].ID, "the old pair is still the production pair")
	assert.Equal(t, r1.ID, site[initramfs+" public"].ID)
	waiting := s.byName("testing_" + kernel)
	assert.Equal(t, "na", textProperty(&waiting, IPAProperty), "a waiting half is no pair member yet")
	assert.Equal(t, k1.ID, s.newestIPA(IPAKernel).ID, "ipa_test's default still pairs the current kernel with the current initramfs")

	// Once it is there, both are promoted; the kernel is not uploaded again.
	s.publishIPA("20250601-v1-ipa", "2025-06-01 08:00:00", true)
	bumped, err := s.deployIPA(false)
	require.NoError(t, err)
	require.Len(t, bumped.Deployed, 2)
	site = s.named()
	require.Len(t, site, 4, "%v", site)
	assert.Equal(t, waiting.ID, site[kernel+" public"].ID)
	archived := site[kernel+"_2025-04-22 10:11:12.123456 public"]
	assert.Equal(t, k1.ID, archived.ID, "the previous pair is archived as Chameleon archives images")
	assert.Equal(t, "no", textProperty(&archived, "chameleon-supported"))
	assert.Equal(t, r1.ID, site[initramfs+"_2025-04-22 10:11:12.123456 public"].ID)
	assert.Equal(t, site[kernel+" public"].ID, s.newestIPA(IPAKernel).ID, "ipa_test's default picks the new pair")
	assert.Equal(t, site[initramfs+" public"].ID, s.newestIPA(IPAInitramfs).ID)
}

func TestIPAImagesNeedAChameleonRelease(t *testing.T) {
	releases := []Release{{Name: "ubuntu", Version: "1", Spec: map[string]any{"source_url": "http://127.0.0.1/u.qcow2"}}}
	_, err := SplitIPA(releases, []string{"ubuntu"})
	assert.ErrorContains(t, err, "not a Chameleon store")
	_, err = SplitIPA(releases, []string{"CC-IPA"})
	assert.ErrorContains(t, err, `ipa_images names "CC-IPA", which the catalog does not have; it has: ubuntu`)
}
