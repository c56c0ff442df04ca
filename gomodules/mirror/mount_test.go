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

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageops/cloud/gomodules/imageref"
	"github.com/imageops/cloud/gomodules/mirror"
	"github.com/imageops/cloud/gomodules/mirror/mirrortest"
)

// TestSharedLayersAreMountedNotUploadedAgain copies two images that share
// their base layer into two repositories of one registry: the second gets
// the base layer by a cross-repository mount, without its bytes.
func TestSharedLayersAreMountedNotUploadedAgain(t *testing.T) {
	src := mirrortest.Start(t)
	dst := mirrortest.Start(t)
	files := mirrortest.RealFiles()
	var refs []string
	for _, salt := range []string{"a", "b"} {
		img, err := mirrortest.Image(platforms[0], salt, files...)
		require.NoError(t, err)
		ref := src.Host + "/shared/" + salt + ":1"
		_, err = mirrortest.Push(context.Background(), ref, img)
		require.NoError(t, err)
		refs = append(refs, ref)
	}

	var mu sync.Mutex
	var uploads, mounts int
	target, err := url.Parse(dst.URL())
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(resp *http.Response) error {
		mu.Lock()
		defer mu.Unlock()
		req := resp.Request
		switch {
		case req.Method == http.MethodPost && req.URL.Query().Get("mount") != "" && resp.StatusCode == http.StatusCreated:
			mounts++
		case req.Method == http.MethodPatch || (req.Method == http.MethodPut && strings.Contains(req.URL.Path, "/blobs/uploads/")):
			if req.Method == http.MethodPatch {
				uploads++
			}
		}
		return nil
	}
	server := httptest.NewServer(proxy)
	t.Cleanup(server.Close)
	host := strings.TrimPrefix(server.URL, "http://")

	todo := jobs(t, host, imageref.Path, map[string]string{"a": refs[0], "b": refs[1]})
	report, err := mirror.Mirror(context.Background(), todo, mirror.WithJobs(1))
	require.NoError(t, err)
	require.Len(t, report.Copied, 2, "%+v", report.Failed)
	// a: base layer, top layer, config; b: top layer and config, base mounted.
	assert.Equal(t, 1, mounts, "the shared base layer is mounted once")
	assert.Equal(t, 5, uploads, "the shared base layer is not uploaded twice")
	for _, r := range report.Copied {
		assert.Equal(t, r.Digest, headDigest(t, r.Target))
	}
}
