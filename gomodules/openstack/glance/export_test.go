package glance

import (
	"context"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
)

// Heartbeat runs the heartbeat of an upload into image id, for the tests of
// package glance_test: progress adds bytes sent, stop ends it.
func (c *Client) Heartbeat(ctx context.Context, id string, during images.ImageStatus) (progress func(int64), stop func()) {
	sent := &countingReader{}
	return func(n int64) { sent.n.Add(n) }, c.heartbeat(ctx, id, sent, during)
}
