package azimuthimages

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageops/cloud/gomodules/fetch"
)

var (
	sha256Of = func(c string) string { return "sha256:" + strings.Repeat(c, 64) }
	sha512Of = func(c string) string { return "sha512:" + strings.Repeat(c, 128) }
)

// releaseManifest is shaped as azimuth-images' bin/generate-manifest writes
// manifest.json: builds in .github/builds.yaml's order, each with the
// publish step's outputs and, for Kubernetes images, the packer manifest's
// custom_data (kubernetes_version).
var releaseManifest = `{
    "ubuntu-desktop": {
        "name": "ubuntu-noble-desktop-260810-1201",
        "url": "https://example.org/images/ubuntu-noble-desktop-260810-1201.qcow2",
        "checksum": "` + sha256Of("1") + `",
        "checksum_sha512": "` + sha512Of("1") + `",
        "cosign-bundle-url": "https://example.org/images/ubuntu-noble-desktop-260810-1201.cosign.bundle",
        "image-sbom-url": "https://example.org/images/ubuntu-noble-desktop-260810-1201-sbom.json"
    },
    "jupyter-repo2docker": {
        "name": "ubuntu-noble-jupyter-repo2docker-260810-1201",
        "url": "https://example.org/images/ubuntu-noble-jupyter-repo2docker-260810-1201.qcow2",
        "checksum": "` + sha256Of("2") + `",
        "checksum_sha512": "` + sha512Of("2") + `",
        "cosign-bundle-url": "https://example.org/x.cosign.bundle",
        "image-sbom-url": "https://example.org/x-sbom.json"
    },
    "linux-rstudio": {
        "name": "ubuntu-noble-linux-rstudio-260810-1201",
        "url": "https://example.org/images/ubuntu-noble-linux-rstudio-260810-1201.qcow2",
        "checksum": "` + sha256Of("3") + `",
        "checksum_sha512": "` + sha512Of("3") + `",
        "cosign-bundle-url": "https://example.org/y.cosign.bundle",
        "image-sbom-url": "https://example.org/y-sbom.json"
    },
    "kubernetes-1-34-noble": {
        "name": "ubuntu-noble-kube-v1.34.10-260810-1201",
        "url": "https://example.org/images/ubuntu-noble-kube-v1.34.10-260810-1201.qcow2",
        "checksum": "` + sha256Of("4") + `",
        "checksum_sha512": "` + sha512Of("4") + `",
        "cosign-bundle-url": "https://example.org/z.cosign.bundle",
        "image-sbom-url": "https://example.org/z-sbom.json",
        "kubernetes_version": "v1.34.10"
    },
    "kubernetes-1-35-noble": {
        "name": "ubuntu-noble-kube-v1.35.7-260810-1201",
        "url": "https://example.org/images/ubuntu-noble-kube-v1.35.7-260810-1201.qcow2",
        "checksum": "` + sha256Of("5") + `",
        "checksum_sha512": "` + sha512Of("5") + `",
        "cosign-bundle-url": "https://example.org/w.cosign.bundle",
        "image-sbom-url": "https://example.org/w-sbom.json",
        "kubernetes_version": "v1.35.7"
    },
    "flatcar-kube-1-35": {
        "name": "flatcar-kube-v1.35.7",
        "url": "https://example.org/images/flatcar.qcow2",
        "checksum": "` + sha256Of("6") + `",
        "checksum_sha512": "` + sha512Of("6") + `",
        "cosign-bundle-url": "https://example.org/v.cosign.bundle",
        "image-sbom-url": "https://example.org/v-sbom.json"
    }
}`

func TestSpecsAreAzimuthOpsDefaultImages(t *testing.T) {
	m, err := Parse([]byte(releaseManifest), "https://example.org/manifest.json")
	require.NoError(t, err)
	assert.Len(t, m.Entries, 6)
	assert.Equal(t, "kubernetes-1-34-noble", m.Entries[3].Build, "entries keep the file's order")
	assert.Equal(t, "https://example.org/z-sbom.json", m.Fields()["kubernetes-1-34-noble"]["image-sbom-url"], "every field is kept")

	specs, warnings := m.Specs()
	assert.Empty(t, warnings)
	assert.Equal(t, map[string]Spec{
		"workstation": {Name: "ubuntu-noble-desktop-260810-1201", SourceURL: "https://example.org/images/ubuntu-noble-desktop-260810-1201.qcow2",
			Checksum: sha256Of("1"), ChecksumSHA512: sha512Of("1"), SourceDiskFormat: "qcow2", ContainerFormat: "bare"},
		"repo2docker": {Name: "ubuntu-noble-jupyter-repo2docker-260810-1201", SourceURL: "https://example.org/images/ubuntu-noble-jupyter-repo2docker-260810-1201.qcow2",
			Checksum: sha256Of("2"), ChecksumSHA512: sha512Of("2"), SourceDiskFormat: "qcow2", ContainerFormat: "bare"},
		"rstudio": {Name: "ubuntu-noble-linux-rstudio-260810-1201", SourceURL: "https://example.org/images/ubuntu-noble-linux-rstudio-260810-1201.qcow2",
			Checksum: sha256Of("3"), ChecksumSHA512: sha512Of("3"), SourceDiskFormat: "qcow2", ContainerFormat: "bare"},
		"kube_1_34": {Name: "ubuntu-noble-kube-v1.34.10-260810-1201", SourceURL: "https://example.org/images/ubuntu-noble-kube-v1.34.10-260810-1201.qcow2",
			Checksum: sha256Of("4"), ChecksumSHA512: sha512Of("4"), SourceDiskFormat: "qcow2", ContainerFormat: "bare", KubernetesVersion: "v1.34.10"},
		"kube_1_35": {Name: "ubuntu-noble-kube-v1.35.7-260810-1201", SourceURL: "https://example.org/images/ubuntu-noble-kube-v1.35.7-260810-1201.qcow2",
			Checksum: sha256Of("5"), ChecksumSHA512: sha512Of("5"), SourceDiskFormat: "qcow2", ContainerFormat: "bare", KubernetesVersion: "v1.35.7"},
	}, specs, "builds azimuth-ops does not upload (flatcar-kube-1-35) are left out")
}

