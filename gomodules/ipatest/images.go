package ipatest

import (
	"context"
	"fmt"
	"regexp"
	"sort"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/imageops/cloud/gomodules/openstack/glance"
)

// The Glance properties Chameleon's tools pick images by.
const (
	// IPAProperty names the half of an IPA pair an image is: kernel or
	// initramfs (set by Chameleon's image deployer, and by image_deployer's
	// ipa_images).
	IPAProperty = "build-ipa"
	// IPAKernel and IPAInitramfs are IPAProperty's values.
	IPAKernel    = "kernel"
	IPAInitramfs = "initramfs"
)

// defaultTestImage is the filter of the default test image: the newest
// active Ubuntu base image, as ipa_tester deploys.
var defaultTestImage = map[string]string{"build-distro": "ubuntu", "build-variant": "base"}

var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$`)

// imageChoice is how one image is chosen: given by ID or name, else the
// newest active image with the properties.
type imageChoice struct {
	option     string // the module option, for messages
	given      string
	properties map[string]string
}

// resolve finds the image in Glance and checks that it is active.
func (c imageChoice) resolve(ctx context.Context, client *glance.Client) (*images.Image, error) {
	if c.given == "" {
		return c.newest(ctx, client)
	}
	if uuidPattern.MatchString(c.given) {
		image, err := client.Get(ctx, c.given)
		if glance.IsNotFound(err) {
			return nil, fmt.Errorf("%s %q: no such image in Glance", c.option, c.given)
		}
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", c.option, c.given, err)
		}
		return c.active(image)
	}
	found, err := client.List(ctx, glance.Query{Name: c.given})
	if err != nil {
		return nil, fmt.Errorf("%s %q: %w", c.option, c.given, err)
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("%s %q: no image of that name in Glance (the caller's own, public and shared images)", c.option, c.given)
	case 1:
		return c.active(&found[0])
	}
	return nil, fmt.Errorf("%s %q: %d images have that name (%s); give the ID", c.option, c.given, len(found), glance.IDs(found))
}

func (c imageChoice) active(image *images.Image) (*images.Image, error) {
	if image.Status != images.ImageStatusActive {
		return nil, fmt.Errorf("%s %q: image %s is %s in Glance, expected active", c.option, c.given, image.ID, image.Status)
	}
	return image, nil
}

// newest picks, as ipa_tester does, the most recently created active image
// with the properties.
func (c imageChoice) newest(ctx context.Context, client *glance.Client) (*images.Image, error) {
	filters := map[string]string{"status": string(images.ImageStatusActive)}
	for key, value := range c.properties {
		filters[key] = value
	}
	found, err := client.List(ctx, glance.Query{Filters: filters})
	if err != nil {
		return nil, fmt.Errorf("finding the default %s: %w", c.option, err)
	}
	if len(found) == 0 {
		return nil, fmt.Errorf("%s is not set and Glance has no active image with %s", c.option, describeProperties(c.properties))
	}
	sort.SliceStable(found, func(i, j int) bool { return found[i].CreatedAt.After(found[j].CreatedAt) })
	return &found[0], nil
}

func describeProperties(properties map[string]string) string {
	keys := make([]string, 0, len(properties))
	for key := range properties {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	out := ""
	for i, key := range keys {
		if i > 0 {
			out += " and "
		}
		out += key + "=" + properties[key]
	}
	return out
}
