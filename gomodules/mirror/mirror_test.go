package mirror_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageops/cloud/gomodules/imageref"
	"github.com/imageops/cloud/gomodules/mirror"
	"github.com/imageops/cloud/gomodules/mirror/mirrortest"
)

var platforms = []v1.Platform{
	{OS: "linux", Architecture: "amd64"},
	{OS: "linux", Architecture: "arm64", Variant: "v8"},
	{OS: "linux", Architecture: "arm", Variant: "v7"},
}

// fast retries keep failing cases short.
var fast = mirror.WithRetry(remote.Backoff{Duration: 10 * time.Millisecond, Factor: 2, Steps: 2})

// source is a plain-HTTP registry holding a single-platform image, a
// three-platform index and an image referenced by tag and digest.
type source struct {
	reg                   *mirrortest.Registry
	single, multi, pin    string // references
	singleD, multiD, pinD string // their digests
}

func startSource(t *testing.T) *source {
	t.Helper()
	ctx := context.Background()
	s := &source{reg: mirrortest.Start(t)}
	files := mirrortest.RealFiles()
	require.NotEmpty(t, files)
	img, err := mirrortest.Image(platforms[0], "single", files...)
	require.NoError(t, err)
	s.single = s.reg.Host + "/openstack/keystone:2024.1"
	s.singleD, err = mirrortest.Push(ctx, s.single, img)
	require.NoError(t, err)
	idx, err := mirrortest.Index("multi", platforms, files...)
	require.NoError(t, err)
	s.multi = s.reg.Host + "/ceph/ceph:v18"
	s.multiD, err = mirrortest.Push(ctx, s.multi, idx)
	require.NoError(t, err)
	pinned, err := mirrortest.Image(platforms[0], "pinned", files...)
	require.NoError(t, err)
	s.pinD, err = mirrortest.Push(ctx, s.reg.Host+"/library/memcached:1.6", pinned)
	require.NoError(t, err)
	s.pin = s.reg.Host + "/library/memcached:1.6@" + s.pinD
	return s
}

func jobs(t *testing.T, target string, strategy imageref.Strategy, images map[string]string) []mirror.Job {
	t.Helper()
	reg, err := imageref.ParseRegistry(target)
	require.NoError(t, err)
	plan, err := imageref.Plan(images, &reg, strategy)
	require.NoError(t, err)
	var out []mirror.Job
	for _, m := range plan {
		out = append(out, mirror.Job{Source: m.Source, Target: m.Target, Names: []string{m.Name}})
	}
	return out
}

func headDigest(t *testing.T, ref string, opts ...remote.Option) string {
	t.Helper()
	r, err := name.ParseReference(ref)
	require.NoError(t, err)
	desc, err := remote.Head(r, opts...)
	require.NoError(t, err, ref)
	return desc.Digest.String()
}

func sources(rs []mirror.Result) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.Source)
	}
	return out
}

func TestMirrorAllPlatformsThenRerunCopiesNothing(t *testing.T) {
	src := startSource(t)
	dst := mirrortest.Start(t)
	images := map[string]string{
		"keystone_api":  src.single,
		"keystone_db":   src.single, // same source: copied once
		"ceph":          src.multi,
		"memcached":     src.pin,
		"memcached_too": src.pin,
	}
	todo := jobs(t, dst.Host+"/mirror", imageref.Flatten, images)
	ctx := context.Background()

	report, err := mirror.Mirror(ctx, todo, mirror.WithInsecure(dst.Host))
	require.NoError(t, err)
	require.Empty(t, report.Failed)
	assert.True(t, report.Changed())
	require.Len(t, report.Copied, 3, "five names over three distinct images")
	assert.Empty(t, report.Skipped)

	byTarget := map[string]mirror.Result{}
	for _, r := range report.Copied {
		byTarget[r.Target] = r
	}
	ks := byTarget[dst.Host+"/mirror/keystone:2024.1"]
	assert.Equal(t, []string{"keystone_api", "keystone_db"}, ks.Names)
	assert.Equal(t, src.singleD, ks.Digest)

	// Every digest equal at source and target, the index's children included.
	assert.Equal(t, src.singleD, headDigest(t, dst.Host+"/mirror/keystone:2024.1"))
	assert.Equal(t, src.multiD, headDigest(t, dst.Host+"/mirror/ceph:v18"))
	ref, err := name.ParseReference(dst.Host + "/mirror/ceph:v18")
	require.NoError(t, err)
	idx, err := remote.Index(ref)
	require.NoError(t, err)
	manifest, err := idx.IndexManifest()
	require.NoError(t, err)
	require.Len(t, manifest.Manifests, len(platforms))
	for _, d := range manifest.Manifests {
		child := fmt.Sprintf("%s/mirror/ceph@%s", dst.Host, d.Digest)
		srcChild := fmt.Sprintf("%s/ceph/ceph@%s", src.reg.Host, d.Digest)
		assert.Equal(t, headDigest(t, srcChild), headDigest(t, child), d.Platform.String())
	}
	// The tag of a tag@digest reference is pushed, and holds that digest.
	assert.Equal(t, src.pinD, headDigest(t, dst.Host+"/mirror/memcached:1.6"))

	again, err := mirror.Mirror(ctx, todo, mirror.WithInsecure(dst.Host))
	require.NoError(t, err)
	assert.False(t, again.Changed())
	assert.Empty(t, again.Copied)
	assert.Empty(t, again.Failed)
	assert.ElementsMatch(t, sources(report.Copied), sources(again.Skipped))
}

