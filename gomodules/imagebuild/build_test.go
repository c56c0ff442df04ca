package imagebuild_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageops/cloud/gomodules/imagebuild"
)

// TestAFailedBuildLeavesNoOutputAndSaysWhere: a build that fails (here the
// mirror refuses connections, on loopback) names its stage and the tool's
// words, and leaves neither an image, nor a record, nor its working directory.
func TestAFailedBuildLeavesNoOutputAndSaysWhere(t *testing.T) {
	if _, err := exec.LookPath("mmdebstrap"); err != nil {
		t.Skip("mmdebstrap is not installed (scripts/install-deps.sh)")
	}
	dir := t.TempDir()
	spec, err := imagebuild.Load(validated(t, map[string]any{"name": "img", "output_dir": dir,
		"mirror": "http://127.0.0.1:9/debian"}), nil)
	require.NoError(t, err)

	_, err = imagebuild.Build(context.Background(), spec)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `building image "img", stage bootstrap: running mmdebstrap`)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.Empty(t, names, "no output, record or working directory left")
	_, err = os.Stat(filepath.Join(dir, "img.build.json"))
	assert.True(t, os.IsNotExist(err))
}
