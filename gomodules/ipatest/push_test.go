package ipatest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageops/cloud/gomodules/internal/testenv"
	"github.com/imageops/cloud/gomodules/openstack/baremetal"
	"github.com/imageops/cloud/gomodules/openstack/conn"
)

// lockingProxy stands in front of the real Ironic and answers a node's
// PATCHes with Ironic's 409 NodeLocked: the first `times` ones (-1: all).
type lockingProxy struct {
	mu    sync.Mutex
	locks map[string]int
	seen  map[string]int
}

func (p *lockingProxy) handler(target *url.URL) http.Handler {
	proxy := httputil.NewSingleHostReverseProxy(target)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPatch {
			p.mu.Lock()
			for uuid, left := range p.locks {
				if strings.HasSuffix(r.URL.Path, "/nodes/"+uuid) && left != 0 {
					p.locks[uuid] = left - 1
					p.seen[uuid]++
					p.mu.Unlock()
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(http.StatusConflict)
					_, _ = w.Write([]byte(`{"error_message": "{\"faultcode\": \"Client\", \"faultstring\": \"Node ` + uuid +
						` is locked by host imageops-ironic, please retry after the current operation is completed.\", \"debuginfo\": null}"}`))
					return
				}
			}
			p.mu.Unlock()
		}
		proxy.ServeHTTP(w, r)
	})
}

func TestPushRetriesLockedNodesAndReportsThoseThatStayLocked(t *testing.T) {
	real := testenv.Ironic(t)
	ctx := context.Background()
	rc := "test-push-" + time.Now().Format("150405.000")
	old := map[string]any{baremetal.DeployKernelKey: "old-k", baremetal.DeployRamdiskKey: "old-r"}
	tested, _ := testenv.EnrollNode(t, real, testenv.TestNode{Name: "a-tested", ResourceClass: rc, DriverInfo: old})
	briefly, _ := testenv.EnrollNode(t, real, testenv.TestNode{Name: "b-briefly-locked", ResourceClass: rc, DriverInfo: old})
	stuck, _ := testenv.EnrollNode(t, real, testenv.TestNode{Name: "c-stuck", ResourceClass: rc, DriverInfo: old})
	other, _ := testenv.EnrollNode(t, real, testenv.TestNode{Name: "d-other-type", ResourceClass: rc + "-other", DriverInfo: old})

	target, err := url.Parse(os.Getenv("IMAGEOPS_IRONIC_URL"))
	require.NoError(t, err)
	locks := &lockingProxy{locks: map[string]int{briefly.UUID: 2, stuck.UUID: -1}, seen: map[string]int{}}
	proxy := httptest.NewServer(locks.handler(target))
	defer proxy.Close()
	clients, err := conn.Connect(ctx, conn.Config{AuthType: "none", BaremetalEndpointOverride: proxy.URL})
	require.NoError(t, err)
	ironic, err := clients.Ironic()
	require.NoError(t, err)

	// The state a passed test leaves: the tested node has the pair and its record.
	p := pair{Kernel: "new-k", Ramdisk: "new-r"}
	rec := newRecord(tested, p, "", currentProcess(), time.Now(), time.Minute)
	_, err = real.Patch(ctx, tested.UUID, append(p.setOps(), baremetal.Set(baremetal.FieldPath("extra", RecordKey), rec))...)
	require.NoError(t, err)
	nodes, err := real.Nodes(ctx, baremetal.ListOptions{ResourceClass: rc})
	require.NoError(t, err)

	tester := New(nil, ironic, WithReserver(noReservation{}), WithConflictRetries(3, 10*time.Millisecond))
	r := &run{Tester: tester, opts: Options{NodeType: rc, Push: true}, tested: p,
		result: Result{Pushed: []string{}, PushFailed: []PushFailure{}, Diff: Diff{Before: pairsOf(nodes), After: pairsOf(nodes)}}}
	r.result.Node = tested.Name
	err = r.push(ctx, tested, rec, nodes)

	require.Error(t, err)
	assert.Contains(t, err.Error(), "1 node(s) of type")
	assert.Contains(t, err.Error(), stuck.Name)
	assert.Equal(t, StepPush, r.result.FailedStep)
	assert.Equal(t, []string{tested.Name, briefly.Name}, r.result.Pushed)
	require.Len(t, r.result.PushFailed, 1)
	assert.Equal(t, stuck.Name, r.result.PushFailed[0].Node)
	assert.Contains(t, r.result.PushFailed[0].Error, "is locked by host")
	assert.Equal(t, 2, locks.seen[briefly.UUID], "b was refused twice, then went through (it is in Pushed)")
	assert.Equal(t, 4, locks.seen[stuck.UUID], "c was refused at its try and its 3 retries")

	for _, want := range []struct {
		node baremetal.Node
		pair map[string]any
	}{{tested, p.driverInfoAny()}, {briefly, p.driverInfoAny()}, {stuck, old}, {other, old}} {
		got, err := real.Node(ctx, want.node.UUID)
		require.NoError(t, err)
		assert.Equal(t, want.pair, got.DriverInfo, want.node.Name)
		assert.Empty(t, got.Extra, want.node.Name)
	}
}

func (p pair) driverInfoAny() map[string]any {
	return map[string]any{baremetal.DeployKernelKey: p.Kernel, baremetal.DeployRamdiskKey: p.Ramdisk}
}

// noReservation is a Reserver that reserves nothing, for tests of later steps.
type noReservation struct{}

func (noReservation) Describe(baremetal.Node) string                          { return "nothing" }
func (noReservation) Reserve(context.Context, baremetal.Node) (string, error) { return "", nil }
func (noReservation) Release(context.Context, baremetal.Node, string) error   { return nil }
func (noReservation) Leftover(context.Context, baremetal.Node, time.Duration) (string, bool, error) {
	return "", false, nil
}
func (noReservation) Taken(error) bool { return false }
