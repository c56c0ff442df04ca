package mirror_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageops/cloud/gomodules/imageref"
	"github.com/imageops/cloud/gomodules/mirror"
	"github.com/imageops/cloud/gomodules/mirror/mirrortest"
)

// countingProxy is a reverse proxy in front of a registry that counts, by
// kind, the requests it forwards; host is its "127.0.0.1:PORT".
type countingProxy struct {
	host   string
	mu     sync.Mutex
	counts map[string]int
	blobs  map[string]int // blob digest -> times its bytes were uploaded
}

// startCountingProxy starts the proxy; each change, when given, may alter
// a request before it is forwarded, or answer it itself (true).
func startCountingProxy(t *testing.T, reg *mirrortest.Registry, changes ...func(http.ResponseWriter, *http.Request) bool) *countingProxy {
	t.Helper()
	target, err := url.Parse(reg.URL())
	require.NoError(t, err)
	p := &countingProxy{counts: map[string]int{}, blobs: map[string]int{}}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(resp *http.Response) error {
		req := resp.Request
		kind := req.Method + " other"
		switch {
		case req.URL.Path == "/v2/":
			kind = "ping"
		case strings.Contains(req.URL.Path, "/manifests/"):
			kind = req.Method + " manifest"
		case req.Method == http.MethodPost && req.URL.Query().Get("mount") != "" && resp.StatusCode == http.StatusCreated:
			kind = "mount"
		case strings.Contains(req.URL.Path, "/blobs/uploads/"):
			kind = req.Method + " upload"
		case strings.Contains(req.URL.Path, "/blobs/"):
			kind = req.Method + " blob"
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		p.counts[kind]++
		if req.Method == http.MethodPut && strings.Contains(req.URL.Path, "/blobs/uploads/") {
			p.blobs[req.URL.Query().Get("digest")]++
		}
		return nil
	}
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		for _, change := range changes {
			if change(w, req) {
				return
			}
		}
		proxy.ServeHTTP(w, req)
	}))
	t.Cleanup(server.Close)
	p.host = strings.TrimPrefix(server.URL, "http://")
	return p
}

func (p *countingProxy) snapshot() (map[string]int, map[string]int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	counts, blobs := map[string]int{}, map[string]int{}
	for k, v := range p.counts {
		counts[k] = v
	}
	for k, v := range p.blobs {
		blobs[k] = v
	}
	return counts, blobs
}

// pushSharing pushes to src, under each of paths ("repo:tag"), an image of
// base and a small top layer of its own; it returns path -> reference.
func pushSharing(t *testing.T, src *mirrortest.Registry, base v1.Layer, paths ...string) map[string]string {
	t.Helper()
	images := map[string]string{}
	for _, path := range paths {
		img, err := mutate.AppendLayers(empty.Image, base, mirrortest.NewRandomLayer("top-"+path, 4<<10, types.DockerLayer))
		require.NoError(t, err)
		ref := src.Host + "/" + path
		_, err = mirrortest.Push(context.Background(), ref, img)
		require.NoError(t, err)
		images[path] = ref
	}
	return images
}

// sharingRun is the result of copyShared.
type sharingRun struct {
	report *mirror.Report
	counts map[string]int // requests the target got, by kind
	blobs  map[string]int // blob digest -> times its bytes were uploaded
	base   string         // the shared layer's digest
}

// copyShared pushes images sharing a base layer of size bytes under paths
// (see pushSharing) and copies them, jobs at a time, to a new registry
// behind a counting proxy (with changes); every image must be copied and
// have the source's digest.
func copyShared(t *testing.T, size int64, jobCount int, paths []string, changes ...func(http.ResponseWriter, *http.Request) bool) sharingRun {
	t.Helper()
	src := mirrortest.Start(t)
	dst := mirrortest.Start(t)
	base := mirrortest.NewRandomLayer("base-"+t.Name(), size, types.DockerLayer)
	digest, err := base.Digest()
	require.NoError(t, err)
	images := pushSharing(t, src, base, paths...)
	proxy := startCountingProxy(t, dst, changes...)
	report, err := mirror.Mirror(context.Background(), jobs(t, proxy.host, imageref.Path, images), mirror.WithJobs(jobCount))
	require.NoError(t, err)
	require.Len(t, report.Copied, len(paths), "%+v", report.Failed)
	for _, r := range report.Copied {
		assert.Equal(t, r.Digest, headDigest(t, r.Target))
	}
	counts, uploads := proxy.snapshot()
	return sharingRun{report: report, counts: counts, blobs: uploads, base: digest.String()}
}

