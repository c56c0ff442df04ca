package deployer

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCatalogFormatsAreToldApartAndRead(t *testing.T) {
	azimuth := `{"ubuntu-jammy": {"name": "ubuntu-jammy-240501", "url": "https://example.org/u.qcow2", "checksum": "sha256:ab", "kubernetes_version": "1.29.4"},
		"k8s": {"name": "k8s-2", "url": "https://example.org/k.qcow2", "version": 7}}`
	releases, err := ParseCatalog([]byte(azimuth), FormatAuto, "", "qcow2")
	require.NoError(t, err)
	assert.Equal(t, []Release{
		{Name: "k8s", Version: "7", Spec: map[string]any{"source_url": "https://example.org/k.qcow2"}},
		{Name: "ubuntu-jammy", Version: "ubuntu-jammy-240501", Spec: map[string]any{"source_url": "https://example.org/u.qcow2",
			"checksum": "sha256:ab", "kubernetes_version": "1.29.4"}},
	}, releases)

	// Chameleon's store as CC-Images pushes it and hammers-v2 reads it.
	index, base := ChameleonStore("https://chi.example.org:7480/swift/v1/AUTH_site/", "", "")
	assert.Equal(t, "https://chi.example.org:7480/swift/v1/AUTH_site/chameleon-supported-images/prod/current", index)
	releases, err = ParseCatalog([]byte(`{"CC-Ubuntu22.04": "20250422-v1-amd"}`), FormatAuto, base, "raw")
	require.NoError(t, err)
	file := "https://chi.example.org:7480/swift/v1/AUTH_site/chameleon-supported-images/prod/versions/20250422-v1-amd/CC-Ubuntu22.04"
	assert.Equal(t, []Release{{Name: "CC-Ubuntu22.04", Version: "20250422-v1-amd", Chameleon: true, files: file,
		Spec: map[string]any{"source_url": file + ".raw"}, MetadataURL: file + ".manifest"}}, releases)

	// An IPA pair of the store: two halves, each from its own file, sharing the manifest.
	releases, err = ParseCatalog([]byte(`{"CC-IPA-Debian11-AMD64": "20250422-v1", "CC-Ubuntu22.04": "20250422-v1-amd"}`), FormatAuto, base, "raw")
	require.NoError(t, err)
	releases, err = SplitIPA(releases, []string{"CC-IPA-Debian11-AMD64"})
	require.NoError(t, err)
	ipa := "https://chi.example.org:7480/swift/v1/AUTH_site/chameleon-supported-images/prod/versions/20250422-v1/CC-IPA-Debian11-AMD64"
	require.Len(t, releases, 3)
	assert.Equal(t, Release{Name: "CC-IPA-Debian11-AMD64.kernel", Version: "20250422-v1", Chameleon: true, files: ipa,
		IPA: IPAKernel, Pair: "CC-IPA-Debian11-AMD64", MetadataURL: ipa + ".manifest",
		Spec: map[string]any{"source_url": ipa + ".kernel", "disk_format": "aki", "source_disk_format": "aki", "container_format": "bare"}}, releases[1])
	assert.Equal(t, ipa+".initramfs", releases[0].Spec["source_url"])
	assert.Equal(t, "ari", releases[0].Spec["disk_format"])
	assert.Equal(t, "CC-Ubuntu22.04", releases[2].Name)
	selected, err := selectReleases(releases, []string{"CC-IPA-Debian11-AMD64"})
	require.NoError(t, err)
	assert.Len(t, selected, 2, "the pair's entry selects both halves")

	releases, err = ParseCatalog([]byte("- name: debian-12\n  url: https://example.org/d.qcow2\n"), FormatAuto, "", "qcow2")
	require.NoError(t, err)
	assert.Equal(t, "https://example.org/d.qcow2", releases[0].Version, "without version or checksum, the URL tells releases apart")
}

func TestBadCatalogsSayWhatIsWrong(t *testing.T) {
	for _, c := range []struct{ format, doc, want string }{
		{FormatAuto, `{"a": "1", "b": {"name": "x"}}`, "its format is not recognised"},
		{FormatAzimuth, `{"a": {"name": "x"}}`, `entry "a" has no name or no url`},
		{FormatChameleon, `{"a": 3}`, `entry "a" is 3; expected a version string without slashes`},
		{FormatChameleon, `{"a": "../../etc"}`, `expected a version string without slashes`},
		{FormatSpecs, `[{"source_url": "http://x"}]`, "entry 0 has no name"},
		{FormatSpecs, `[{"name": "a", "properties": {}}]`, `entry 0 ("a") has no version, checksum or source_url`},
		{FormatSpecs, `[{"name": "a", "version": 1}, {"name": "a", "version": 2}]`, `two entries have the production name "a"`},
		{FormatSpecs, `{"a": "1"}`, "a specs catalog is a list of community_image specs; got an object"},
	} {
		_, err := ParseCatalog([]byte(c.doc), c.format, "https://example.org", "qcow2")
		assert.ErrorContains(t, err, c.want, c.doc)
	}
}
