package ingest

import (
	"context"
	"fmt"
	"strings"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/imageops/cloud/gomodules/openstack/glance"
)

// findVerifiedShared returns the oldest public or community image of the
// name that another project owns and whose data is verified against the
// task's checksums (see sharedMatch), with what verified it; nil when there
// is none. Such an image is used read only: never updated, never deleted.
func (e *Ensurer) findVerifiedShared(ctx context.Context, d desired) (*images.Image, string, error) {
	shared, err := e.glance.FindShared(ctx, d.Name)
	if err != nil {
		return nil, "", err
	}
	for i := range shared {
		if how := sharedMatch(d, &shared[i]); how != "" {
			return &shared[i], how, nil
		}
	}
	return nil, "", nil
}

// sharedMatch says how an image of another project was verified to hold the
// task's image, or "" when it was not: it must be active, in the asked
// disk_format, and one of the task's checksums must match either Glance's
// own hash of the stored data (os_hash_value, sha512: checksum_sha512 of a
// source stored as it came) or the provenance property this collection
// records (imageops_source_sha256/sha512: written by the image's owner, so
// trusted as that owner's word), with no checksum contradicting it.
func sharedMatch(d desired, image *images.Image) string {
	if image.Status != images.ImageStatusActive || image.DiskFormat != d.DiskFormat {
		return ""
	}
	if verifyExisting(d, image, d.checksums) != nil {
		return ""
	}
	algo, value := glance.Hash(image)
	for _, sum := range d.checksums {
		if sum.Hex == "" {
			continue
		}
		if algo == string(sum.Algorithm) && strings.EqualFold(value, sum.Hex) {
			return fmt.Sprintf("Glance's os_hash_value (%s) matches the %s checksum", algo, algo)
		}
		if key := sourceHashProperty(sum.Algorithm); key != "" {
			if recorded, ok := glance.Property(image, key); ok && strings.EqualFold(recorded, sum.Hex) {
				return fmt.Sprintf("its provenance property %s (set by its owner) matches the %s checksum", key, sum.Algorithm)
			}
		}
	}
	return ""
}

// useShared is the result of taking another project's image read only.
func useShared(d desired, image *images.Image, how string) Result {
	return Result{ID: image.ID, Image: glance.Flatten(image), Warnings: []string{fmt.Sprintf(
		"using image %q (%s) of project %s (visibility %s) read only: %s; it is not changed "+
			"(its visibility, properties and tags stay as its owner set them)",
		d.Name, image.ID, image.Owner, image.Visibility, how)}}
}