func TestMirrorStrategiesWriteWhereImagerefSays(t *testing.T) {
	src := startSource(t)
	dst := mirrortest.Start(t)
	for _, s := range imageref.Strategies {
		todo := jobs(t, dst.Host, s, map[string]string{"ceph": src.multi})
		report, err := mirror.Mirror(context.Background(), todo)
		require.NoError(t, err)
		require.Len(t, report.Copied, 1, s)
		assert.Equal(t, todo[0].Target.String(), report.Copied[0].Target)
		assert.Equal(t, src.multiD, headDigest(t, todo[0].Target.String()), s)
	}
}

func TestMirrorSelectedPlatforms(t *testing.T) {
	src := startSource(t)
	dst := mirrortest.Start(t)
	todo := jobs(t, dst.Host, imageref.Path, map[string]string{"ceph": src.multi, "keystone": src.single})
	opts := []mirror.Option{mirror.WithPlatforms("linux/amd64", "linux/arm64")}
	report, err := mirror.Mirror(context.Background(), todo, opts...)
	require.NoError(t, err)
	require.Empty(t, report.Failed)
	require.Len(t, report.Copied, 2)

	target := dst.Host + "/ceph/ceph:v18"
	ref, err := name.ParseReference(target)
	require.NoError(t, err)
	idx, err := remote.Index(ref)
	require.NoError(t, err)
	manifest, err := idx.IndexManifest()
	require.NoError(t, err)
	var got []string
	for _, d := range manifest.Manifests {
		got = append(got, d.Platform.String())
	}
	assert.ElementsMatch(t, []string{"linux/amd64", "linux/arm64/v8"}, got)
	for _, r := range report.Copied {
		assert.Equal(t, headDigest(t, r.Target), r.Digest, "the report gives the target's digest")
	}
	assert.Equal(t, src.singleD, headDigest(t, dst.Host+"/openstack/keystone:2024.1"), "single-platform images are copied as they are")

	again, err := mirror.Mirror(context.Background(), todo, opts...)
	require.NoError(t, err)
	assert.False(t, again.Changed())
	assert.Len(t, again.Skipped, 2)

	none, err := mirror.Mirror(context.Background(), jobs(t, dst.Host+"/other", imageref.Path, map[string]string{"ceph": src.multi}),
		mirror.WithPlatforms("windows/amd64"))
	require.NoError(t, err)
	require.Len(t, none.Failed, 1)
	assert.Equal(t, mirror.ReasonPlatform, none.Failed[0].Reason)
	assert.Contains(t, none.Failed[0].Msg, "linux/arm/v7", "the message lists the platforms the image has")
}

