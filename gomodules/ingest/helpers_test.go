package ingest

import (
	"context"
	"os"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
)

func openFile(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func imagedataUpload(client *gophercloud.ServiceClient, id string, f *os.File) error {
	return imagedata.Upload(context.Background(), client, id, f).ExtractErr()
}
