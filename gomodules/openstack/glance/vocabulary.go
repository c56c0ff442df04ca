package glance

import (
	"fmt"
	"slices"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
)

// Glance's disk formats, container formats and visibilities (Image API v2,
// "disk_format", "container_format" and "visibility").
var (
	DiskFormats      = []string{"ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop"}
	ContainerFormats = []string{"ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed"}
	Visibilities     = []string{"public", "community", "shared", "private"}
)

// Provenance properties: recorded on every image this collection uploads.
const (
	// SourceURLProperty is the source URL, credentials removed. Set at
	// create: an image that has it was created by this collection.
	SourceURLProperty = "imageops_source_url"
	// SourceSizeProperty is the number of bytes downloaded from the source,
	// before any decompression or conversion. It is set once the upload was
	// verified: an image without it is not finished (see Complete).
	SourceSizeProperty = "imageops_source_size"
	// SourceSHA256Property and SourceSHA512Property are the SHA-256 and
	// SHA-512 of the source's bytes as downloaded, before any decompression
	// or conversion, each recorded (with SourceSizeProperty) when the upload
	// computed it.
	SourceSHA256Property = "imageops_source_sha256"
	SourceSHA512Property = "imageops_source_sha512"
	// RunProperty is a marker unique to one Upload, set at create, so that a
	// create whose answer was lost can be found again.
	RunProperty = "imageops_run"
	// HeartbeatProperty is patched while data is sent (RFC 3339 time), so
	// that updated_at shows the upload is alive; Glance drops it when the
	// upload ends.
	HeartbeatProperty = "imageops_upload_heartbeat"
)

// IsDiskFormat tells whether format is one of DiskFormats.
func IsDiskFormat(format string) bool { return slices.Contains(DiskFormats, format) }

// IsVisibility tells whether visibility is one of Visibilities.
func IsVisibility(visibility string) bool { return slices.Contains(Visibilities, visibility) }

// IsImageField tells whether key is one of Glance's own image fields (id,
// name, visibility, os_hidden, ...), which Glance refuses (403) as an extra
// property.
func IsImageField(key string) bool {
	switch key {
	case "id", "name", "status", "visibility", "protected", "tags", "disk_format", "container_format",
		"min_disk", "min_ram", "size", "virtual_size", "checksum", "os_hash_algo", "os_hash_value",
		"owner", "created_at", "updated_at", "file", "schema", "self", "locations", "direct_url", "os_hidden":
		return true
	}
	return false
}

// Hash returns Glance's os_hash_algo and os_hash_value of an image: the
// hash of the bytes Glance stored (sha512 unless configured otherwise).
func Hash(image *images.Image) (algo, value string) {
	algo, _ = image.Properties["os_hash_algo"].(string)
	value, _ = image.Properties["os_hash_value"].(string)
	return algo, value
}

// SameSource tells whether two complete images of this collection were made
// from the same source in the same way: the same disk_format, and the same
// provenance (SourceURLProperty, SourceSizeProperty, and each source hash
// that both record). Runs converting one source at once upload different
// bytes when the target format holds random identifiers (a VMDK's CID, a
// VHDX's or VDI's GUIDs), so os_hash_value alone cannot tell they agree.
func SameSource(a, b *images.Image) bool {
	if !Ours(a) || !Ours(b) || !Complete(a) || !Complete(b) || a.DiskFormat != b.DiskFormat {
		return false
	}
	for _, key := range []string{SourceURLProperty, SourceSizeProperty} {
		va, oka := Property(a, key)
		vb, okb := Property(b, key)
		if !oka || !okb || va != vb {
			return false
		}
	}
	for _, key := range []string{SourceSHA512Property, SourceSHA256Property} {
		va, oka := Property(a, key)
		vb, okb := Property(b, key)
		if oka && okb && va != vb {
			return false
		}
	}
	return true
}

// Property returns an extra property of an image as text, and whether the
// image has it.
func Property(image *images.Image, key string) (string, bool) {
	value, ok := image.Properties[key]
	if !ok || value == nil {
		return "", false
	}
	if text, isText := value.(string); isText {
		return text, true
	}
	return fmt.Sprint(value), true
}

// Flatten returns an image as Glance's API shows it: core fields and extra
// properties side by side (id, name, status, disk_format, container_format,
// visibility, size, virtual_size, checksum, os_hash_algo, os_hash_value,
// min_disk, min_ram, protected, os_hidden, tags, owner, created_at,
// updated_at, plus every extra property).
func Flatten(image *images.Image) map[string]any {
	out := make(map[string]any, len(image.Properties)+20)
	for key, value := range image.Properties {
		out[key] = value
	}
	tags := image.Tags
	if tags == nil {
		tags = []string{}
	}
	for key, value := range map[string]any{
		"id": image.ID, "name": image.Name, "status": string(image.Status),
		"disk_format": image.DiskFormat, "container_format": image.ContainerFormat,
		"visibility": string(image.Visibility), "size": image.SizeBytes, "virtual_size": image.VirtualSize,
		"checksum": image.Checksum, "min_disk": image.MinDiskGigabytes, "min_ram": image.MinRAMMegabytes,
		"protected": image.Protected, "os_hidden": image.Hidden, "tags": tags, "owner": image.Owner,
		"created_at": image.CreatedAt.Format(time.RFC3339), "updated_at": image.UpdatedAt.Format(time.RFC3339),
	} {
		out[key] = value
	}
	return out
}

// HoldsData tells whether an image has its data: active, or deactivated by
// an administrator (its data kept, its download refused).
func HoldsData(image *images.Image) bool {
	return image.Status == images.ImageStatusActive || image.Status == images.ImageStatusDeactivated
}

// Ours tells whether this collection created the image (it carries
// SourceURLProperty from its create on).
func Ours(image *images.Image) bool {
	_, ok := image.Properties[SourceURLProperty]
	return ok
}

// Complete tells whether an image holds verified data: it holds data and,
// when this collection created it, its upload was verified and its
// provenance recorded (SourceSizeProperty; SourceSHA512Property for the
// images of earlier versions, which recorded no size). An image of ours
// that holds data without them was never verified and is never used as it
// is.
func Complete(image *images.Image) bool {
	if !HoldsData(image) {
		return false
	}
	if !Ours(image) {
		return true
	}
	_, sized := image.Properties[SourceSizeProperty]
	_, hashed := image.Properties[SourceSHA512Property]
	return sized || hashed
}

// Older orders images oldest first, by created_at then ID (created_at has
// whole seconds), the same way in every run.
func Older(a, b *images.Image) bool {
	if !a.CreatedAt.Equal(b.CreatedAt) {
		return a.CreatedAt.Before(b.CreatedAt)
	}
	return a.ID < b.ID
}

// IDs returns the images' IDs, comma-separated, for messages.
func IDs(found []images.Image) string {
	out := ""
	for i := range found {
		if i > 0 {
			out += ", "
		}
		out += found[i].ID
	}
	return out
}
