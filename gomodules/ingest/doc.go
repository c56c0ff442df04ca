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
// A conversion overlaps the upload where the target format allows (see
// stage): raw to qcow2 is written as it downloads (convert.Qcow2Writer) and
// uploaded as soon as the download ends; qcow2, vmdk, vhdx, vhd and vdi to
// raw are checked (convert.Verify), then read as raw while they are
// uploaded (convert.StreamRaw: a qcow2's data clusters from its file, the
// rest through qemu-nbd). Result.Timings says where the time went.
//
// An image that had to be converted or decompressed no longer has its
// source's hash, so every upload records where it came from in properties
// (glance.SourceURLProperty, and glance.SourceSHA512Property or
// glance.SourceSHA256Property, see keepHashes), and the checksum check of an
// existing image uses those when present.
package ingest
