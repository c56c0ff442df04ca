package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageops/cloud/gomodules/internal/testenv"
)

// nbdLeftovers lists the socket directories that runs left behind; a stream
// removes its own, and the next one removes those of killed runs, so the
// set never grows.
func nbdLeftovers(t *testing.T) []string { return testenv.NBDLeftovers(t) }

// downloadImage writes an image's data from Glance to a file.
func downloadImage(t *testing.T, glance *gophercloud.ServiceClient, id string) string {
	t.Helper()
	body, err := imagedata.Download(context.Background(), glance, id).Extract()
	require.NoError(t, err)
	defer body.Close()
	path := filepath.Join(t.TempDir(), "stored")
	f, err := os.Create(path)
	require.NoError(t, err)
	_, err = io.Copy(f, body)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	return path
}

func assertTimed(t *testing.T, result Result) {
	t.Helper()
	require.NotNil(t, result.Timings, "an upload says where its time went")
	assert.Positive(t, result.Timings.Download)
	assert.Positive(t, result.Timings.Upload)
	assert.Positive(t, result.Timings.ReadBack)
}

func TestConversionToRawStreamsTheDiskIntoGlance(t *testing.T) {
	glance := testenv.Glance(t)
	im := testenv.RealImages(t)
	name := testenv.UniqueName(t, glance, "to-raw")
	opts := present(name, serveFile(t, im.QCOW2))
	opts.DiskFormat = "raw"
	opts.Workdir = t.TempDir()
	before := nbdLeftovers(t)

	result, err := ensure(t, glance, opts, false)
	require.NoError(t, err)
	assert.True(t, result.Converted)
	assert.Equal(t, "raw", result.Image["disk_format"])
	// im.QCOW2 is im.Raw converted: its disk is im.Raw's bytes.
	assert.Equal(t, testenv.SHA512File(t, im.Raw), result.Image["os_hash_value"], "Glance holds the raw disk")
	assert.Equal(t, strconv.FormatInt(fileSize(t, im.QCOW2), 10), result.Image[SourceSizeProperty])
	assert.NotContains(t, result.Image, SourceSHA512Property, "a converted source is hashed only for its checksums")
	assert.NotContains(t, result.Image, SourceSHA256Property)
	assertTimed(t, result)
	assert.Positive(t, result.Timings.Convert)
	assert.Empty(t, entries(t, opts.Workdir), "the working directory is left empty")
	assert.Subset(t, before, nbdLeftovers(t), "qemu-nbd's socket directory is removed")

	again, err := ensure(t, glance, opts, false)
	require.NoError(t, err)
	assert.False(t, again.Changed, "the image is complete: a second run uploads nothing")
	assert.Equal(t, result.ID, again.ID)

	// A checksum given later has nothing recorded to compare with; the raw
	// bytes' os_hash_value is not the qcow2 source's hash.
	opts.ChecksumSHA512 = testenv.SHA512File(t, im.QCOW2)
	again, err = ensure(t, glance, opts, false)
	require.NoError(t, err)
	assert.False(t, again.Changed)

	opts.Name = testenv.UniqueName(t, glance, "to-raw-sha512")
	with512, err := ensure(t, glance, opts, false)
	require.NoError(t, err)
	assert.Equal(t, testenv.SHA512File(t, im.QCOW2), with512.Image[SourceSHA512Property], "computed for the sha512 checksum")
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	stat, err := os.Stat(path)
	require.NoError(t, err)
	return stat.Size()
}

func TestConversionToQcow2StoresAnImageQemuImgChecksAndReads(t *testing.T) {
	glance := testenv.Glance(t)
	im := testenv.RealImages(t)
	name := testenv.UniqueName(t, glance, "to-qcow2")
	opts := present(name, serveFile(t, im.Raw))
	opts.Checksum = "sha256:" + sha256File(t, im.Raw)
	opts.Workdir = t.TempDir()

	result, err := ensure(t, glance, opts, false)
	require.NoError(t, err)
	assert.True(t, result.Converted)
	assert.Equal(t, "qcow2", result.Image["disk_format"])
	assert.Equal(t, sha256File(t, im.Raw), result.Image[SourceSHA256Property], "recorded for the sha256 checksum")
	assert.NotContains(t, result.Image, SourceSHA512Property, "a converted source is hashed only for its checksums")
	assertTimed(t, result)
	assert.Empty(t, entries(t, opts.Workdir))

	stored := downloadImage(t, glance, result.ID)
	assert.Equal(t, result.Image["os_hash_value"], testenv.SHA512File(t, stored))
	qemuImg(t, "", "qemu-img", "check", "-f", "qcow2", stored) // fails on corruption or leaked clusters
	qemuImg(t, "", "qemu-img", "compare", "-f", "raw", "-F", "qcow2", im.Raw, stored)
	stat, err := os.Stat(stored)
	require.NoError(t, err)
	raw, err := os.Stat(im.Raw)
	require.NoError(t, err)
	assert.Less(t, stat.Size(), raw.Size(), "zero clusters are left out")
}

