package glance

import (
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// gophercloud rewinds a request's body (Seek(0, io.SeekStart)) before it
// sends the request again after renewing a refused token: an upload body
// not read yet may be sent again, one partly read may not (the rest of a
// stream would be stored as the whole image), and that failure is retried
// from the data's start. The real 401 is drilled in tests/integration/15_keystone.
func TestUploadBodyRewind(t *testing.T) {
	body := &countingReader{r: strings.NewReader("image data")}
	var _ io.ReadSeeker = body
	at, err := body.Seek(0, io.SeekStart)
	require.NoError(t, err, "nothing read yet: the body is at its start")
	assert.Zero(t, at)

	buf := make([]byte, 4)
	_, err = body.Read(buf)
	require.NoError(t, err)
	_, err = body.Seek(0, io.SeekStart)
	require.ErrorIs(t, err, ErrDataAlreadySent)
	assert.True(t, Retryable(fmt.Errorf("uploading image %q: %w", "x", err)), "the upload is tried again, from a fresh reading")
}

// An upload body holds the data's last byte back until beforeEnd returned
// (Glance ends the upload only once it has every byte: see heartbeat), both
// when net/http reads it and when it writes itself (WriteTo), and hands on
// every byte, in order.
func TestUploadBodyHoldsTheLastByteUntilBeforeEnd(t *testing.T) {
	data := strings.Repeat("0123456789", 1000)
	for _, how := range []string{"Read", "WriteTo"} {
		var got strings.Builder
		var seenAtEnd int
		body := &countingReader{r: strings.NewReader(data)}
		body.beforeEnd = func() { seenAtEnd = got.Len() }
		var err error
		if how == "Read" {
			_, err = io.CopyBuffer(&got, struct{ io.Reader }{body}, make([]byte, 333))
		} else {
			_, err = body.WriteTo(&got)
		}
		require.NoError(t, err, how)
		assert.Equal(t, data, got.String(), how)
		assert.Equal(t, len(data)-1, seenAtEnd, "%s: beforeEnd ran with all but the last byte handed on", how)
		assert.EqualValues(t, len(data), body.n.Load(), how)
		_, err = body.Seek(0, io.SeekStart)
		assert.ErrorIs(t, err, ErrDataAlreadySent, how)
	}

	held := &countingReader{r: strings.NewReader("ab"), beforeEnd: func() {}}
	buf := make([]byte, 1)
	n, err := held.Read(buf)
	require.NoError(t, err)
	assert.Zero(t, n, "one byte read is held, none handed on")
	_, err = held.Seek(0, io.SeekStart)
	assert.ErrorIs(t, err, ErrDataAlreadySent, "a byte held was read from the stream: it cannot start again")
}
