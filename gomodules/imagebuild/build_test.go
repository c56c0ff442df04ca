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
// words, and leaves neither an image, nor a record, nor its working
// directory: only its log, which ends with the error.
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
	assert.Equal(t, []string{"img.build.log"}, names, "no output, record or working directory left, only the log")
	log, err := os.ReadFile(filepath.Join(dir, "img.build.log"))
	require.NoError(t, err)
	assert.Regexp(t, `(?m)^image_build img \[ *[0-9.]+s\] bootstrap: started$`, string(log), "progress: the stage and its elapsed time")
	assert.Contains(t, string(log), "failed: building image \"img\", stage bootstrap", "the log ends with the error")
	_, err = os.Stat(filepath.Join(dir, "img.build.json"))
	assert.True(t, os.IsNotExist(err))
}
