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
//   - chameleon: Chameleon's image store as CC-Images publishes it and
//     hammers-v2's image_deployer reads it (ChameleonStore):
//     <object store>/<container>/<scope>/current is the index, a JSON object
//     production name -> version; <scope>/versions/<version>/<name>.<disk
//     format> is the image and <name>.manifest a JSON object (build-* keys)
//     whose scalar values become image properties; optional "checksum" and
//     "checksum_sha512" keys there verify the download instead. A Chameleon
//     release is recorded in the property "current" too (CurrentProperty),
//     and an image that records it there (as Chameleon's deployer leaves
//     it) counts as deployed; a superseded one is archived as Chameleon
//     archives it, <name>_<build-timestamp> with <image_metadata_field>=no.
//   - specs: a YAML (or JSON) list of community_image specs (name,
//     source_url, checksum, ...) with an optional "version"; without one,
//     the version is checksum_sha512, else checksum, else source_url.
//
// The released version of an image is recorded in its property
// ReleaseProperty (imageops_release), and its production name in
// ReleaseNameProperty. Only images with the production name and the
// production visibility count (a user's private image of that name does
// not), as in hammers-v2. For each release: when the image with the
// production name already records that version, nothing is written. Otherwise the new
// version is uploaded with the ingest package under a temporary, private
// name (<name>.imageops-incoming, or <image_prefix><name>) and, only once it is active, the
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
