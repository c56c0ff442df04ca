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

func startCountingProxy(t *testing.T, reg *mirrortest.Registry) *countingProxy {
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
	server := httptest.NewServer(proxy)
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

// TestSharedLayersAreUploadedOnceAndMounted copies three images that share
// a base layer into three repositories of one registry, all at the same
// time: the base is uploaded once and the two others wait for it and mount
// it (one request each, no bytes), as Atmosphere's OpenStack images share
// their runtime layers.
func TestSharedLayersAreUploadedOnceAndMounted(t *testing.T) {
	src := mirrortest.Start(t)
	dst := mirrortest.Start(t)
	base := mirrortest.NewRandomLayer("shared-base", 4<<20, types.DockerLayer)
	baseDigest, err := base.Digest()
	require.NoError(t, err)
	images := map[string]string{}
	for _, salt := range []string{"a", "b", "c"} {
		img, err := mutate.AppendLayers(empty.Image, base, mirrortest.NewRandomLayer("top-"+salt, 64<<10, types.DockerLayer))
		require.NoError(t, err)
		ref := src.Host + "/shared/" + salt + ":1"
		_, err = mirrortest.Push(context.Background(), ref, img)
		require.NoError(t, err)
		images[salt] = ref
	}
	proxy := startCountingProxy(t, dst)

	report, err := mirror.Mirror(context.Background(), jobs(t, proxy.host, imageref.Path, images), mirror.WithJobs(3))
	require.NoError(t, err)
	require.Len(t, report.Copied, 3, "%+v", report.Failed)
	counts, uploads := proxy.snapshot()
	assert.Equal(t, 1, uploads[baseDigest.String()], "the shared base layer is uploaded once")
	assert.Equal(t, 2, counts["mount"], "and mounted into the two other repositories")
	assert.Equal(t, counts["mount"], report.Stats.Requests[mirror.RequestMount], "the report counts the mounts")
	for _, r := range report.Copied {
		assert.Equal(t, r.Digest, headDigest(t, r.Target))
	}
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
