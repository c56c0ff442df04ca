package novastub_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageops/cloud/gomodules/cleaner/novastub"
)

// The stub is read with gophercloud's own server list and Server type, as a
// real Nova would be: the shapes must decode, the paging must end.

func client(stub *novastub.Stub) *gophercloud.ServiceClient {
	return &gophercloud.ServiceClient{ProviderClient: &gophercloud.ProviderClient{HTTPClient: http.Client{}},
		Endpoint: stub.URL + "/", Type: "compute"}
}

func TestStubListsLikeNova(t *testing.T) {
	stub, err := novastub.Start([]novastub.Server{
		{ID: "s1", Name: "mine", Status: "ACTIVE", TenantID: novastub.Project, ImageID: "img-1"},
		{ID: "s2", Name: "theirs", Status: "SHUTOFF", TenantID: "other", ImageID: "img-2"},
		{ID: "s3", Name: "volume-booted", Status: "ACTIVE", TenantID: "other"},
	}, novastub.WithMaxLimit(2))
	require.NoError(t, err)
	t.Cleanup(func() { _ = stub.Close() })
	ctx := context.Background()

	pages, err := servers.List(client(stub), servers.ListOpts{}).AllPages(ctx)
	require.NoError(t, err)
	own, err := servers.ExtractServers(pages)
	require.NoError(t, err)
	require.Len(t, own, 1, "without all_tenants, only the caller's project")
	assert.Equal(t, "img-1", own[0].Image["id"])

	pages, err = servers.List(client(stub), servers.ListOpts{AllTenants: true}).AllPages(ctx)
	require.NoError(t, err)
	all, err := servers.ExtractServers(pages)
	require.NoError(t, err)
	require.Len(t, all, 3, "every project, over two pages")
	assert.Nil(t, all[2].Image, "a volume-booted server has image \"\"")
	assert.Equal(t, "SHUTOFF", all[1].Status)

	_, err = servers.List(client(stub), servers.ListOpts{AllTenants: true, Marker: "gone"}).AllPages(ctx)
	assert.True(t, gophercloud.ResponseCodeIs(err, http.StatusBadRequest), "an unknown marker is 400: %v", err)
}
