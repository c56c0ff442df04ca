// Package baremetal is the collection's thin layer over OpenStack Ironic
// (the Bare Metal API v1, https://docs.openstack.org/api-ref/baremetal/),
// through gophercloud's baremetal/v1 nodes and allocations packages: the
// node fields the modules read (driver_info deploy_kernel/deploy_ramdisk,
// instance_info image_source, resource_class, provision and power states,
// maintenance, last_error, extra), JSON patches of nodes, provision state
// changes and waits, and allocations (Ironic's own reservation of a node of
// a resource class).
//
// A Client pins the API microversion it was written for (DefaultMicroversion,
// 1.52: the first with allocations and a node's allocation_uuid), so the
// fields it reads are there whatever the server's newest version.
//
// Conflicts (HTTP 409: a node locked by a conductor or in a transition) are
// recognised with IsConflict so that callers can retry them; every other
// error names the node or allocation and what was being done.
//
// ImageReferences (and FindImageReferences, on nodes already read) says
// which Glance images nodes name in the driver_info and instance_info
// fields Ironic boots and deploys from, and where: what must not be deleted
// while a node may boot it.
//
// conn.Clients.Ironic builds a Client for the cloud's baremetal endpoint (the
// service catalog's `baremetal`, or baremetal_endpoint_override for a
// standalone Ironic with auth_type none).
package baremetal
