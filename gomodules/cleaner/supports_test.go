package cleaner

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v2"

	"github.com/imageops/cloud/gomodules/ansible"
	"github.com/imageops/cloud/gomodules/cleaner/novastub"
)

// A supports.yaml as Chameleon's abracadabra keeps it (supported_distros ->
// releases -> prod_name and variants; supported_variants -> prod_name_suffix).
const supportsYAML = `
supported_distros:
  ubuntu:
    repo_location: "https://github.com/ChameleonCloud/CC-Ubuntu"
    releases:
      jammy:
        prod_name: CC-Ubuntu22.04
        base_image_path: "https://cloud-images.ubuntu.com"
        variants: [base, gpu]
      noble:
        prod_name: CC-Ubuntu24.04
  centos:
    releases:
      9-stream:
        prod_name: CC-CentOS9-stream
        variants: [base]
supported_variants:
  base:
    prod_name_suffix:
  gpu:
    prod_name_suffix: CUDA
`

func supportsDoc(t *testing.T) any {
	t.Helper()
	var doc any
	require.NoError(t, yaml.Unmarshal([]byte(supportsYAML), &doc))
	return ansible.PlainYAML(doc)
}

func TestSupportsYAMLNamesTheSupportedImages(t *testing.T) {
	got, err := parseSupports(supportsDoc(t))
	require.NoError(t, err)
	var names []string
	for _, s := range got {
		names = append(names, s.name+" "+s.distro+"/"+s.release+"/"+s.variant)
	}
	assert.Equal(t, []string{"CC-CentOS9-stream centos/9-stream/base", "CC-Ubuntu22.04 ubuntu/jammy/base",
		"CC-Ubuntu22.04-CUDA ubuntu/jammy/gpu"}, names, "a release without variants is not built, as in Chameleon's cleaner")

	for _, bad := range []any{[]any{"ok", 3}, map[string]any{"releases": 1}, 7} {
		_, err := parseSupports(bad)
		assert.Error(t, err, "%v", bad)
	}
	index, err := parseSupports(map[string]any{"CC-Ubuntu22.04": "20250422-v1-amd"})
	require.NoError(t, err)
	require.Len(t, index, 1, "the store's index names the supported images")
	assert.Equal(t, "CC-Ubuntu22.04", index[0].name)
	_, err = supportsURL(" ")
	assert.Error(t, err)
}

