package imagebuild_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageops/cloud/gomodules/imagebuild"
)

// A host without the build's programs fails before anything is made or
// downloaded, naming the programs and the Debian packages that have them.
func TestMissingHostToolsFailBeforeAnything(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	spec, err := imagebuild.Load(validated(t, map[string]any{"name": "img", "output_dir": dir,
		"formats": []any{"qcow2", "iso"}}), nil)
	require.NoError(t, err)
	t.Setenv("PATH", t.TempDir())

	_, err = imagebuild.Build(context.Background(), spec)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `building image "img" needs mmdebstrap, mkfs.vfat`)
	assert.Contains(t, err.Error(), "mksquashfs, xorriso")
	assert.Contains(t, err.Error(), "install the Debian packages mmdebstrap dosfstools mtools e2fsprogs fdisk grub-common qemu-utils squashfs-tools xorriso")
	_, err = os.Stat(dir)
	assert.True(t, os.IsNotExist(err), "output_dir is not made")
}
