package glance

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strconv"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/pagination"
)

// listPageSize is how many images one list request asks for: Glance's
// default api_limit_max. A Glance configured lower returns fewer per page
// and the next link pages on.
const listPageSize = 1000

// Query is one image-list request (Image API v2, "List images"): Glance's
// filters, including the property filters images.ListOpts cannot express.
type Query struct {
	// Name lists only the images of exactly this name (sent as NameFilter).
	Name string
	// Visibility is Glance's visibility filter: "" (Glance's default list:
	// the caller's own, public and accepted shared images), public,
	// community, shared, private or all.
	Visibility string
	// Hidden lists the images with os_hidden true instead of the others.
	Hidden bool
	// Owner lists only the images of this project ID.
	Owner string
	// Tags lists only the images with every one of these tags.
	Tags []string
	// Filters are further field or property filters, key to value.
	Filters map[string]string
}

// ToImageListQuery renders the query string; it makes Query an
// images.ListOptsBuilder.
func (q Query) ToImageListQuery() (string, error) {
	values := url.Values{}
	values.Set("limit", strconv.Itoa(listPageSize))
	if q.Name != "" {
		values.Set("name", NameFilter(q.Name))
	}
	if q.Visibility != "" {
		values.Set("visibility", q.Visibility)
	}
	if q.Hidden {
		values.Set("os_hidden", "true")
	}
	if q.Owner != "" {
		values.Set("owner", q.Owner)
	}
	for _, tag := range q.Tags {
		values.Add("tag", tag)
	}
	for key, value := range q.Filters {
		values.Set(key, value)
	}
	return "?" + values.Encode(), nil
}

// List returns every image q selects, in Glance's order, retrying as the
// Client does. When q has a Name, only images of exactly that name are kept
// (a Glance that ignored the filter must not widen the set).
func (c *Client) List(ctx context.Context, q Query) ([]images.Image, error) {
	var out []images.Image
	err := c.retry(ctx, func() error {
		out = nil
		return images.List(c.sc, q).EachPage(ctx, func(_ context.Context, page pagination.Page) (bool, error) {
			found, err := images.ExtractImages(page)
			if err != nil {
				return false, err
			}
			for _, image := range found {
				if q.Name == "" || image.Name == q.Name {
					out = append(out, image)
				}
			}
			return true, nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("listing images%s in Glance at %s: %w", q.describe(), c.where(), err)
	}
	return out, nil
}

func (q Query) describe() string {
	out := ""
	if q.Name != "" {
		out += fmt.Sprintf(" named %q", q.Name)
	}
	if q.Visibility != "" {
		out += " (visibility " + q.Visibility + ")"
	}
	if q.Owner != "" {
		out += " of project " + q.Owner
	}
	if q.Hidden {
		out += " (os_hidden)"
	}
	return out
}

// lookup are the settings of one FindByName.
type lookup struct {
	owner         string
	allVisibility bool
}

// LookupOption narrows or widens FindByName.
type LookupOption func(*lookup)

// InProject finds only images owned by this project ID. Default: the
// client's Owner (the credentials' project), or, for a Glance without
// Keystone, any image the caller can see.
func InProject(owner string) LookupOption { return func(l *lookup) { l.owner = owner } }

// InEveryVisibility finds images of every visibility (Glance's
// visibility=all: admins see every project's private images too), where the
// default is what a user of the name would find (see FindByName).
func InEveryVisibility() LookupOption { return func(l *lookup) { l.allVisibility = true } }

// FindByName lists the images named name, of any status, oldest first (see
// Older). With a project (InProject, else the client's Owner) it finds the
// images that project owns, of every visibility, and no other: an admin,
// whom Glance shows every project's images, never finds another project's
// image this way (FindShared finds those, for reading). Without a project (a
// Glance without Keystone) it finds those of Glance's default list (own,
// public and accepted shared images) or, when there are none, the community
// images, as azimuth-ops looks for them; Glance leaves community images out
// of its default list unless the caller owns them (Image API v2, "List
// images", visibility filter). Any name is found exactly, "in:..." included
// (see NameFilter).
func (c *Client) FindByName(ctx context.Context, name string, opts ...LookupOption) ([]images.Image, error) {
	l := lookup{owner: c.Owner()}
	for _, apply := range opts {
		apply(&l)
	}
	q := Query{Name: name, Owner: l.owner}
	if l.allVisibility || l.owner != "" {
		q.Visibility = "all"
	}
	found, err := c.List(ctx, q)
	if err == nil && l.owner != "" {
		found = ownedBy(found, l.owner) // a Glance that ignored the owner filter must not widen the set
	}
	if err == nil && len(found) == 0 && !l.allVisibility && l.owner == "" {
		q.Visibility = string(images.ImageVisibilityCommunity)
		found, err = c.List(ctx, q)
	}
	if err != nil {
		return nil, err
	}
	sort.SliceStable(found, func(i, j int) bool { return Older(&found[i], &found[j]) })
	return found, nil
}

// FindShared lists the public and community images named name that other
// projects than the client's Owner own, oldest first: images a run may use
// but never changes (a caller takes one only once its data is verified).
// Without an Owner (a Glance without Keystone) there are no other projects
// and it returns none.
func (c *Client) FindShared(ctx context.Context, name string) ([]images.Image, error) {
	owner := c.Owner()
	if owner == "" {
		return nil, nil
	}
	var out []images.Image
	for _, visibility := range []images.ImageVisibility{images.ImageVisibilityPublic, images.ImageVisibilityCommunity} {
		found, err := c.List(ctx, Query{Name: name, Visibility: string(visibility)})
		if err != nil {
			return nil, err
		}
		for _, image := range found {
			if image.Owner != owner && image.Visibility == visibility {
				out = append(out, image)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return Older(&out[i], &out[j]) })
	return out, nil
}

func ownedBy(found []images.Image, owner string) []images.Image {
	kept := found[:0]
	for _, image := range found {
		if image.Owner == owner {
			kept = append(kept, image)
		}
	}
	return kept
}

// Get reads one image, retrying as the Client does.
func (c *Client) Get(ctx context.Context, id string) (*images.Image, error) {
	var image *images.Image
	err := c.retry(ctx, func() (err error) {
		image, err = images.Get(ctx, c.sc, id).Extract()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reading image %s from Glance at %s: %w", id, c.where(), err)
	}
	return image, nil
}

// IsNotFound tells whether err says the image does not exist (404).
func IsNotFound(err error) bool { return gophercloud.ResponseCodeIs(err, 404) }
