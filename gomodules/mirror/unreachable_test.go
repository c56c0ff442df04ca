package mirror_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageops/cloud/gomodules/imageref"
	"github.com/imageops/cloud/gomodules/mirror"
)

// TestUnreachableRegistryIsTriedOnce: once a registry could not be connected
// to, the other images from it fail at once with the same reason, instead of
// each waiting for its own connection timeout (30 s per image for a
// registry behind a firewall that drops packets).
func TestUnreachableRegistryIsTriedOnce(t *testing.T) {
	closed := closedPort(t)
	var dials atomic.Int32
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	base := remote.DefaultTransport.(*http.Transport).Clone()
	base.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if addr == closed {
			dials.Add(1)
		}
		return dialer.DialContext(ctx, network, addr)
	}

	images := map[string]string{}
	for i := 0; i < 5; i++ {
		images[fmt.Sprintf("image%d", i)] = fmt.Sprintf("%s/group/image%d:1", closed, i)
	}
	report, err := mirror.Mirror(context.Background(), jobs(t, "127.0.0.1:1/mirror", imageref.Flatten, images),
		mirror.WithTransport(base), mirror.WithJobs(1), fast)
	require.NoError(t, err)
	require.Len(t, report.Failed, 5)
	for _, f := range report.Failed {
		assert.Equal(t, mirror.ReasonNetwork, f.Reason, f.Msg)
		assert.Contains(t, f.Msg, closed)
	}
	assert.Equal(t, int32(1), dials.Load(), "the unreachable registry is dialled once, not once per image and scheme")
}

// TestSilentRegistryTimesOut: a registry that accepts connections but never
// answers fails the image after WithResponseTimeout instead of hanging.
func TestSilentRegistryTimesOut(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var mu sync.Mutex
	var held []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	})
	silent := l.Addr().String()

	// The TLS handshake has its own timeout (10 s by default): shortened here.
	base := remote.DefaultTransport.(*http.Transport).Clone()
	base.TLSHandshakeTimeout = 200 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	report, err := mirror.Mirror(ctx, jobs(t, "127.0.0.1:1/mirror", imageref.Flatten, map[string]string{"a": silent + "/x/y:1"}),
		mirror.WithTransport(base), mirror.WithResponseTimeout(200*time.Millisecond), mirror.WithInsecure(silent), fast)
	require.NoError(t, err, "the run hung until the test's deadline")
	require.Len(t, report.Failed, 1)
	assert.Equal(t, mirror.ReasonNetwork, report.Failed[0].Reason, report.Failed[0].Msg)
	assert.Less(t, time.Since(start), 10*time.Second)

	_, err = mirror.Mirror(ctx, nil, mirror.WithResponseTimeout(0))
	assert.ErrorContains(t, err, "response timeout must be positive")
}
