// Package glance is the collection's one Glance layer: every module that
// reads or writes images (community_image, image_cleaner, image_deployer)
// goes through it. It keeps the image vocabulary (disk and container formats,
// visibilities, Glance's own fields, Flatten), the provenance properties
// this collection records on the images it creates, the lookup of images by
// name (any name: Glance reads "in:" and other "op:" prefixes of a name
// filter as operators, see NameFilter), create + upload + read-back
// verification (os_hash_value), updates and deletes, and the retries of all
// of those.
//
// # Projects
//
// A Client is scoped to one project (WithProject, which conn.Clients.Glance
// sets to the token's project, or WithOwner for another project an admin
// names): FindByName finds only images that project owns, of every
// visibility, and CreateAndUpload creates images for it. An admin, whom
// Glance lists every project's images, thus never finds, changes or deletes
// another project's image by accident. FindShared lists the public and
// community images of other projects, for callers that use them read only.
//
// # Import
//
// CreateAndImport fills an image through Glance's interoperable import
// (web-download, glance-direct) instead of PUT /file, waits for it to be
// active, checks os_hash_value, and deletes the image when the import task
// fails, returning the task's message.
//
// Terms follow the Image service API v2 reference
// (https://docs.openstack.org/api-ref/image/v2/): disk_format,
// container_format, visibility, owner, os_hash_algo and os_hash_value.
//
// # Retries
//
// A Client retries a call that failed with a 5xx or 429 answer, or without
// an answer (connection refused or reset, EOF), up to WithRetries times with
// exponential back-off from WithRetryDelay, capped at MaxRetryDelay (a
// Retry-After header of a 429 or 503 answer is honoured, within the same
// cap). A call that cannot be repeated safely is made safe first:
//
//   - a create whose answer was lost is looked for again by its run marker
//     (RunProperty, unique per Upload) before it is sent again, so that a
//     retry never makes a second image;
//   - an upload is repeated from the start of its data (Upload.Open is called
//     again: a temporary file, or the source URL downloaded again) into a new
//     image, after the image of the failed attempt was deleted.
//
// # Uploads in progress, stale leftovers and concurrent runs
//
// Glance shows no progress of an upload (size is set when it ends), so an
// uploading Client shows it: it patches HeartbeatProperty every
// StaleAfter/4 in which data was sent, which moves the image's updated_at;
// an upload that hangs stops beating. Beats never overlap Glance's own
// changes of the image's status (a PATCH saves the status it read, and
// would undo them): they start once Glance shows the upload under way, and
// the data's last byte waits for a beat in flight.
// An image this collection created (it has SourceURLProperty) that is not
// finished (see Complete) is in progress while its updated_at is younger
// than StaleAfter, and a stale leftover after: the run that made it died
// (SIGKILL, a reboot, a Glance restarted mid-upload leaves a "saving"
// image), so any run may delete it. Glance removes HeartbeatProperty itself
// when the upload ends.
//
// When several runs upload the same image at once, each compares its image
// with the others of the name (Converge): the oldest (created_at, then ID)
// unfinished-or-complete image wins, every run hands back the winner's ID,
// and each loser deletes its own image.
package glance
