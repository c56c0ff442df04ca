package glance_test

import (
	"bytes"
	"context"
	"crypto/sha512"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageops/cloud/gomodules/internal/testenv"
	"github.com/imageops/cloud/gomodules/openstack/glance"
)

// These tests run against the real local Glance (scripts/glance.sh), with a
// fault-injecting proxy in front of it where a fault is needed.

func upload(name string, data []byte) glance.Upload {
	sum := sha512.Sum512(data)
	return glance.Upload{
		Create: images.CreateOpts{Name: name, DiskFormat: "raw", ContainerFormat: "bare",
			Properties: map[string]string{glance.SourceURLProperty: "http://127.0.0.1/" + name}},
		Open: func(context.Context) (*glance.Payload, error) {
			return &glance.Payload{Reader: bytes.NewReader(data), SHA512: func() string { return hex.EncodeToString(sum[:]) }}, nil
		},
		Finish: func(*images.Image) images.UpdateOpts {
			return images.UpdateOpts{images.UpdateImageProperty{Op: images.AddOp, Name: glance.SourceSHA512Property, Value: hex.EncodeToString(sum[:])}}
		},
	}
}

func create(t *testing.T, sc *gophercloud.ServiceClient, name string) string {
	t.Helper()
	image, err := images.Create(context.Background(), sc, images.CreateOpts{Name: name, DiskFormat: "raw", ContainerFormat: "bare"}).Extract()
	require.NoError(t, err)
	return image.ID
}

// Glance reads "in:", "eq:" and any "word:" at the start of a name filter as
// an operator: every such name is found exactly, and only it.
func TestNamesThatLookLikeFiltersAreFoundExactly(t *testing.T) {
	sc := testenv.Glance(t)
	client := testenv.GlanceClient(t, sc)
	base := testenv.UniqueName(t, sc, "plain")
	decoys := map[string]string{base: create(t, sc, base), base + "-2": create(t, sc, base+"-2")}
	for _, name := range []string{"in:" + base, "in:" + base + "," + base + "-2", "eq:" + base, "gte:" + base,
		`in:"` + base + `"`, `quoted "in:` + base, "ubuntu-22.04:" + base, "2024-09-01T00:00:00Z " + base} {
		id := create(t, sc, name)
		t.Cleanup(func() { _ = images.Delete(context.Background(), sc, id).ExtractErr() })
		found, err := client.FindByName(context.Background(), name)
		require.NoError(t, err, name)
		require.Len(t, found, 1, "%s (filter %s)", name, glance.NameFilter(name))
		assert.Equal(t, id, found[0].ID, name)
	}
	for name, id := range decoys {
		found, err := client.FindByName(context.Background(), name)
		require.NoError(t, err)
		require.Len(t, found, 1, name)
		assert.Equal(t, id, found[0].ID)
	}
}

func TestCheckNameRefusesWhatGlanceRefuses(t *testing.T) {
	assert.NoError(t, glance.CheckName(strings.Repeat("é", glance.MaxNameLength)))
	assert.NoError(t, glance.CheckName("in:ubuntu, jammy \"22.04\""))
	for name, want := range map[string]string{
		strings.Repeat("a", 256): "256 characters long",
		"debian-12-\U0001F680":   "outside Unicode's Basic Multilingual Plane",
		"bad-utf8-\xff":          "not valid UTF-8",
	} {
		err := glance.CheckName(name)
		require.ErrorIs(t, err, glance.ErrInvalidName, name)
		assert.Contains(t, err.Error(), want)
	}
}

