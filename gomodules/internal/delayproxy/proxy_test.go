package delayproxy_test

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageops/cloud/gomodules/internal/delayproxy"
)

// echoServer answers each connection by echoing what it reads.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); _, _ = io.Copy(c, c) }()
		}
	}()
	return ln.Addr().String()
}

func TestRoundTripsTakeTwiceTheDelayAndBytesArriveIntact(t *testing.T) {
	// Long enough that a loaded machine's scheduling delays (tens of ms, at times a
	// few hundred) stay well inside the 2-delay margin of the upper bound below.
	const delay = 400 * time.Millisecond
	p, err := delayproxy.Start("127.0.0.1:0", echoServer(t), delay)
	require.NoError(t, err)
	t.Cleanup(func() { p.Close() })

	start := time.Now()
	c, err := net.Dial("tcp", p.Addr())
	require.NoError(t, err)
	defer c.Close()
	payload := bytes.Repeat([]byte("imageops"), 100_000) // 800 kB, several chunks
	go func() { _, _ = c.Write(payload) }()
	got := make([]byte, len(payload))
	_, err = io.ReadFull(c, got)
	require.NoError(t, err)
	first := time.Since(start)
	assert.Equal(t, payload, got)
	assert.GreaterOrEqual(t, first, 4*delay, "a new connection pays the handshake's round trip, then the request's")

	start = time.Now()
	_, err = c.Write([]byte("ping"))
	require.NoError(t, err)
	_, err = io.ReadFull(c, got[:4])
	require.NoError(t, err)
	again := time.Since(start)
	assert.GreaterOrEqual(t, again, 2*delay)
	assert.Less(t, again, 4*delay, "an open connection pays one round trip, not a handshake again")
}

func TestOnlyLoopbackAddresses(t *testing.T) {
	_, err := delayproxy.Start("0.0.0.0:0", "127.0.0.1:1", time.Millisecond)
	assert.ErrorIs(t, err, delayproxy.ErrNotLoopback)
	_, err = delayproxy.Start("127.0.0.1:0", "192.0.2.1:80", time.Millisecond)
	assert.ErrorIs(t, err, delayproxy.ErrNotLoopback)
}