// TestSharedLayersAreUploadedOnceAndMounted copies three images that share
// a base layer into three repositories of one registry, all at the same
// time: the base is uploaded once and the two others wait for it and mount
// it (one request each, no bytes), as Atmosphere's OpenStack images share
// their runtime layers.
func TestSharedLayersAreUploadedOnceAndMounted(t *testing.T) {
	run := copyShared(t, 4<<20, 3, []string{"shared/a:1", "shared/b:1", "shared/c:1"})
	counts, uploads := run.counts, run.blobs
	assert.Equal(t, 1, uploads[run.base], "the shared base layer is uploaded once")
	assert.Equal(t, 2, counts["mount"], "and mounted into the two other repositories")
	assert.Equal(t, counts["mount"], run.report.Stats.Requests[mirror.RequestMount], "the report counts the mounts")
	// 7 blobs are uploaded (the base, three tops, three configs): each in
	// one POST (offering a mount from the repository itself, which the
	// registry answers with an upload session) and one PUT, with no HEAD; a
	// mount is one POST.
	assert.Len(t, uploads, 7, "every other blob is uploaded once: %v", uploads)
	assert.Zero(t, counts["HEAD blob"], "no HEAD before an upload or a mount: %v", counts)
	assert.Equal(t, 7, counts["POST upload"], "one POST per upload: %v", counts)
	assert.Equal(t, 7, counts["PUT upload"], "and one monolithic PUT: %v", counts)
	assert.Zero(t, counts["PATCH upload"], "no PATCH: %v", counts)
}

// TestRefusedMountIsUploadedIntoItsSession: a registry that does not mount
// (ECR, or one where the source repository is not readable) answers the
// mount offer with an upload session; the blob is uploaded into it, with no
// other request, and every image is complete.
func TestRefusedMountIsUploadedIntoItsSession(t *testing.T) {
	// The registry never sees the offer: it starts a plain upload (202).
	refuse := func(_ http.ResponseWriter, req *http.Request) bool {
		if req.URL.Query().Has("mount") {
			req.URL.RawQuery = ""
		}
		return false
	}
	run := copyShared(t, 1<<20, 2, []string{"refused/a:1", "refused/b:1"}, refuse)
	assert.Equal(t, 2, run.blobs[run.base], "the base is uploaded into each repository")
	assert.Zero(t, run.counts["mount"])
	assert.Equal(t, 1, run.report.Stats.Requests[mirror.RequestMountRefused], "the refusal is counted: %v", run.report.Stats.Requests)
	assert.Equal(t, run.counts["POST upload"], run.counts["PUT upload"], "every session gets its bytes: %v", run.counts)
}

// TestBlobWriteIsRetriedFromANewSession: a 503 on a blob's PUT (a registry
// restarting, a proxy in between) is retried with a new upload session, and
// the image is copied.
func TestBlobWriteIsRetriedFromANewSession(t *testing.T) {
	src := mirrortest.Start(t)
	dst := mirrortest.Start(t)
	img, err := mutate.AppendLayers(empty.Image, mirrortest.NewRandomLayer("retried", 256<<10, types.DockerLayer))
	require.NoError(t, err)
	ref := src.Host + "/retried/image:1"
	_, err = mirrortest.Push(context.Background(), ref, img)
	require.NoError(t, err)
	var failed sync.Once
	unavailable := func(w http.ResponseWriter, req *http.Request) bool {
		answered := false
		if req.Method == http.MethodPut && strings.Contains(req.URL.Path, "/blobs/uploads/") {
			failed.Do(func() {
				http.Error(w, `{"errors":[{"code":"UNAVAILABLE","message":"restarting"}]}`, http.StatusServiceUnavailable)
				answered = true
			})
		}
		return answered
	}
	proxy := startCountingProxy(t, dst, unavailable)

	report, err := mirror.Mirror(context.Background(), jobs(t, proxy.host, imageref.Path, map[string]string{"image": ref}), fast)
	require.NoError(t, err)
	require.Len(t, report.Copied, 1, "%+v", report.Failed)
	counts, _ := proxy.snapshot()
	assert.Equal(t, 3, counts["POST upload"], "the layer's session, a new one for its retry, and the config's: %v", counts)
	assert.Equal(t, report.Copied[0].Digest, headDigest(t, report.Copied[0].Target))
}

