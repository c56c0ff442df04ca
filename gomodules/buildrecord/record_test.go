package buildrecord_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageops/cloud/gomodules/buildrecord"
)

func TestPathBesideDropsTheLastExtension(t *testing.T) {
	assert.Equal(t, "/srv/out/debian-12.build.json", buildrecord.PathBeside("/srv/out/debian-12.qcow2"))
	assert.Equal(t, "/srv/out/debian-12.1.build.json", buildrecord.PathBeside("/srv/out/debian-12.1.iso"))
	assert.Equal(t, "/srv/out/plain.build.json", buildrecord.PathBeside("/srv/out/plain"))
}

func TestBesideFindsTheFilesOutput(t *testing.T) {
	dir := t.TempDir()
	image := filepath.Join(dir, "img.raw")
	rec, out, err := buildrecord.Beside(image)
	require.NoError(t, err)
	assert.Nil(t, rec, "no record: nothing")
	assert.Nil(t, out)

	want := buildrecord.Record{Tool: "t", Outputs: map[string]buildrecord.Output{
		"qcow2": {Path: "/elsewhere/img.qcow2", Size: 1}, "raw": {Path: "/elsewhere/img.raw", Size: 2}}}
	require.NoError(t, buildrecord.Write(filepath.Join(dir, "img.build.json"), want))
	rec, out, err = buildrecord.Beside(image)
	require.NoError(t, err)
	require.NotNil(t, rec)
	require.NotNil(t, out, "matched by file name: the record may have been moved with its images")
	assert.Equal(t, int64(2), out.Size)

	rec, out, err = buildrecord.Beside(filepath.Join(dir, "img.iso"))
	require.NoError(t, err)
	assert.NotNil(t, rec)
	assert.Nil(t, out, "a record that lists no such file")

	require.NoError(t, os.WriteFile(filepath.Join(dir, "bad.build.json"), []byte("{"), 0o644))
	_, _, err = buildrecord.Beside(filepath.Join(dir, "bad.qcow2"))
	assert.ErrorContains(t, err, "parsing build record")
}

func TestGlancePropertiesHoldTheKeyFacts(t *testing.T) {
	rec := buildrecord.Record{Tool: "imageops.cloud.image_build", ToolVersion: "2", SpecSHA256: "abc",
		Variables: map[string]buildrecord.Variable{"release": {Value: "bookworm"}, "distribution": {Value: "debian"},
			"name": {Value: strings.Repeat("n", 300)}},
		Mirror: "https://u:p@mirror.example/debian", SourceDateEpoch: 1700000000, Kernel: "6.1.0-28-amd64",
		Packages: map[string]string{"cloud-init": "22.4.2-1", "bash": "5.2.15-2+b7"}}
	props := buildrecord.GlanceProperties(rec)
	assert.Equal(t, "bookworm", props["build_release"])
	assert.Equal(t, "debian", props["build_distribution"])
	assert.Equal(t, "22.4.2-1", props["build_cloud_init"])
	assert.Equal(t, "2", props["build_packages"])
	assert.Len(t, props["build_packages_sha256"], 64)
	assert.Len(t, props["build_name"], 255, "cut to what Glance stores")
	assert.NotContains(t, props["build_mirror"], "u:p")
	for key := range props {
		assert.True(t, strings.HasPrefix(key, buildrecord.PropertyPrefix), key)
	}

	other := rec
	other.Packages = map[string]string{"cloud-init": "22.4.2-1", "bash": "5.2.15-3"}
	assert.NotEqual(t, props["build_packages_sha256"], buildrecord.GlanceProperties(other)["build_packages_sha256"],
		"another package version, another digest")
	assert.NotContains(t, buildrecord.GlanceProperties(buildrecord.Record{Tool: "t"}), "build_kernel", "absent facts are left out")
}
