// Package azimuthimages reads the manifest of an azimuth-images release and
// turns it into the community image specs azimuth-ops uploads by default.
//
// An azimuth-images release publishes manifest.json
// (https://github.com/azimuth-cloud/azimuth-images, bin/generate-manifest): a
// JSON object keyed by build name ("kubernetes-1-34-noble",
// "ubuntu-desktop", ...), each entry holding the image's name, its url, its
// checksum ("sha256:<hex>") and checksum_sha512 ("sha512:<hex>"), the URLs of
// its cosign bundle and SBOM, and, for Kubernetes images, the
// kubernetes_version it was built with ("v1.34.10").
//
// Specs maps the entries as azimuth-ops' community_images role does
// (roles/community_images/defaults/main.yml, community_images_azimuth_images):
// an entry with kubernetes_version vX.Y.Z becomes key kube_X_Y,
// jupyter-repo2docker, ubuntu-desktop and linux-rstudio become repo2docker,
// workstation and rstudio, and every other entry is left out. Each spec is
// the entry's name, url as source_url, both checksums, source_disk_format
// qcow2, container_format bare and, for Kubernetes images,
// kubernetes_version.
//
// Read fetches a manifest from an http, https or file URL with package
// fetch; Parse checks that data is a manifest. Errors name the URL and the
// entry at fault.
package azimuthimages
