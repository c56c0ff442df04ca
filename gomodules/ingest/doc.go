// Package ingest brings one VM image into Glance, by name, exactly once:
// downloaded from its source URL with its checksum verified, decompressed
// and converted (with qemu-img) when needed, uploaded through the Glance
// layer (package glance: retries, verification, concurrent runs), and given
// the requested visibility, properties and tags. It is the building block
// under the community_image and community_image_batch modules (package
// communityimage, their adapter) and under image_deployer's uploads; the
// option names are those of azimuth-ops' community_images manifest (name,
// source_url, source_disk_format, checksum, checksum_sha512, ...).
//
// An image that had to be converted or decompressed no longer has its
// source's hash, so every upload records where it came from in properties
// (glance.SourceURLProperty, glance.SourceSHA256Property,
// glance.SourceSHA512Property), and the checksum_sha512 check of an existing
// image uses those when present.
package ingest