func TestMirrorFailuresAreReportedAndOthersCopy(t *testing.T) {
	src := startSource(t)
	plain := mirrortest.Start(t)
	secured := mirrortest.Start(t, mirrortest.WithBasicAuth("mirror", "right-password-123"))
	closed := closedPort(t)

	const wrong = "wrong-password-456"
	var todo []mirror.Job
	todo = append(todo, jobs(t, secured.Host, imageref.Flatten, map[string]string{"keystone": src.single})...)
	todo = append(todo, jobs(t, plain.Host, imageref.Flatten, map[string]string{
		"missing": src.reg.Host + "/openstack/nova:does-not-exist",
		"ceph":    src.multi,
	})...)
	todo = append(todo, jobs(t, closed, imageref.Flatten, map[string]string{"memcached": src.pin})...)

	report, err := mirror.Mirror(context.Background(), todo, fast,
		mirror.WithCACert(secured.CAFile),
		mirror.WithAuth(secured.Host, authn.AuthConfig{Username: "mirror", Password: wrong}))
	require.NoError(t, err)
	require.Len(t, report.Copied, 1, "%+v", report)
	assert.Equal(t, plain.Host+"/ceph:v18", report.Copied[0].Target)
	assert.Equal(t, src.multiD, headDigest(t, plain.Host+"/ceph:v18"))

	reasons := map[string]mirror.Reason{}
	for _, f := range report.Failed {
		reasons[f.Target] = f.Reason
		assert.NotEmpty(t, f.Msg)
		assert.NotContains(t, f.Msg, wrong)
		assert.True(t, strings.Contains(f.Msg, f.Source) || strings.Contains(f.Msg, f.Target), "the message names the image: %s", f.Msg)
	}
	assert.Equal(t, map[string]mirror.Reason{
		secured.Host + "/keystone:2024.1":     mirror.ReasonAuth,
		plain.Host + "/nova:does-not-exist":   mirror.ReasonNotFound,
		closed + "/memcached:1.6@" + src.pinD: mirror.ReasonNetwork,
	}, reasons)

	// With the right password the same image copies over verified TLS.
	ok, err := mirror.Mirror(context.Background(), todo[:1], mirror.WithCACert(secured.CAFile),
		mirror.WithAuth(secured.Host, authn.AuthConfig{Username: "mirror", Password: "right-password-123"}))
	require.NoError(t, err)
	require.Len(t, ok.Copied, 1, "%+v", ok.Failed)
}

func TestMirrorTLSTrust(t *testing.T) {
	src := startSource(t)
	secured := mirrortest.Start(t, mirrortest.WithTLS())
	todo := jobs(t, secured.Host, imageref.Flatten, map[string]string{"keystone": src.single})

	untrusted, err := mirror.Mirror(context.Background(), todo, fast)
	require.NoError(t, err)
	require.Len(t, untrusted.Failed, 1)
	assert.Equal(t, mirror.ReasonTLS, untrusted.Failed[0].Reason, untrusted.Failed[0].Msg)

	insecure, err := mirror.Mirror(context.Background(), todo, mirror.WithInsecure(secured.Host))
	require.NoError(t, err)
	require.Len(t, insecure.Copied, 1, "%+v", insecure.Failed)

	trusted, err := mirror.Mirror(context.Background(), todo, mirror.WithCACert(secured.CAFile))
	require.NoError(t, err)
	require.Len(t, trusted.Skipped, 1, "%+v", trusted.Failed)
}

func TestMirrorDryRunWritesNothing(t *testing.T) {
	src := startSource(t)
	dst := mirrortest.Start(t)
	todo := jobs(t, dst.Host, imageref.Flatten, map[string]string{"ceph": src.multi, "keystone": src.single})
	report, err := mirror.Mirror(context.Background(), todo, mirror.WithDryRun(true))
	require.NoError(t, err)
	assert.Len(t, report.Copied, 2)
	for _, r := range report.Copied {
		ref, err := name.ParseReference(r.Target)
		require.NoError(t, err)
		_, err = remote.Head(ref)
		assert.Error(t, err, "dry run wrote %s", r.Target)
	}
	resp, err := http.Get(dst.URL() + "/v2/_catalog")
	require.NoError(t, err)
	defer resp.Body.Close()
	var catalog struct{ Repositories []string }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&catalog))
	assert.Empty(t, catalog.Repositories, "dry run created repositories")
}

func TestMirrorRetriesRateLimits(t *testing.T) {
	var limited atomic.Int32
	handler := ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)))
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/manifests/") && r.Method == http.MethodGet && limited.Add(1) <= 2 {
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		handler.ServeHTTP(w, r)
	}))
	t.Cleanup(server.Close)
	host := strings.TrimPrefix(server.URL, "http://")
	img, err := mirrortest.Image(platforms[0], "retry", mirrortest.RealFiles()...)
	require.NoError(t, err)
	digest, err := mirrortest.Push(context.Background(), host+"/src/app:1", img)
	require.NoError(t, err)

	todo := jobs(t, host+"/dst", imageref.Flatten, map[string]string{"app": host + "/src/app:1"})
	report, err := mirror.Mirror(context.Background(), todo, mirror.WithRetry(remote.Backoff{Duration: 10 * time.Millisecond, Factor: 2, Steps: 4}))
	require.NoError(t, err)
	require.Len(t, report.Copied, 1, "%+v", report.Failed)
	assert.Equal(t, digest, report.Copied[0].Digest)
	assert.GreaterOrEqual(t, limited.Load(), int32(3), "the 429s were served and retried")

	limited.Store(-100) // every GET of a manifest is now refused
	report, err = mirror.Mirror(context.Background(), jobs(t, host+"/dst2", imageref.Flatten, map[string]string{"app": host + "/src/app:1"}),
		mirror.WithRetry(remote.Backoff{Duration: time.Millisecond, Factor: 1, Steps: 2}))
	require.NoError(t, err)
	require.Len(t, report.Failed, 1)
	assert.Equal(t, mirror.ReasonRateLimited, report.Failed[0].Reason, report.Failed[0].Msg)
}

