package mirror_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageops/cloud/gomodules/mirror"
)

// TestReasonOfDialTimeoutIsNetwork: a registry that never answers the TCP
// handshake (a firewall dropping packets) fails with a dial timeout, which
// Go's net package reports as matching context.DeadlineExceeded. It is a
// network failure, not a cancelled run.
func TestReasonOfDialTimeoutIsNetwork(t *testing.T) {
	_, err := (&net.Dialer{Timeout: time.Nanosecond}).Dial("tcp", "127.0.0.1:9")
	require.Error(t, err)
	require.True(t, errors.Is(err, context.DeadlineExceeded), "precondition: %v", err)
	assert.Equal(t, mirror.ReasonNetwork, mirror.ReasonOf(fmt.Errorf("reading x: %w", err)))

	assert.Equal(t, mirror.ReasonCancelled, mirror.ReasonOf(fmt.Errorf("reading x: %w", context.Canceled)))
	assert.Equal(t, mirror.ReasonCancelled, mirror.ReasonOf(fmt.Errorf("reading x: %w", context.DeadlineExceeded)))
}
