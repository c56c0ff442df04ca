// Package communityimage ensures that one VM image exists in Glance, by name,
// exactly once: downloaded from its source URL with its checksum verified,
// decompressed and converted (with qemu-img) when needed, uploaded, and given
// the requested visibility, properties and tags. It is the logic of the
// imageops.cloud.community_image module; the option names are those of
// azimuth-ops' community_images manifest (name, source_url,
// source_disk_format, checksum, checksum_sha512, ...).
//
// Glance terms follow the Image service API v2 reference
// (https://docs.openstack.org/api-ref/image/v2/): disk_format,
// container_format, visibility, os_hash_algo and os_hash_value (the hash of
// the bytes Glance stored, sha512 by default).
//
// An image that had to be converted or decompressed no longer has its
// source's hash, so every upload records where it came from in properties
// (SourceURLProperty, SourceSHA256Property, SourceSHA512Property), and the
// checksum_sha512 check of an existing image uses those when present.
package communityimage
