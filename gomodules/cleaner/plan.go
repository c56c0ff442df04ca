package cleaner

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/imageops/cloud/gomodules/openstack/baremetal"
)

// Entry is one image in a report: {id, name, created_at, reason}, and for
// an image kept because Ironic nodes name it, {nodes}.
type Entry struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	CreatedAt string `json:"created_at"` // RFC 3339, UTC
	Reason    string `json:"reason"`
	// Nodes are the Ironic nodes that name the image, and where.
	Nodes []baremetal.ImageReference `json:"nodes,omitempty"`
}

func entryOf(image *images.Image, reason string) Entry {
	return Entry{ID: image.ID, Name: image.Name, CreatedAt: image.CreatedAt.UTC().Format(time.RFC3339), Reason: reason}
}

// action is what the plan does to one image.
type action int

const (
	keep action = iota
	skip
	hide
	remove
)

// decision is the plan for one image.
type decision struct {
	image  *images.Image
	action action
	reason string
	// nodes name the image, for a decision to skip it for them.
	nodes []baremetal.ImageReference
}

// plan decides, for every managed image (newest first), whether it is kept,
// skipped, hidden or deleted. inUse is nil when skip_in_use is off; it is
// only consulted for images that would otherwise change. Only images that
// users can boot count towards keep_latest (see bootable), so that a group
// whose newest image is hidden or unfinished keeps a usable one.
func (p policy) plan(managed []images.Image, inUse map[string][]string) []decision {
	out := make([]decision, 0, len(managed))
	rank := map[string]int{}
	for i := range managed {
		image := &managed[i]
		newest := 0
		if bootable(image) {
			group := p.groupOf(image)
			rank[group]++
			newest = rank[group]
		}
		d := p.decide(image, newest)
		if (d.action == hide || d.action == remove) && inUse != nil {
			if users := inUse[image.ID]; len(users) > 0 {
				d = decision{image: image, action: skip, reason: inUseReason(users)}
			}
		}
		out = append(out, d)
	}
	return out
}

// keepReferenced skips the images that would be hidden or deleted but
// that Ironic nodes name (their deploy or rescue kernel and ramdisk, their
// instance's image): a node would fail to deploy, clean or rescue without it.
func keepReferenced(decisions []decision, refs baremetal.ImageReferences) []decision {
	for i, d := range decisions {
		if d.action != hide && d.action != remove {
			continue
		}
		if nodes := refs.Of(d.image.ID, d.image.Name); len(nodes) > 0 {
			decisions[i] = decision{image: d.image, action: skip, reason: referencedReason(nodes), nodes: nodes}
		}
	}
	return decisions
}

func referencedReason(nodes []baremetal.ImageReference) string {
	shown := nodes
	if len(shown) > 3 {
		shown = shown[:3]
	}
	parts := make([]string, len(shown))
	for i, ref := range shown {
		name := ref.NodeName
		if name == "" {
			name = ref.Node
		}
		parts[i] = fmt.Sprintf("%s (%s)", name, ref.Field)
	}
	more := ""
	if len(nodes) > len(shown) {
		more = fmt.Sprintf(" and %d more", len(nodes)-len(shown))
	}
	return fmt.Sprintf("named by Ironic node(s): %s%s", strings.Join(parts, ", "), more)
}

// decide is the plan for one image that is the newest-th newest bootable
// image of its group (0: not bootable, not counted).
func (p policy) decide(image *images.Image, newest int) decision {
	created := image.CreatedAt
	deletable := !created.After(p.deleteBefore)
	switch {
	case p.skip[image.ID]:
		return decision{image: image, action: skip, reason: "listed in skip_images"}
	case len(p.supports) > 0 && p.isProduction(image):
		return decision{image: image, action: keep, reason: "the current production image of " + image.Name + " (supports)"}
	case newest > 0 && newest <= p.keepLatest:
		return decision{image: image, action: keep, reason: fmt.Sprintf("one of the %d newest bootable images of its group%s (keep_latest)", p.keepLatest, p.groupLabel(image))}
	case created.After(p.hideBefore):
		return decision{image: image, action: keep, reason: fmt.Sprintf("younger than %d months (created after %s)", p.hideAfter, p.hideBefore.Format(time.RFC3339))}
	case deletable && !image.Protected:
		return decision{image: image, action: remove, reason: fmt.Sprintf("older than %d months (created on or before %s)", p.deleteAfter, p.deleteBefore.Format(time.RFC3339))}
	case deletable && p.isHidden(image):
		return decision{image: image, action: keep, reason: fmt.Sprintf("older than %d months but protected, so never deleted; already hidden (%s)", p.deleteAfter, p.hiddenLabel())}
	case p.isHidden(image):
		return decision{image: image, action: keep, reason: fmt.Sprintf("already hidden (%s); deleted once older than %d months", p.hiddenLabel(), p.deleteAfter)}
	case deletable:
		return decision{image: image, action: hide, reason: fmt.Sprintf("older than %d months but protected, so hidden and never deleted", p.deleteAfter)}
	default:
		return decision{image: image, action: hide, reason: fmt.Sprintf("older than %d months (created on or before %s)", p.hideAfter, p.hideBefore.Format(time.RFC3339))}
	}
}

// bootable tells whether users can boot the image by name: active, published
// (public or community) and not os_hidden, whichever hide_method is used.
func bootable(image *images.Image) bool {
	return image.Status == images.ImageStatusActive && !image.Hidden &&
		(image.Visibility == images.ImageVisibilityPublic || image.Visibility == images.ImageVisibilityCommunity)
}

// isHidden tells whether an image is hidden the way hide_method hides.
func (p policy) isHidden(image *images.Image) bool {
	if p.hideMethod == HideOSHidden {
		return image.Hidden
	}
	return image.Visibility == images.ImageVisibilityPrivate
}

func (p policy) hiddenLabel() string {
	if p.hideMethod == HideOSHidden {
		return "os_hidden is true"
	}
	return "visibility private"
}

// groupOf is the image's group for keep_latest: the values of the group_by
// properties (an absent property counts as empty).
func (p policy) groupOf(image *images.Image) string {
	values := make([]string, len(p.groupBy))
	for i, key := range p.groupBy {
		values[i] = textOf(image.Properties[key])
	}
	return strings.Join(values, "\x00")
}

func (p policy) groupLabel(image *images.Image) string {
	if len(p.groupBy) == 0 {
		return ""
	}
	parts := make([]string, len(p.groupBy))
	for i, key := range p.groupBy {
		parts[i] = fmt.Sprintf("%s=%s", key, textOf(image.Properties[key]))
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

func inUseReason(servers []string) string {
	sorted := append([]string(nil), servers...)
	sort.Strings(sorted)
	shown := sorted
	if len(shown) > 3 {
		shown = shown[:3]
	}
	more := ""
	if len(sorted) > len(shown) {
		more = fmt.Sprintf(" and %d more", len(sorted)-len(shown))
	}
	return fmt.Sprintf("in use by %d server(s): %s%s", len(sorted), strings.Join(shown, ", "), more)
}

func sortEntries(list []Entry) {
	sort.SliceStable(list, func(i, j int) bool {
		if list[i].CreatedAt != list[j].CreatedAt {
			return list[i].CreatedAt < list[j].CreatedAt
		}
		return list[i].ID < list[j].ID
	})
}
