// Package novastub is a STUB of one call of OpenStack Nova, for tests where a
// real Nova cannot run: "List Servers Detailed" (GET /v2.1/servers/detail),
// as the Compute API reference describes it
// (https://docs.openstack.org/api-ref/compute/#list-servers-detailed):
//
//   - without all_tenants, only the servers of the caller's project
//     (Project) are listed; with all_tenants=True (or true, 1, yes) every
//     project's are;
//   - paging: at most limit servers per page (Nova's max_limit when limit is
//     absent or larger), after the server named by marker; a full page
//     carries a "servers_links" next link with the same query and the page's
//     last ID as marker; an unknown marker is 400 "marker [ID] not found";
//   - each server has Nova's keys (id, name, status, tenant_id, user_id,
//     image, flavor, created, updated, addresses, metadata, links,
//     OS-EXT-STS:vm_state), image being {"id", "links"} or "" for a server
//     booted from a volume.
//
// Nothing else of Nova is there: other paths answer 404. It binds 127.0.0.1
// only. It is a stub, not Nova: tests that use it say so.
package novastub
