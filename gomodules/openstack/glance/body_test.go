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
