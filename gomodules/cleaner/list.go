package cleaner

import (
	"context"
	"fmt"
	"sort"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/imageops/cloud/gomodules/openstack/glance"
)

// listManaged returns every image the policy manages, in every visibility,
// hidden or not, newest first. Glance filters what it can; the client checks
// every filter again (a Glance that ignored one must not widen the set) and
// applies name_pattern.
func listManaged(ctx context.Context, client *glance.Client, p policy) ([]images.Image, error) {
	var out []images.Image
	seen := map[string]bool{}
	for _, hidden := range []bool{false, true} {
		found, err := client.List(ctx, glance.Query{Visibility: "all", Hidden: hidden, Owner: p.owner, Tags: p.tags, Filters: p.filters})
		if err != nil {
			return nil, err
		}
		for _, image := range found {
			if !seen[image.ID] && p.manages(&image) {
				seen[image.ID] = true
				out = append(out, image)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return newer(&out[i], &out[j]) })
	return out, nil
}

// newer orders images newest first, by created_at then ID, so that ties
// (created_at has whole seconds) are broken the same way every run.
func newer(a, b *images.Image) bool {
	if !a.CreatedAt.Equal(b.CreatedAt) {
		return a.CreatedAt.After(b.CreatedAt)
	}
	return a.ID > b.ID
}

// manages tells whether an image listed by Glance is in the managed set.
func (p policy) manages(image *images.Image) bool {
	if !retirable(image) {
		return false
	}
	if p.owner != "" && image.Owner != p.owner {
		return false
	}
	if p.namePattern != nil && !p.namePattern.MatchString(image.Name) {
		return false
	}
	if len(p.supports) > 0 && p.supportOf(image) == nil {
		return false
	}
	have := map[string]bool{}
	for _, tag := range image.Tags {
		have[tag] = true
	}
	for _, tag := range p.tags {
		if !have[tag] {
			return false
		}
	}
	if len(p.filters) == 0 {
		return true
	}
	flat := glance.Flatten(image)
	for key, want := range p.filters {
		if value, ok := flat[key]; !ok || textOf(value) != want {
			return false
		}
	}
	return true
}

// retirable tells whether the cleaner may manage an image whatever the
// filters say: a published image (public or community, os_hidden or not), or
// one the cleaner hid itself (HiddenProperty is its own ID). A private or
// shared image that the cleaner did not hide belongs to a project (admin
// credentials list every project's images, and a snapshot inherits its base
// image's name and properties), so filters alone cannot tell it apart from
// the site's images.
func retirable(image *images.Image) bool {
	switch image.Visibility {
	case images.ImageVisibilityPublic, images.ImageVisibilityCommunity:
		return true
	}
	return textOf(image.Properties[HiddenProperty]) == image.ID
}

// textOf renders a field or property value as Glance compares it in a filter.
func textOf(value any) string {
	switch v := value.(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		return fmt.Sprint(v)
	}
}
