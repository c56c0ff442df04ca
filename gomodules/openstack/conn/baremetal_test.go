package conn

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
)

func TestBaremetalEndpointOverride(t *testing.T) {
	for _, suffix := range []string{"", "/", "/v1", "/v1/"} {
		t.Run("override"+suffix, func(t *testing.T) {
			work := isolate(t)
			writeFile(t, filepath.Join(work, "clouds.yaml"), fmt.Sprintf(`clouds:
  standalone:
    auth_type: none
    baremetal_endpoint_override: http://127.0.0.1:6385%s
`, suffix))
			clients, err := Connect(context.Background(), Config{Cloud: "standalone"})
			if err != nil {
				t.Fatal(err)
			}
			if !clients.HasBaremetal() {
				t.Error("HasBaremetal() = false with an override")
			}
			ironic, err := clients.Ironic()
			if err != nil {
				t.Fatal(err)
			}
			if got := ironic.ServiceClient().ServiceURL("nodes"); got != "http://127.0.0.1:6385/v1/nodes" {
				t.Errorf("nodes URL = %q", got)
			}
		})
	}
}
