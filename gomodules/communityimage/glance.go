package communityimage

import (
	"context"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
)

// listPageSize is how many images one list request asks Glance for.
const listPageSize = 200

// cleanupTimeout bounds the delete of a failed upload, which runs even when
// the caller's context is already cancelled.
const cleanupTimeout = 60 * time.Second

// findByName lists the images named name, oldest first: those of Glance's
// default list (own, public and accepted shared images) or, when there are
// none, the community images of any project, as azimuth-ops looks for them.
// Glance leaves community images out of its default list unless the caller
// owns them (Image API v2, "List images", visibility filter).
func findByName(ctx context.Context, client *gophercloud.ServiceClient, name string) ([]images.Image, error) {
	found, err := listImages(ctx, client, images.ListOpts{Name: name, Limit: listPageSize})
	if err != nil || len(found) > 0 {
		return found, err
	}
	return listImages(ctx, client, images.ListOpts{Name: name, Limit: listPageSize, Visibility: images.ImageVisibilityCommunity})
}

func listImages(ctx context.Context, client *gophercloud.ServiceClient, opts images.ListOpts) ([]images.Image, error) {
	name := opts.Name
	pages, err := images.List(client, opts).AllPages(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing images named %q in Glance at %s: %w", name, client.ResourceBase, err)
	}
	found, err := images.ExtractImages(pages)
	if err != nil {
		return nil, fmt.Errorf("reading the image list for %q: %w", name, err)
	}
	sort.SliceStable(found, func(i, j int) bool { return found[i].CreatedAt.Before(found[j].CreatedAt) })
	return found, nil
}

// createAndUpload creates the image record, streams data into it and checks
// that Glance stored what was sent. On any failure it deletes the image it
// created, so that no queued or killed image is left behind.
//
// finish runs after a successful upload (to record properties known only
// then); its failure deletes the image too.
func createAndUpload(ctx context.Context, client *gophercloud.ServiceClient, opts images.CreateOpts, data io.Reader,
	uploaded func() string, finish func(context.Context, *images.Image) (*images.Image, error)) (*images.Image, error) {
	created, err := images.Create(ctx, client, opts).Extract()
	if err != nil {
		return nil, fmt.Errorf("creating image %q in Glance: %w", opts.Name, err)
	}
	image, err := upload(ctx, client, created, data, uploaded)
	if err == nil {
		image, err = finish(ctx, image)
		if err != nil {
			err = fmt.Errorf("recording the source of image %q (%s): %w", opts.Name, created.ID, err)
		}
	}
	if err != nil {
		if cleanupErr := deleteDetached(client, created.ID); cleanupErr != nil {
			return nil, fmt.Errorf("%w; and deleting the incomplete image %s failed too: %v", err, created.ID, cleanupErr)
		}
		return nil, err
	}
	return image, nil
}

func upload(ctx context.Context, client *gophercloud.ServiceClient, created *images.Image, data io.Reader, uploaded func() string) (*images.Image, error) {
	if err := imagedata.Upload(ctx, client, created.ID, data).ExtractErr(); err != nil {
		return nil, fmt.Errorf("uploading image %q (%s) to Glance: %w", created.Name, created.ID, err)
	}
	image, err := images.Get(ctx, client, created.ID).Extract()
	if err != nil {
		return nil, fmt.Errorf("reading back image %q (%s): %w", created.Name, created.ID, err)
	}
	if image.Status != images.ImageStatusActive {
		return nil, fmt.Errorf("image %q (%s) is %s after its upload, not active", image.Name, image.ID, image.Status)
	}
	algo, stored := hashOf(image)
	if want := uploaded(); algo == "sha512" && want != "" && stored != want {
		return nil, fmt.Errorf("image %q (%s): Glance stored bytes with sha512 %s but %s were sent", image.Name, image.ID, stored, want)
	}
	return image, nil
}

// deleteDetached deletes an image with a fresh context, so that cleanup
// happens even after the caller's context was cancelled.
func deleteDetached(client *gophercloud.ServiceClient, id string) error {
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	err := images.Delete(ctx, client, id).ExtractErr()
	if gophercloud.ResponseCodeIs(err, 404) {
		return nil
	}
	return err
}

// hashOf returns Glance's os_hash_algo and os_hash_value of an image.
func hashOf(image *images.Image) (algo, value string) {
	algo, _ = image.Properties["os_hash_algo"].(string)
	value, _ = image.Properties["os_hash_value"].(string)
	return algo, value
}

// stringProperty returns an extra property of an image as a string.
func stringProperty(image *images.Image, key string) (string, bool) {
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