// One request in three fails (a 500, an answer lost after Glance did the
// work, a connection reset): uploads still end with exactly one complete
// image each, and no image of a failed try is left.
func TestUploadsConvergeThroughAFaultyGlance(t *testing.T) {
	sc := testenv.Glance(t)
	faulty, proxy := testenv.FaultyGlance(t, sc, testenv.OneIn(3, 7))
	client := testenv.GlanceClient(t, faulty, glance.WithRetries(8))
	for i := 0; i < 4; i++ {
		name := testenv.UniqueName(t, sc, "faulty")
		data := bytes.Repeat([]byte{byte(i + 1)}, 512*(i+1))
		image, err := client.CreateAndUpload(context.Background(), upload(name, data))
		require.NoError(t, err)
		named := testenv.ImagesNamed(t, sc, name)
		require.Len(t, named, 1, "one image, none of the failed tries")
		assert.Equal(t, image.ID, named[0].ID)
		assert.True(t, glance.Complete(&named[0]))
		assert.Equal(t, int64(len(data)), named[0].SizeBytes)
	}
	for _, fault := range []testenv.Fault{testenv.Fail, testenv.LoseAnswer, testenv.Reset} {
		assert.Positive(t, proxy.Injected(fault), "fault %d was injected", fault)
	}
}

// A create that Glance made but whose answer was lost is found again by its
// run marker: the retry does not make a second image.
func TestALostCreateAnswerMakesNoSecondImage(t *testing.T) {
	sc := testenv.Glance(t)
	name := testenv.UniqueName(t, sc, "lost-create")
	creates := 0
	faulty, _ := testenv.FaultyGlance(t, sc, func(r *http.Request, _ []byte, _ int) testenv.Fault {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/v2/images") {
			if creates++; creates == 1 {
				return testenv.LoseAnswer
			}
		}
		return testenv.Pass
	})
	image, err := testenv.GlanceClient(t, faulty).CreateAndUpload(context.Background(), upload(name, make([]byte, 1024)))
	require.NoError(t, err)
	assert.Equal(t, 1, creates, "the image made by the lost create was found, not created again")
	named := testenv.ImagesNamed(t, sc, name)
	require.Len(t, named, 1)
	assert.Equal(t, image.ID, named[0].ID)
}

// A Glance that keeps failing fails the call after the retries, saying how
// many tries were made, and leaves no image. A failing create (POST) is
// tried 1+retries times in all, not once more for each retry of the upload.
func TestRetriesAreBounded(t *testing.T) {
	sc := testenv.Glance(t)
	for _, method := range []string{http.MethodPut, http.MethodPost} {
		name := testenv.UniqueName(t, sc, "bounded")
		faulty, proxy := testenv.FaultyGlance(t, sc, func(r *http.Request, _ []byte, _ int) testenv.Fault {
			if r.Method == method {
				return testenv.Fail
			}
			return testenv.Pass
		})
		_, err := testenv.GlanceClient(t, faulty, glance.WithRetries(2)).CreateAndUpload(context.Background(), upload(name, make([]byte, 512)))
		require.Error(t, err, method)
		assert.Equal(t, 1, strings.Count(err.Error(), "tried 3 times"), "one count of tries (%s): %v", method, err)
		assert.Contains(t, err.Error(), "injected failure")
		assert.Equal(t, 3, proxy.Injected(testenv.Fail), method)
		assert.Empty(t, testenv.ImagesNamed(t, sc, name), method)
	}
}

func TestBadOptionsAreRefused(t *testing.T) {
	for _, opt := range []glance.Option{glance.WithRetries(-1), glance.WithRetryDelay(-1), glance.WithStaleAfter(glance.MinStaleAfter - 1)} {
		_, err := glance.New(&gophercloud.ServiceClient{}, opt)
		assert.ErrorIs(t, err, glance.ErrInvalidOption)
	}
}

// trickle returns 1 KiB every interval until stop is closed, then ends,
// or, when hung is set, sends nothing until it is closed.
type trickle struct {
	interval time.Duration
	stop     <-chan struct{}
	hung     <-chan struct{}
}

func (r *trickle) Read(p []byte) (int, error) {
	if r.hung != nil {
		<-r.hung
		return 0, io.ErrUnexpectedEOF
	}
	select {
	case <-r.stop:
		return 0, io.EOF
	case <-time.After(r.interval):
		return copy(p, make([]byte, min(len(p), 1024))), nil
	}
}

