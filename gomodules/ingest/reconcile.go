package ingest

import (
	"fmt"
	"sort"
	"strings"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/imageops/cloud/gomodules/fetch"
	"github.com/imageops/cloud/gomodules/openstack/glance"
)

// update is one difference between the desired and the observed image: the
// field's name, its observed and desired values, and the JSON-patch operation
// (Image API v2 PATCH, application/openstack-images-v2.1-json-patch) that
// makes Glance match.
type update struct {
	field  string
	before any
	after  any
	patch  images.Patch
}

// plannedUpdates lists what must change on an existing image; an empty list
// means it is already as desired. Tags are only added: tags that others set
// on the image are left alone.
func plannedUpdates(d desired, image *images.Image) []update {
	var out []update
	if d.UpdateExistingVisibility && d.Visibility != "" && string(image.Visibility) != d.Visibility {
		out = append(out, update{"visibility", string(image.Visibility), d.Visibility,
			images.UpdateVisibility{Visibility: images.ImageVisibility(d.Visibility)}})
	}
	for _, key := range sortedKeys(d.properties) {
		want := d.properties[key]
		have, exists := glance.Property(image, key)
		if exists && have == want {
			continue
		}
		op := images.AddOp
		var before any
		if exists {
			op, before = images.ReplaceOp, have
		}
		out = append(out, update{"properties." + key, before, want,
			images.UpdateImageProperty{Op: op, Name: key, Value: want}})
	}
	if missing := missingTags(image.Tags, d.Tags); len(missing) > 0 {
		all := append(append([]string{}, image.Tags...), missing...)
		sort.Strings(all)
		out = append(out, update{"tags", image.Tags, all, images.ReplaceImageTags{NewTags: all}})
	}
	if d.MinDisk != nil && *d.MinDisk != image.MinDiskGigabytes {
		out = append(out, update{"min_disk", image.MinDiskGigabytes, *d.MinDisk, images.ReplaceImageMinDisk{NewMinDisk: *d.MinDisk}})
	}
	if d.MinRAM != nil && *d.MinRAM != image.MinRAMMegabytes {
		out = append(out, update{"min_ram", image.MinRAMMegabytes, *d.MinRAM, images.ReplaceImageMinRam{NewMinRam: *d.MinRAM}})
	}
	if d.Protected != nil && *d.Protected != image.Protected {
		out = append(out, update{"protected", image.Protected, *d.Protected, images.ReplaceImageProtected{NewProtected: *d.Protected}})
	}
	return out
}

func missingTags(have, want []string) []string {
	present := map[string]bool{}
	for _, tag := range have {
		present[tag] = true
	}
	var missing []string
	for _, tag := range want {
		if !present[tag] {
			missing = append(missing, tag)
			present[tag] = true
		}
	}
	return missing
}

// Diff is Ansible's diff: the fields that change, before and after.
type Diff struct {
	Before map[string]any `json:"before"`
	After  map[string]any `json:"after"`
}

// diffOf renders updates as an Ansible diff of nested dicts
// ("properties.os_distro" becomes properties: {os_distro: ...}).
func diffOf(updates []update) *Diff {
	diff := &Diff{Before: map[string]any{}, After: map[string]any{}}
	for _, u := range updates {
		setPath(diff.Before, u.field, u.before)
		setPath(diff.After, u.field, u.after)
	}
	return diff
}

func setPath(target map[string]any, path string, value any) {
	head, rest, nested := strings.Cut(path, ".")
	if !nested {
		target[head] = value
		return
	}
	child, ok := target[head].(map[string]any)
	if !ok {
		child = map[string]any{}
		target[head] = child
	}
	child[rest] = value
}

// sameBytes tells whether every image holds the same bytes, by Glance's
// os_hash_value (images without a hash never count as the same).
func sameBytes(found []images.Image) bool {
	_, first := glance.Hash(&found[0])
	if first == "" {
		return false
	}
	for i := range found[1:] {
		if _, value := glance.Hash(&found[i+1]); value != first {
			return false
		}
	}
	return true
}

// verifyExisting checks an existing image against the checksums the user
// gave. Glance's os_hash_value is the hash of the stored bytes, which differ
// from the source's after conversion or decompression, so the recorded
// source hashes are used when the image has them.
func verifyExisting(d desired, image *images.Image, sums []fetch.Checksum) error {
	for _, sum := range sums {
		if sum.Hex == "" || sourceHashProperty(sum.Algorithm) == "" {
			// A checksum file is read only for a download; MD5, SHA-1,
			// SHA-224 and SHA-384 digests of the source are not recorded.
			continue
		}
		recorded, ok := glance.Property(image, sourceHashProperty(sum.Algorithm))
		held, where := recorded, "property "+sourceHashProperty(sum.Algorithm)
		if !ok && glance.Ours(image) {
			// Ours, without this hash of its source: converted with no
			// checksum of this algorithm (see keepHashes); os_hash_value is
			// the hash of the converted bytes, not the source's.
			continue
		}
		if !ok {
			algo, value := glance.Hash(image)
			if algo != string(sum.Algorithm) || value == "" {
				continue // nothing in Glance to compare this checksum with
			}
			held, where = value, "os_hash_value"
		}
		if !strings.EqualFold(held, sum.Hex) && where == "os_hash_value" && image.DiskFormat != d.SourceDiskFormat {
			return convertedElsewhere(d, image, sum, held)
		}
		if !strings.EqualFold(held, sum.Hex) {
			return fmt.Errorf("image %q (%s) in Glance does not match the expected %s checksum: its %s is %s, expected %s. "+
				"If that image is unused, delete it (openstack image delete %s) and run again to upload the right one; "+
				"if the expected checksum is out of date, correct it", d.Name, image.ID, string(sum.Algorithm), where, held, sum.Hex, image.ID)
		}
	}
	return nil
}

// convertedElsewhere describes an image without this collection's
// provenance properties whose os_hash_value is not the source's: Glance's
// hash is that of the bytes it stores, so an image another tool converted
// before uploading it (azimuth-ops converts with qemu-img when
// community_images_disk_format differs from the source's) never matches the
// source's checksum, though it may hold the very image.
func convertedElsewhere(d desired, image *images.Image, sum fetch.Checksum, held string) error {
	converted := "possibly converted (source_disk_format is not given)"
	if d.SourceDiskFormat != "" {
		converted = fmt.Sprintf("%s, while the source is %s: converted", image.DiskFormat, d.SourceDiskFormat)
	}
	return fmt.Errorf("image %q (%s) in Glance has os_hash_value %s, not the source's %s %s. It carries no %s "+
		"property, so it was uploaded by another tool, and it is %s before its upload (azimuth-ops converts with qemu-img), "+
		"so Glance's hash is that of the converted bytes and cannot prove it is the source. To use it as it is, set "+
		"insecure_skip_glance_verify: true (community_images_insecure_skip_glance_verify); to have it uploaded again and "+
		"verified, delete it (openstack image delete %s) and run again",
		d.Name, image.ID, held, sum.Algorithm, sum.Hex, SourceSHA512Property, converted, image.ID)
}