// Chameleon's set: builds of a supported image (its build-* values, or its
// production name and the names its superseded images take) are managed;
// the image with the production name is kept however old; other images are
// not managed at all.
func TestSupportsKeepsTheCurrentProductionImageOfEach(t *testing.T) {
	// Chameleon's store index (<container>/<scope>/current), served on
	// loopback and read at the run.
	index := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"CC-Ubuntu22.04": "20250422-v1-amd", "CC-Ubuntu22.04-CUDA": "20250422-v1-amd", "CC-CentOS9-stream": "20250422-v1-centos"}`))
	}))
	t.Cleanup(index.Close)
	for _, c := range []struct {
		name     string
		supports any
	}{
		{"supports.yaml", supportsDoc(t)},
		{"names", []any{"CC-Ubuntu22.04", "CC-Ubuntu22.04-CUDA", "CC-CentOS9-stream"}},
		{"store index URL", index.URL + "/chameleon-supported-images/prod/current"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			jammy := map[string]string{buildDistro: "ubuntu", buildRelease: "jammy", buildVariant: "base"}
			current := f.image("CC-Ubuntu22.04", jammy, false)
			archived := f.image("CC-Ubuntu22.04_2024-01-02 03:04:05.000006", jammy, false)
			ours := f.image("CC-Ubuntu22.04-CUDA-20240102T030405Z", map[string]string{buildDistro: "ubuntu", buildRelease: "jammy", buildVariant: "gpu"}, false)
			other := f.image("CC-Fedora40", map[string]string{buildDistro: "fedora", buildRelease: "40", buildVariant: "base"}, false)
			inUse := f.image("CC-Ubuntu22.04_2023-05-06 07:08:09", jammy, false)
			// The Nova STUB: a shut-off server of another project boots from
			// an old build (Chameleon's cleaner asks for ACTIVE servers only).
			_, compute := stubCompute(t, []novastub.Server{
				{ID: "srv-1", Name: "stopped", Status: "SHUTOFF", TenantID: "project-a", ImageID: inUse.ID},
			})
			opts := f.options()
			on := true
			opts.SkipInUse = &on
			opts.Supports = c.supports
			opts.Now = aged(other.CreatedAt, 19)

			report, err := f.clean(opts, false, compute)
			require.NoError(t, err)
			assert.ElementsMatch(t, []string{archived.ID, ours.ID}, ids(report.Deleted))
			assert.Equal(t, map[string]string{inUse.ID: "in use by 1 server(s): srv-1"}, reasons(report.Skipped))
			assert.NotNil(t, f.get(inUse.ID))
			assert.Equal(t, []string{current.ID}, ids(report.Kept))
			assert.Contains(t, report.Kept[0].Reason, "current production image")
			assert.NotNil(t, f.get(current.ID))
			assert.NotNil(t, f.get(other.ID), "an image of no supported image is not managed")
			assert.NotContains(t, append(ids(report.Kept), ids(report.Deleted)...), other.ID)
		})
	}
}

func TestUnreadableSupportsStopsBeforeAnyChange(t *testing.T) {
	f := newFixture(t)
	old := f.image("CC-Ubuntu22.04_2024-01-02 03:04:05", map[string]string{buildDistro: "ubuntu"}, false)
	missing := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(missing.Close)
	opts := f.options()
	opts.Supports = missing.URL + "/chameleon-supported-images/prod/current"
	opts.Now = aged(old.CreatedAt, 19)

	_, err := f.clean(opts, false, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "reading supports")
	assert.NotNil(t, f.get(old.ID))
}

// An IPA pair as the deployer leaves it (<name>.kernel, <name>.initramfs,
// build-ipa the half; the previous pair archived <name>.kernel_<timestamp>):
// both current halves are the production images of <name>, whether the
// supported set comes from Chameleon's supports.yaml (an ipa_debian distro)
// or from names; the archived pair goes.
func TestSupportsKeepsBothHalvesOfTheCurrentIPAPair(t *testing.T) {
	var doc any
	require.NoError(t, yaml.Unmarshal([]byte(`
supported_distros:
  ipa_debian:
    disk_format: aki
    releases:
      bullseye: {prod_name: CC-IPA-Debian11, variants: [amd64]}
supported_variants:
  amd64: {prod_name_suffix: AMD64}
`), &doc))
	for _, c := range []struct {
		name     string
		supports any
	}{{"supports.yaml", ansible.PlainYAML(doc)}, {"names", []any{"CC-IPA-Debian11-AMD64"}},
		{"names of the halves", []any{"CC-IPA-Debian11-AMD64.kernel", "CC-IPA-Debian11-AMD64.initramfs"}}} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			half := func(ipa string) map[string]string {
				return map[string]string{buildDistro: "ipa_debian", buildRelease: "bullseye", buildVariant: "amd64", buildIPA: ipa}
			}
			kernel := f.image("CC-IPA-Debian11-AMD64.kernel", half("kernel"), false)
			initramfs := f.image("CC-IPA-Debian11-AMD64.initramfs", half("initramfs"), false)
			oldKernel := f.image("CC-IPA-Debian11-AMD64.kernel_2025-04-22 10:11:12", half("kernel"), false)
			oldInitramfs := f.image("CC-IPA-Debian11-AMD64.initramfs_2025-04-22 10:11:12", half("initramfs"), false)
			opts := f.options()
			opts.Supports = c.supports
			opts.Now = aged(oldInitramfs.CreatedAt, 19)

			report, err := f.clean(opts, true, nil)
			require.NoError(t, err)
			assert.ElementsMatch(t, []string{oldKernel.ID, oldInitramfs.ID}, ids(report.Deleted))
			assert.ElementsMatch(t, []string{kernel.ID, initramfs.ID}, ids(report.Kept))
			assert.Contains(t, reasons(report.Kept)[kernel.ID], "current production image")
		})
	}
}
