package ingest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageops/cloud/gomodules/buildrecord"
	"github.com/imageops/cloud/gomodules/internal/testenv"
)

// builtImage copies a real qcow2 to dir/<name>.qcow2 and writes the build
// record image_build would write beside it, with the file's digests unless
// sha256 is given.
func builtImage(t *testing.T, dir, name, sha256 string) string {
	t.Helper()
	data, err := os.ReadFile(testenv.RealImages(t).QCOW2)
	require.NoError(t, err)
	path := filepath.Join(dir, name+".qcow2")
	require.NoError(t, os.WriteFile(path, data, 0o644))
	size, s256, s512, err := buildrecord.Digest(path)
	require.NoError(t, err)
	if sha256 != "" {
		s256 = sha256
	}
	rec := buildrecord.Record{Tool: "imageops.cloud.image_build", ToolVersion: "2", SpecSHA256: strings.Repeat("ab", 32),
		Variables: map[string]buildrecord.Variable{
			"name":    {Value: name, Source: "task"},
			"release": {Value: "bookworm", Source: "/srv/specs/debian-12.yml"},
		},
		Mirror: "http://user:secret@mirror.example/debian", SourceDateEpoch: 1700000000, Kernel: "6.1.0-28-amd64",
		Packages: map[string]string{"cloud-init": "22.4.2-1+deb12u1", "systemd": "252.31-1~deb12u1"},
		Outputs:  map[string]buildrecord.Output{"qcow2": {Path: path, Format: "qcow2", Size: size, SHA256: s256, SHA512: s512}}}
	require.NoError(t, buildrecord.Write(buildrecord.PathBeside(path), rec))
	return path
}

// An image uploaded from a local path with image_build's record beside it
// carries the record's key facts as build_* properties; a property the task
// sets keeps the task's value; a second run changes nothing.
func TestBuildRecordBesideALocalImageBecomesBuildProperties(t *testing.T) {
	glance := testenv.Glance(t)
	path := builtImage(t, t.TempDir(), "built", "")
	name := testenv.UniqueName(t, glance, "built")
	opts := present(name, "file://"+path)
	opts.Properties = map[string]any{"build_release": "set by the task"}

	first, err := ensure(t, glance, opts, false)
	require.NoError(t, err)
	assert.True(t, first.Uploaded)
	assert.Equal(t, "imageops.cloud.image_build", first.Image["build_tool"])
	assert.Equal(t, strings.Repeat("ab", 32), first.Image["build_spec_sha256"])
	assert.Equal(t, "6.1.0-28-amd64", first.Image["build_kernel"])
	assert.Equal(t, "22.4.2-1+deb12u1", first.Image["build_cloud_init"])
	assert.Equal(t, "1700000000", first.Image["build_source_date_epoch"])
	assert.Equal(t, "2", first.Image["build_packages"])
	assert.Equal(t, "set by the task", first.Image["build_release"], "the task's property wins")
	assert.NotContains(t, first.Image["build_mirror"], "secret", "credentials in the mirror URL are hidden")
	assert.Contains(t, first.Image["build_mirror"], "mirror.example/debian")

	second, err := ensure(t, glance, opts, false)
	require.NoError(t, err)
	assert.False(t, second.Changed)
}

// A record whose digest is not the file's stops the upload (the facts would
// describe another image) and leaves nothing in Glance; a task checksum that
// contradicts the record fails before anything is read.
func TestABuildRecordThatDoesNotDescribeTheFileStopsTheUpload(t *testing.T) {
	glance := testenv.Glance(t)
	dir := t.TempDir()
	path := builtImage(t, dir, "stale", strings.Repeat("0", 64))
	name := testenv.UniqueName(t, glance, "stale")

	_, err := ensure(t, glance, present(name, path), false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), strings.Repeat("0", 64))
	assert.Empty(t, testenv.ImagesNamed(t, glance, name), "nothing left in Glance")

	opts := present(name, path)
	opts.Checksum = "sha256:" + strings.Repeat("1", 64)
	_, err = ensure(t, glance, opts, false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "differs from its build record "+filepath.Join(dir, "stale.build.json"))
	assert.Empty(t, testenv.ImagesNamed(t, glance, name))
}

// A record that lists other files only (here the raw image beside a qcow2
// of the same name) gives a warning and no build_* properties.
func TestABuildRecordOfOtherOutputsIsAWarning(t *testing.T) {
	glance := testenv.Glance(t)
	dir := t.TempDir()
	path := builtImage(t, dir, "other", "")
	rec, err := buildrecord.Read(buildrecord.PathBeside(path))
	require.NoError(t, err)
	rec.Outputs = map[string]buildrecord.Output{"raw": {Path: filepath.Join(dir, "other.raw"), Format: "raw"}}
	require.NoError(t, buildrecord.Write(buildrecord.PathBeside(path), *rec))
	name := testenv.UniqueName(t, glance, "other")

	result, err := ensure(t, glance, present(name, path), false)
	require.NoError(t, err)
	assert.NotContains(t, result.Image, "build_tool")
	assert.Contains(t, strings.Join(result.Warnings, "\n"), "lists no output named like "+path)
}
