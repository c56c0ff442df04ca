package testenv

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/imageops/cloud/gomodules/openstack/conn"
)

// KeystoneCloud connects to a cloud of the local Keystone + Glance cloud
// (scripts/cloud.sh; scripts/test.sh starts it and sets
// IMAGEOPS_CLOUD_STATE): name is one of its clouds.yaml entries (admin,
// demo, other, appcred). It skips the test when the cloud is not running,
// unless IMAGEOPS_REQUIRE_SERVICES=1.
func KeystoneCloud(t testing.TB, name string) *conn.Clients {
	t.Helper()
	state := os.Getenv("IMAGEOPS_CLOUD_STATE")
	if state == "" {
		if RequireServices() {
			t.Fatal("no local Keystone cloud: IMAGEOPS_CLOUD_STATE is not set (run through scripts/test.sh)")
		}
		t.Skip("no local Keystone cloud (run `make test`, or scripts/cloud.sh start and export IMAGEOPS_CLOUD_STATE)")
	}
	t.Setenv("OS_CLIENT_CONFIG_FILE", filepath.Join(state, "clouds.yaml"))
	clients, err := conn.Connect(context.Background(), conn.Config{Cloud: name})
	if err != nil {
		t.Fatalf("connecting to the local Keystone cloud %q: %v", name, err)
	}
	return clients
}