// TestRerunAsksEachImageOnceAndCountsItsRequests: a run where every image is
// already there costs one HEAD per target and one per source tag (none for
// a pinned source), whatever the number of repositories; the version check
// is answered once per registry, not once per repository. Stats counts what
// reached the registry.
func TestRerunAsksEachImageOnceAndCountsItsRequests(t *testing.T) {
	src := startSource(t)
	dst := mirrortest.Start(t)
	images := map[string]string{"keystone": src.single, "ceph": src.multi, "memcached": src.pin}
	files := mirrortest.RealFiles()
	for _, n := range []string{"glance", "nova", "neutron", "cinder", "heat"} {
		img, err := mirrortest.Image(platforms[0], n, files...)
		require.NoError(t, err)
		ref := src.reg.Host + "/openstack/" + n + ":2024.1"
		_, err = mirrortest.Push(context.Background(), ref, img)
		require.NoError(t, err)
		images[n] = ref
	}
	proxy := startCountingProxy(t, dst)
	todo := jobs(t, proxy.host+"/mirror", imageref.Flatten, images)

	first, err := mirror.Mirror(context.Background(), todo)
	require.NoError(t, err)
	require.Len(t, first.Copied, 8, "%+v", first.Failed)
	counts, _ := proxy.snapshot()
	assert.LessOrEqual(t, counts["ping"], 2, "one version check for the target registry, not one per repository")
	assert.Equal(t, 16, counts["HEAD manifest"], "a HEAD per image before the copy, and one after to verify it")
	for _, r := range first.Copied {
		assert.Greater(t, r.Seconds, 0.0, "each image has its time")
	}

	before, _ := proxy.snapshot()
	again, err := mirror.Mirror(context.Background(), todo)
	require.NoError(t, err)
	require.Len(t, again.Skipped, 8)
	after, _ := proxy.snapshot()
	assert.Equal(t, 8, after["HEAD manifest"]-before["HEAD manifest"], "one HEAD per target")
	assert.LessOrEqual(t, after["ping"]-before["ping"], 2)
	var others int
	for kind, n := range after {
		if kind != "HEAD manifest" && kind != "ping" {
			others += n - before[kind]
		}
	}
	assert.Zero(t, others, "nothing else is asked of the target: %v", after)
	requests := again.Stats.Requests
	assert.Equal(t, 8+7, requests[mirror.RequestManifestHead], "8 targets and 7 tagged sources; the pinned one needs no request")
	assert.LessOrEqual(t, requests[mirror.RequestPing], 4, "two registries, each tried over HTTPS then HTTP")
	assert.Len(t, requests, 2, "only HEADs and version checks: %v", requests)
	assert.Positive(t, again.Stats.Seconds)
}

// TestConnectionsAreReusedAndHTTP2IsUsedWhereOffered: the target speaks
// TLS and offers HTTP/2 (docker-registry does); the plain-HTTP source keeps
// its connections alive. Copying eight images opens a handful of
// connections, not one per request.
func TestConnectionsAreReusedAndHTTP2IsUsedWhereOffered(t *testing.T) {
	src := startSource(t)
	dst := mirrortest.Start(t, mirrortest.WithTLS())
	images := map[string]string{"keystone": src.single, "ceph": src.multi, "memcached": src.pin}
	for _, n := range []string{"glance", "nova", "neutron", "cinder", "heat"} {
		img, err := mirrortest.Image(platforms[0], n, mirrortest.RealFiles()...)
		require.NoError(t, err)
		ref := src.reg.Host + "/openstack/" + n + ":2024.1"
		_, err = mirrortest.Push(context.Background(), ref, img)
		require.NoError(t, err)
		images[n] = ref
	}
	report, err := mirror.Mirror(context.Background(), jobs(t, dst.Host+"/mirror", imageref.Flatten, images), mirror.WithCACert(dst.CAFile))
	require.NoError(t, err)
	require.Len(t, report.Copied, 8, "%+v", report.Failed)
	stats := report.Stats
	t.Logf("requests %v, connections %d, protocols %v", stats.Requests, stats.Connections, stats.Protocols)
	assert.Positive(t, stats.Protocols["HTTP/2.0"], "the TLS registry is spoken to in HTTP/2: %v", stats.Protocols)
	assert.Positive(t, stats.Protocols["HTTP/1.1"], "the plain-HTTP one in HTTP/1.1: %v", stats.Protocols)
	total := 0
	for _, n := range stats.Requests {
		total += n
	}
	assert.Less(t, stats.Connections, total/4, "connections are reused (%d connections for %d requests)", stats.Connections, total)
}

