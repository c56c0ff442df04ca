package fetch

import (
	"context"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHTTPSCertificates(t *testing.T) {
	path := compressedImage(t, CompressionGzip)
	var calls atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.ServeFile(w, r, path)
	}))
	// The refused handshake below would otherwise be logged.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644))
	url := srv.URL + "/disk.gz"

	_, err := Open(context.Background(), url, fast...)
	require.Error(t, err, "a certificate from an unknown authority is refused")
	assert.Contains(t, err.Error(), "certificate")
	assert.Contains(t, err.Error(), url)
	assert.NotContains(t, err.Error(), "gave up", "a certificate problem is not retried")
	assert.Zero(t, calls.Load())

	for name, o := range map[string]Option{"CA file": WithCAFile(caFile), "insecure": WithInsecureSkipVerify(true)} {
		t.Run(name, func(t *testing.T) {
			src, err := Open(context.Background(), url, opts(o)...)
			require.NoError(t, err)
			defer src.Close()
			n, err := io.Copy(io.Discard, src)
			require.NoError(t, err)
			assert.Equal(t, int64(8<<20), n)
		})
	}
}