func TestOptionsRejectBadValues(t *testing.T) {
	cases := map[string]mirror.Option{
		"jobs must be at least 1, got 0":     mirror.WithJobs(0),
		`platform "amd64"`:                   mirror.WithPlatforms("amd64"),
		`registry "r.example.com": expected`: mirror.WithAuth("r.example.com", authn.AuthConfig{}),
		"username and password must both":    mirror.WithAuth("r.example.com", authn.AuthConfig{Username: "u"}),
		"not both":                           mirror.WithAuth("r.example.com", authn.AuthConfig{Username: "u", Password: "p", RegistryToken: "t"}),
		"reading the CA certificates":        mirror.WithCACert("/nonexistent/ca.pem"),
	}
	for want, opt := range cases {
		_, err := mirror.Mirror(context.Background(), nil, opt)
		require.Error(t, err, want)
		assert.Contains(t, err.Error(), want)
	}
}

// closedPort returns "127.0.0.1:PORT" where nothing listens.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// TestMirrorSelectedPlatformsOfPinnedIndex: keeping only some platforms of an
// index gives a new index digest, which a reference pinned to the source's
// digest cannot point at; such an image fails with reason platform, naming
// the digest, rather than leaving a manifest that points at nothing.
func TestMirrorSelectedPlatformsOfPinnedIndex(t *testing.T) {
	src := startSource(t)
	dst := mirrortest.Start(t)
	pinnedMulti := src.multi + "@" + src.multiD
	byDigest := src.reg.Host + "/ceph/ceph@" + src.multiD
	todo := jobs(t, dst.Host, imageref.Path, map[string]string{"tagged": pinnedMulti, "untagged": byDigest, "single": src.pin})
	report, err := mirror.Mirror(context.Background(), todo, mirror.WithPlatforms("linux/amd64"))
	require.NoError(t, err)
	require.Len(t, report.Copied, 1, "%+v", report.Failed)
	assert.Equal(t, src.pinD, report.Copied[0].Digest, "a pinned single-platform image is copied as it is")
	require.Len(t, report.Failed, 2)
	for _, f := range report.Failed {
		assert.Equal(t, mirror.ReasonPlatform, f.Reason, f.Msg)
		assert.Contains(t, f.Msg, src.multiD)
	}
	_, err = remote.Head(mustRef(t, dst.Host+"/ceph/ceph:v18"))
	assert.Error(t, err, "nothing was written under the tag")

	// Keeping every platform the index has keeps its digest: no failure.
	all, err := mirror.Mirror(context.Background(), todo, mirror.WithPlatforms("linux/amd64", "linux/arm64", "linux/arm"))
	require.NoError(t, err)
	require.Empty(t, all.Failed)
	assert.Equal(t, src.multiD, headDigest(t, dst.Host+"/ceph/ceph:v18"))
}

func mustRef(t *testing.T, ref string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(ref)
	require.NoError(t, err)
	return r
}

// TestVersionCheckFailureIsNotKept: the version check (GET /v2/) is answered
// once per registry for the run, but a 503 is not that answer: the retry
// asks the registry again and the copy goes through.
func TestVersionCheckFailureIsNotKept(t *testing.T) {
	var pings atomic.Int32
	handler := ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)))
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" && pings.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		handler.ServeHTTP(w, r)
	}))
	t.Cleanup(server.Close)
	host := strings.TrimPrefix(server.URL, "http://")
	img, err := mirrortest.Image(platforms[0], "ping", mirrortest.RealFiles()...)
	require.NoError(t, err)
	pings.Store(-100) // the seeding pings succeed
	_, err = mirrortest.Push(context.Background(), host+"/src/app:1", img)
	require.NoError(t, err)
	pings.Store(0)

	todo := jobs(t, host+"/dst", imageref.Flatten, map[string]string{"app": host + "/src/app:1", "app2": host + "/src/app:1"})
	report, err := mirror.Mirror(context.Background(), todo, mirror.WithRetry(remote.Backoff{Duration: 10 * time.Millisecond, Factor: 2, Steps: 3}))
	require.NoError(t, err)
	require.Len(t, report.Copied, 1, "%+v", report.Failed)
	assert.GreaterOrEqual(t, pings.Load(), int32(2), "the 503 was not kept as the registry's answer")
	assert.LessOrEqual(t, pings.Load(), int32(4), "the 200 was")
}
