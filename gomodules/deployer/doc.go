// Package deployer subscribes a site's Glance to a catalog of released
// images and keeps it current. It is the logic of the
// imageops.cloud.image_deployer module.
//
// A catalog lists releases, each with a production name (the name users boot
// from) and a version. Three formats are read (see ParseCatalog):
//
//   - azimuth: azimuth-images' release manifest.json, an object key ->
//     {name, url, checksum, checksum_sha512, kubernetes_version, version}.
//     The production name is the key; the version is "version" when present,
//     else "name" (azimuth-images names each build uniquely).
//   - chameleon: an index, a JSON object production name -> version. The
//     release's files lie under a versioned path beside the index (or under
//     ChameleonBaseURL): <base>/<name>/<version>/<name>.<disk_format> is the
//     image and <base>/<name>/<version>/<name>.manifest a JSON object whose
//     scalar values become image properties (as the .manifest objects of
//     Chameleon's image store do); optional "checksum" and "checksum_sha512"
//     keys there verify the download instead.
//   - specs: a YAML (or JSON) list of community_image specs (name,
//     source_url, checksum, ...) with an optional "version"; without one,
//     the version is checksum_sha512, else checksum, else source_url.
//
// The released version of an image is recorded in its property
// ReleaseProperty (imageops_release), and its production name in
// ReleaseNameProperty. For each release: when the image with the production
// name already records that version, nothing is written. Otherwise the new
// version is uploaded with the community_image package under a temporary,
// private name (<name>.imageops-incoming) and, only once it is active, the
// previous image is renamed <name>-<its created_at as 20060102T150405Z> and
// marked SupersededProperty=true (with SupersededByProperty and
// SupersededAtProperty), then the new image takes the production name and
// visibility. A failed upload leaves the production image as it was; when
// the new image cannot take the production name, the previous image gets it
// back. Every step can be repeated: a run interrupted after the upload, or
// between the two renames, finds the incoming image again and only promotes it.
//
// Glance terms follow the Image service API v2 reference
// (https://docs.openstack.org/api-ref/image/v2/).
package deployer
