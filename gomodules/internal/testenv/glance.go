package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/imageops/cloud/gomodules/openstack/conn"
	"github.com/imageops/cloud/gomodules/openstack/glance"
)

// RequireServices tells whether missing services fail tests instead of
// skipping them (IMAGEOPS_REQUIRE_SERVICES=1, set by `make test`).
func RequireServices() bool { return os.Getenv("IMAGEOPS_REQUIRE_SERVICES") == "1" }

// Glance returns an image client for the local Glance named by OS_CLOUD in
// OS_CLIENT_CONFIG_FILE (scripts/glance.sh writes both).
func Glance(t testing.TB) *gophercloud.ServiceClient {
	t.Helper()
	if os.Getenv("OS_CLIENT_CONFIG_FILE") == "" || os.Getenv("OS_CLOUD") == "" {
		if RequireServices() {
			t.Fatal("no local Glance: OS_CLIENT_CONFIG_FILE and OS_CLOUD are not set (run through scripts/test.sh)")
		}
		t.Skip("no local Glance (run `make test`, or source the env file of scripts/glance.sh start)")
	}
	clients, err := conn.Connect(context.Background(), conn.Config{})
	if err != nil {
		t.Fatalf("connecting to the local Glance: %v", err)
	}
	client, err := clients.Image()
	if err != nil {
		t.Fatal(err)
	}
	return client
}

// UniqueName returns a name no other test uses, and deletes every image with
// that name when the test ends.
func UniqueName(t testing.TB, client *gophercloud.ServiceClient, prefix string) string {
	t.Helper()
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	name := prefix + "-" + hex.EncodeToString(suffix)
	t.Cleanup(func() {
		for _, image := range ImagesNamed(t, client, name) {
			if image.Protected {
				_, _ = images.Update(context.Background(), client, image.ID,
					images.UpdateOpts{images.ReplaceImageProtected{NewProtected: false}}).Extract()
			}
			_ = images.Delete(context.Background(), client, image.ID).ExtractErr()
		}
	})
	return name
}

// ImagesNamed lists every image with that name, whatever its status,
// visibility (Glance's visibility filter "all" includes community images) and
// os_hidden flag (hidden images are only listed when asked for).
func ImagesNamed(t testing.TB, client *gophercloud.ServiceClient, name string) []images.Image {
	t.Helper()
	var found []images.Image
	for _, hidden := range []bool{false, true} {
		opts := images.ListOpts{Name: glance.NameFilter(name), Visibility: images.ImageVisibility("all"), Hidden: hidden}
		pages, err := images.List(client, opts).AllPages(context.Background())
		if err != nil {
			t.Fatalf("listing images named %q (os_hidden %v): %v", name, hidden, err)
		}
		page, err := images.ExtractImages(pages)
		if err != nil {
			t.Fatal(err)
		}
		for _, image := range page {
			if image.Name == name {
				found = append(found, image)
			}
		}
	}
	return found
}

// GlanceClient returns the Glance layer's client over sc, with fast retries
// (3 tries 10 ms apart, so that a test of a failing Glance ends quickly) and
// then opts.
func GlanceClient(t testing.TB, sc *gophercloud.ServiceClient, opts ...glance.Option) *glance.Client {
	t.Helper()
	client, err := glance.New(sc, append([]glance.Option{glance.WithRetries(2), glance.WithRetryDelay(10 * time.Millisecond)}, opts...)...)
	if err != nil {
		t.Fatalf("making a Glance client: %v", err)
	}
	return client
}

// Patient are the Glance client options of tests that run several clients
// at once against the one local Glance, whose sqlite database answers some
// concurrent writes with a 500 ("database is locked"): more, slower retries.
var Patient = []glance.Option{glance.WithRetries(6), glance.WithRetryDelay(100 * time.Millisecond)}
