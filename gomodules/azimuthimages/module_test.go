package azimuthimages

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	json "github.com/goccy/go-json"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageops/cloud/gomodules/ansible"
	"github.com/imageops/cloud/gomodules/ansible/ansibletest"
)

func TestModuleDocumentationMatchesSpec(t *testing.T) {
	ansibletest.CheckDocumentation(t, ModuleSpec, "../../plugins/modules/azimuth_images_manifest.py")
}

func execute(t *testing.T, args string) map[string]any {
	t.Helper()
	parsed, err := ansible.ParseArgs([]byte(args))
	require.NoError(t, err)
	result := ansible.Execute(context.Background(), ModuleSpec, parsed, RunModule)
	encoded, err := json.Marshal(result)
	require.NoError(t, err)
	var out map[string]any
	require.NoError(t, json.Unmarshal(encoded, &out))
	return out
}

func TestModuleReadsAURLOrTakesAManifest(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(releaseManifest))
	}))
	t.Cleanup(srv.Close)

	fromURL := execute(t, `{"url": "`+srv.URL+`/manifest.json", "_ansible_check_mode": true}`)
	require.Nil(t, fromURL["failed"], fromURL["msg"])
	assert.Equal(t, false, fromURL["changed"])
	images := fromURL["images"].(map[string]any)
	assert.ElementsMatch(t, []string{"kube_1_34", "kube_1_35", "repo2docker", "workstation", "rstudio"}, keys(images))
	assert.Equal(t, "v1.35.7", images["kube_1_35"].(map[string]any)["kubernetes_version"])
	assert.NotContains(t, images["rstudio"], "kubernetes_version")

	manifest, err := json.Marshal(fromURL["manifest"])
	require.NoError(t, err)
	given := execute(t, `{"manifest": `+string(manifest)+`}`)
	require.Nil(t, given["failed"], given["msg"])
	assert.Equal(t, fromURL["images"], given["images"], "a manifest given as data makes the same specs")
}

func TestModuleFailsClearly(t *testing.T) {
	for args, want := range map[string]string{
		`{}`: "one of the following is required: url, manifest",
		`{"url": "http://127.0.0.1:9/m.json", "manifest": {}}`: "parameters are mutually exclusive: url|manifest",
		`{"manifest": {"ubuntu-desktop": {"name": "x"}}}`:      `"the manifest given" is not an azimuth-images manifest: build "ubuntu-desktop" has no url`,
		`{"url": "ftp://example.org/manifest.json"}`:           `scheme "ftp" is not supported`,
	} {
		result := execute(t, args)
		assert.Equal(t, true, result["failed"], args)
		assert.Contains(t, result["msg"], want, args)
	}
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for key := range m {
		out = append(out, key)
	}
	return out
}