func TestTwoBuildsOfOneMinorTakeTheLater(t *testing.T) {
	m, err := Parse([]byte(`{
		"kubernetes-1-28-focal": {"name": "focal-kube", "url": "https://example.org/focal.qcow2", "kubernetes_version": "v1.28.9"},
		"kubernetes-1-28-jammy": {"name": "jammy-kube", "url": "https://example.org/jammy.qcow2", "kubernetes_version": "1.28.10"}
	}`), "m.json")
	require.NoError(t, err)
	specs, warnings := m.Specs()
	assert.Equal(t, "jammy-kube", specs["kube_1_28"].Name)
	assert.Equal(t, []string{`manifest builds "kubernetes-1-28-focal" and "kubernetes-1-28-jammy" both become kube_1_28; "kubernetes-1-28-jammy" is used, as azimuth-ops uses the later one`}, warnings)
}

func TestParseRefusesWhatIsNotAManifest(t *testing.T) {
	for data, want := range map[string]string{
		"<!DOCTYPE html><html>Sign in</html>":                                          "it is not JSON",
		`[{"name": "x"}]`:                                                              "it is a JSON array, not an object",
		`"manifest"`:                                                                   "it is a JSON string, not an object",
		`{"ubuntu-desktop": "https://example.org/x"}`:                                  `build "ubuntu-desktop" is a JSON string, not an object`,
		`{"ubuntu-desktop": {"url": "https://e.org/x"}}`:                               `build "ubuntu-desktop" has no name`,
		`{"ubuntu-desktop": {"name": "x"}}`:                                            `build "ubuntu-desktop" has no url`,
		`{"ubuntu-desktop": {"name": 3, "url": "u"}}`:                                  `build "ubuntu-desktop": name is a JSON number, not a string`,
		`{"k": {"name": "x", "url": "u", "checksum": "sha256:abc"}}`:                   `build "k": checksum "sha256:abc": sha256 needs 64 hex digits`,
		`{"k": {"name": "x", "url": "u", "checksum_sha512": "` + sha256Of("1") + `"}}`: `build "k": checksum_sha512`,
		`{"k": {"name": "x", "url": "u", "kubernetes_version": "latest"}}`:             `kubernetes_version "latest" is not a Kubernetes version such as v1.34.10`,
		`{"k": {"name": "x", "url": "u"}, "k": {"name": "y", "url": "v"}}`:             `build "k" appears twice`,
		`{"k": {"name": "x", "url": "u"}} {}`:                                          "something follows the JSON object",
		`{"k": {"name": "x", "url": "u"}`:                                              "it is not JSON",
	} {
		_, err := Parse([]byte(data), "https://example.org/manifest.json")
		require.Error(t, err, data)
		assert.ErrorIs(t, err, ErrNotManifest, data)
		assert.Contains(t, err.Error(), `"https://example.org/manifest.json" is not an azimuth-images manifest: `, data)
		assert.Contains(t, err.Error(), want, data)
	}
	m, err := Parse([]byte(`{}`), "empty.json")
	require.NoError(t, err, "an empty manifest has no images")
	specs, _ := m.Specs()
	assert.Empty(t, specs)
}

func TestReadOverHTTPAndFromAFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "manifest.json")
	require.NoError(t, os.WriteFile(path, []byte(releaseManifest), 0o644))
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(srv.Close)

	for _, url := range []string{srv.URL + "/manifest.json", "file://" + path} {
		m, err := Read(context.Background(), url, fetch.WithRetries(0))
		require.NoError(t, err, url)
		assert.Len(t, m.Entries, 6, url)
	}

	_, err := Read(context.Background(), srv.URL+"/missing.json", fetch.WithRetries(0))
	assert.ErrorIs(t, err, fetch.ErrNotFound)
	assert.ErrorContains(t, err, `reading the azimuth-images manifest: fetching "`+srv.URL+`/missing.json": server answered 404`)

	require.NoError(t, os.WriteFile(filepath.Join(dir, "index.html"), []byte("<html>releases</html>"), 0o644))
	_, err = Read(context.Background(), srv.URL+"/index.html", fetch.WithRetries(0))
	assert.ErrorIs(t, err, ErrNotManifest)
	assert.ErrorContains(t, err, `"`+srv.URL+`/index.html" is not an azimuth-images manifest: it is not JSON`)

	_, err = Read(context.Background(), "https://alice:s3cret@127.0.0.1:1/manifest.json", fetch.WithRetries(0))
	require.Error(t, err)
	assert.False(t, errors.Is(err, ErrNotManifest))
	assert.NotContains(t, err.Error(), "s3cret", "a password in the URL shows nowhere")
	assert.Contains(t, err.Error(), "127.0.0.1:1/manifest.json")
}