func TestAFailedStreamedConversionLeavesNoImageAndNoFile(t *testing.T) {
	glance := testenv.Glance(t)
	im := testenv.RealImages(t)
	// Glance fails the data upload after it received every byte.
	failing := testenv.FailingGlance(t, glance, func(r *http.Request, _ []byte) bool {
		return r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/file")
	})
	for source, target := range map[string]string{im.QCOW2: "raw", im.Raw: "qcow2"} {
		t.Run("to "+target, func(t *testing.T) {
			name := testenv.UniqueName(t, glance, "fail-"+target)
			opts := present(name, serveFile(t, source))
			opts.DiskFormat = target
			opts.Workdir = t.TempDir()
			before := nbdLeftovers(t)
			_, err := New(testenv.GlanceClient(t, failing)).Ensure(context.Background(), opts, false)
			require.ErrorContains(t, err, "injected failure")
			assert.Empty(t, testenv.ImagesNamed(t, glance, name), "the image of the failed upload is deleted")
			assert.Empty(t, entries(t, opts.Workdir), "no file is left in the working directory")
			assert.Subset(t, before, nbdLeftovers(t), "qemu-nbd is stopped and its socket removed")
		})
	}
}

func TestACorruptQcow2FailsBeforeOrDuringTheStreamAndLeavesNothing(t *testing.T) {
	glance := testenv.Glance(t)
	im := testenv.RealImages(t)
	corrupt := filepath.Join(t.TempDir(), "corrupt.qcow2")
	data, err := os.ReadFile(im.QCOW2)
	require.NoError(t, err)
	// Allocated clusters past the first 4 MiB get L2 entries that are not
	// cluster-aligned (qcow2 specification: bits 9-55 hold the offset),
	// which qemu reports as corruption when it reads them: qemu-img info
	// still reads the header; reading the disk fails midway.
	l1 := binary.BigEndian.Uint64(data[40:])
	l2 := binary.BigEndian.Uint64(data[l1:]) & 0x00fffffffffffe00
	for i := uint64(64); i < 512; i++ {
		if entry := binary.BigEndian.Uint64(data[l2+8*i:]); entry != 0 {
			binary.BigEndian.PutUint64(data[l2+8*i:], entry|0x200)
		}
	}
	require.NoError(t, os.WriteFile(corrupt, data, 0o644))

	name := testenv.UniqueName(t, glance, "corrupt")
	opts := present(name, serveFile(t, corrupt))
	opts.DiskFormat = "raw"
	opts.Workdir = t.TempDir()
	before := nbdLeftovers(t)
	_, err = ensure(t, glance, opts, false)
	require.Error(t, err)
	assert.Empty(t, testenv.ImagesNamed(t, glance, name), "nothing is left in Glance")
	assert.Empty(t, entries(t, opts.Workdir))
	assert.Subset(t, before, nbdLeftovers(t))
}

func TestASourceCutOffMidDownloadLeavesNoImageAndNoFile(t *testing.T) {
	glance := testenv.Glance(t)
	im := testenv.RealImages(t)
	data, err := os.ReadFile(im.Raw)
	require.NoError(t, err)
	cut := testenv.CutOffServer(t, data, len(data)/2, nil).URL + "/disk.raw"
	for _, target := range []string{"qcow2", "raw", "vmdk"} {
		name := testenv.UniqueName(t, glance, "cut-"+target)
		opts := present(name, cut)
		opts.DiskFormat = target
		opts.Workdir = t.TempDir()
		_, err := ensure(t, glance, opts, false)
		require.Error(t, err, target)
		assert.Empty(t, testenv.ImagesNamed(t, glance, name), target)
		assert.Empty(t, entries(t, opts.Workdir), target)
	}
}

// entries lists the names in dir.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	list, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range list {
		names = append(names, e.Name())
	}
	return names
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	h := sha256.New()
	_, err = io.Copy(h, f)
	require.NoError(t, err)
	return hex.EncodeToString(h.Sum(nil))
}