// An upload that keeps sending shows progress (its heartbeat moves
// updated_at) and stays in progress past StaleAfter; one that hangs stops
// beating and becomes stale, so that another run may delete it.
func TestProgressIsWhatKeepsAnUploadInProgress(t *testing.T) {
	sc := testenv.Glance(t)
	// Not MinStaleAfter: the live upload's beats (every StaleAfter/4) must stay
	// well inside StaleAfter though Glance answers slowly on a loaded machine
	// and keeps updated_at in whole seconds.
	staleAfter := 10 * time.Second
	watcher := testenv.GlanceClient(t, sc, glance.WithStaleAfter(staleAfter))
	hung, alive := make(chan struct{}), make(chan struct{})
	t.Cleanup(func() { close(hung) })
	hungName, aliveName := testenv.UniqueName(t, sc, "hung"), testenv.UniqueName(t, sc, "alive")
	for name, data := range map[string]*trickle{hungName: {hung: hung}, aliveName: {interval: 200 * time.Millisecond, stop: alive}} {
		u := upload(name, nil)
		u.Open = func(context.Context) (*glance.Payload, error) { return &glance.Payload{Reader: data}, nil }
		go func() {
			_, _ = testenv.GlanceClient(t, sc, glance.WithStaleAfter(staleAfter)).CreateAndUpload(context.Background(), u)
		}()
	}
	find := func(name string) *images.Image {
		found, err := watcher.FindByName(context.Background(), name)
		require.NoError(t, err)
		if len(found) != 1 {
			return nil
		}
		return &found[0]
	}
	for _, name := range []string{hungName, aliveName} {
		for find(name) == nil {
			time.Sleep(100 * time.Millisecond)
		}
		assert.True(t, watcher.InProgress(find(name)), "%s, just begun", name)
	}
	time.Sleep(2 * staleAfter)
	assert.True(t, watcher.Stale(find(hungName)), "the hung upload, %s later", 2*staleAfter)
	still := find(aliveName)
	assert.True(t, watcher.InProgress(still), "the upload still sending, %s later (%s, updated %s)", 2*staleAfter, still.Status, still.UpdatedAt)
	close(alive)
}

// A beat during an upload waits until Glance shows the image saving: Glance
// saves a PATCHed image whole, status included, so a beat that overlapped
// its own queued-to-saving change wrote "queued" back and the upload ended
// in 410 (seen in tests/integration/25_faults under load). Without a status
// to wait for, the same heartbeat beats.
func TestHeartbeatWaitsForTheUploadsStatus(t *testing.T) {
	sc := testenv.Glance(t)
	client := testenv.GlanceClient(t, sc, glance.WithStaleAfter(glance.MinStaleAfter))
	beats := map[images.ImageStatus]bool{images.ImageStatusSaving: false, "": true}
	for during, beating := range beats {
		created, err := images.Create(context.Background(), sc, images.CreateOpts{
			Name: testenv.UniqueName(t, sc, "heartbeat"), DiskFormat: "raw", ContainerFormat: "bare"}).Extract()
		require.NoError(t, err)
		t.Cleanup(func() { _ = client.Delete(context.Background(), created.ID) })
		progress, stop := client.Heartbeat(context.Background(), created.ID, during)
		// Three beats' time (one every MinStaleAfter/4), with progress each time.
		for range 15 {
			progress(1 << 20)
			time.Sleep(glance.MinStaleAfter / 20)
		}
		stop()
		stop()
		image, err := client.Get(context.Background(), created.ID)
		require.NoError(t, err)
		_, beat := image.Properties[glance.HeartbeatProperty]
		assert.Equal(t, beating, beat, "waiting for %q, the image %s", during, image.Status)
		assert.Equal(t, images.ImageStatusQueued, image.Status)
	}
}

// Runs that delete the same image at once (two losers of a race) all
// succeed: Glance's 400 to the later deletes is taken for what it is.
func TestDeletesOfOneImageAtOnceAllSucceed(t *testing.T) {
	sc := testenv.Glance(t)
	client := testenv.GlanceClient(t, sc)
	for range 3 {
		image, err := client.CreateAndUpload(context.Background(), upload(testenv.UniqueName(t, sc, "deleted"), make([]byte, 4<<20)))
		require.NoError(t, err)
		errs := make(chan error, 4)
		for range 4 {
			go func() { errs <- client.Delete(context.Background(), image.ID) }()
		}
		for range 4 {
			assert.NoError(t, <-errs)
		}
	}
}
