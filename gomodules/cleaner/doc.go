// Package cleaner retires old images from OpenStack Glance: it hides the
// images of a managed set once they are older than a number of calendar
// months and deletes them once they are older than a larger number, leaving
// alone the newest images of each group, protected images (never deleted),
// listed images and images that servers use. It is the logic of the
// imageops.cloud.image_cleaner module.
//
// The managed set is what the filters select (Glance property filters, owner,
// tags, and a name pattern applied by the client) in every place the cleaner
// could have left an image: every visibility (Glance's visibility=all) and
// both values of os_hidden. An image the cleaner hid is therefore found again
// and deleted when its time comes, whichever hide method was used. Only
// published images (public, community) and images the cleaner hid itself
// (marked with HiddenProperty) are managed: a private or shared image that
// the cleaner did not hide belongs to a project, even when it matches the
// filters (a snapshot inherits its base image's name and properties).
//
// Age is measured from Glance's created_at against a reference time (Options.Now,
// default the current time) in calendar months: an image is old enough to
// hide when created_at is at or before the same day and time HideAfterMonths
// months before now, the day clamped to the end of a shorter month (31 March
// minus one month is the last day of February).
//
// "In use" means that a server of any project, in any status, references the
// image: the cleaner lists servers with Nova's "List Servers Detailed"
// (GET /servers/detail?all_tenants=True, paged with marker; Compute API
// reference, https://docs.openstack.org/api-ref/compute/#list-servers-detailed).
// Servers booted from a volume show no image there (image is ""), so a volume
// created from an image does not keep that image: Cinder is not asked.
//
// Images that Ironic nodes boot are never hidden or deleted, whatever the
// policy says, when the Cleaner is given WithNodeReferences (the module does
// when the cloud has a baremetal endpoint): a node's driver_info deploy and
// rescue kernel and ramdisk and its instance_info image_source (see
// baremetal.FindImageReferences). They are reported as skipped, with the
// nodes that name them; a node list that cannot be read fails the run
// before anything is written.
//
// The cost of a run is a fixed number of list requests per page of images
// (two listings: os_hidden false and true) and of servers, plus one request per
// image that is hidden or deleted; images left alone cost no request of their
// own. Glance terms follow the Image service API v2 reference
// (https://docs.openstack.org/api-ref/image/v2/).
package cleaner
