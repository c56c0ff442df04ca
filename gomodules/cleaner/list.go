package cleaner

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strconv"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/pagination"

	"github.com/imageops/cloud/gomodules/communityimage"
)

// listPageSize is how many images one list request asks for: Glance's
// default api_limit_max. A Glance configured lower returns fewer per page
// and the next link pages on.
const listPageSize = 1000

// listQuery is one image-list request: Glance's filters with the property
// filters images.ListOpts cannot express.
type listQuery struct {
	hidden  bool
	owner   string
	tags    []string
	filters map[string]string
}

// ToImageListQuery renders the query string (Image API v2, "List images":
// visibility=all, os_hidden, owner, tag per tag, and any other key as a
// property or field filter).
func (q listQuery) ToImageListQuery() (string, error) {
	values := url.Values{}
	values.Set("visibility", "all")
	values.Set("os_hidden", strconv.FormatBool(q.hidden))
	values.Set("limit", strconv.Itoa(listPageSize))
	if q.owner != "" {
		values.Set("owner", q.owner)
	}
	for _, tag := range q.tags {
		values.Add("tag", tag)
	}
	for key, value := range q.filters {
		values.Set(key, value)
	}
	return "?" + values.Encode(), nil
}

// listManaged returns every image the policy manages, in every visibility,
// hidden or not, newest first. Glance filters what it can; the client checks
// every filter again (a Glance that ignored one must not widen the set) and
// applies name_pattern.
func listManaged(ctx context.Context, glance *gophercloud.ServiceClient, p policy) ([]images.Image, error) {
	var out []images.Image
	seen := map[string]bool{}
	for _, hidden := range []bool{false, true} {
		q := listQuery{hidden: hidden, owner: p.owner, tags: p.tags, filters: p.filters}
		err := images.List(glance, q).EachPage(ctx, func(_ context.Context, page pagination.Page) (bool, error) {
			found, err := images.ExtractImages(page)
			if err != nil {
				return false, err
			}
			for _, image := range found {
				if !seen[image.ID] && p.manages(&image) {
					seen[image.ID] = true
					out = append(out, image)
				}
			}
			return true, nil
		})
		if err != nil {
			return nil, fmt.Errorf("listing images (os_hidden=%t) in Glance at %s: %w", hidden, glance.ResourceBase, err)
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
	flat := communityimage.Flatten(image)
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