// TestTagsOfOneRepositoryMountOnce: two tags of one repository share a
// layer with an image of another repository (Atmosphere's sidecars come in
// several tags): the layer is uploaded once and mounted once into the
// repository of the two tags, whose second copy sends nothing for it.
func TestTagsOfOneRepositoryMountOnce(t *testing.T) {
	run := copyShared(t, 1<<20, 1, []string{"tags/x:1", "tags/y:1", "tags/y:2"})
	assert.Equal(t, 1, run.blobs[run.base], "the base is uploaded once")
	assert.Equal(t, 1, run.counts["mount"], "and mounted once, into the other repository: %v", run.counts)
	assert.Equal(t, 7, run.counts["POST upload"], "a POST for each of the 7 uploads (the base, 3 tops, 3 configs) only: %v", run.counts)
	assert.Zero(t, run.counts["HEAD blob"], "no HEAD: %v", run.counts)
}

// TestBlobsAlreadyInTheRepositoryAreNotSentAgain: a later run copies to
// the same repository a new tag sharing a layer with the tag an earlier run
// wrote, and replaces that earlier tag with a third image of the layer. The
// new tag's blobs are offered as mounts from the repository itself, which
// the registry (docker-registry) links without their bytes when it has them
// (201) and answers with an upload session when it has not; the replaced
// tag's blobs are asked for with a HEAD first. The shared layer's bytes are
// sent once over the three runs.
func TestBlobsAlreadyInTheRepositoryAreNotSentAgain(t *testing.T) {
	src := mirrortest.Start(t)
	dst := mirrortest.Start(t)
	base := mirrortest.NewRandomLayer("kept-"+t.Name(), 1<<20, types.DockerLayer)
	digest, err := base.Digest()
	require.NoError(t, err)
	images := pushSharing(t, src, base, "kept/a:1", "kept/a:2", "kept/a:3")
	proxy := startCountingProxy(t, dst)
	copyOne := func(path, tag string) {
		t.Helper()
		todo := jobs(t, proxy.host, imageref.Path, map[string]string{"image": images[path]})
		todo[0].Target.Tag = tag
		report, err := mirror.Mirror(context.Background(), todo)
		require.NoError(t, err)
		require.Len(t, report.Copied, 1, "%+v", report.Failed)
		assert.Equal(t, report.Copied[0].Digest, headDigest(t, report.Copied[0].Target))
	}

	copyOne("kept/a:1", "1")
	before, _ := proxy.snapshot()
	copyOne("kept/a:2", "2") // a new tag
	after, uploads := proxy.snapshot()
	assert.Equal(t, 1, uploads[digest.String()], "the shared layer's bytes are sent once")
	assert.Equal(t, 1, after["mount"]-before["mount"], "the new tag's shared layer is linked by a mount from its own repository: %v", after)
	assert.Equal(t, 2, after["PUT upload"]-before["PUT upload"], "only its own layer and config are sent: %v", after)
	assert.Zero(t, after["HEAD blob"], "and no blob is asked for with a HEAD: %v", after)

	copyOne("kept/a:3", "1") // replaces the image at tag 1
	last, uploads := proxy.snapshot()
	assert.Equal(t, 1, uploads[digest.String()], "the shared layer's bytes are still sent once")
	assert.Equal(t, 3, last["HEAD blob"]-after["HEAD blob"], "a replacing image's blobs are asked for with a HEAD: %v", last)
	assert.Equal(t, 2, last["PUT upload"]-after["PUT upload"], "and only the missing ones sent: %v", last)
}

// TestTagsOfOneRepositoryCopiedAtOnceMountOnce: three tags of one
// repository and an image of another, all sharing a layer, copied at the
// same time: the layer is uploaded once and mounted once into the other
// repository; the tags that come second wait for that write instead of
// sending their own.
func TestTagsOfOneRepositoryCopiedAtOnceMountOnce(t *testing.T) {
	run := copyShared(t, 1<<20, 4, []string{"once/x:1", "once/y:1", "once/y:2", "once/y:3"})
	assert.Equal(t, 1, run.blobs[run.base], "the base is uploaded once")
	assert.Equal(t, 1, run.counts["mount"], "and mounted once, whichever image comes first: %v", run.counts)
}
