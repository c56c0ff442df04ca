package cleaner

import (
	"context"
	"fmt"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/pagination"
)

// listedServer is what the cleaner reads of a server in Nova's detailed list.
type listedServer struct {
	ID       string `json:"id"`
	TenantID string `json:"tenant_id"`
	// Image is {"id": ..., "links": [...]}, or "" for a server booted from a volume.
	Image any `json:"image"`
}

// imagesInUse maps each image ID that a server references to the IDs of
// those servers, over every project and status (all_tenants, every page).
// Any failure is returned: without the whole list nothing may be touched.
func imagesInUse(ctx context.Context, compute *gophercloud.ServiceClient) (map[string][]string, error) {
	used := map[string][]string{}
	err := servers.List(compute, servers.ListOpts{AllTenants: true}).EachPage(ctx, func(_ context.Context, page pagination.Page) (bool, error) {
		var listed []listedServer
		if err := servers.ExtractServersInto(page, &listed); err != nil {
			return false, err
		}
		for _, server := range listed {
			if image, ok := server.Image.(map[string]any); ok {
				if id, _ := image["id"].(string); id != "" {
					used[id] = append(used[id], server.ID)
				}
			}
		}
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing the servers of every project in Nova at %s to find the images in use: %w", compute.Endpoint, err)
	}
	return used, nil
}
