package cleaner

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/imageops/cloud/gomodules/openstack/conn"
)

// Defaults of the options whose zero value means "the default".
const (
	DefaultHideAfterMonths   = 12
	DefaultDeleteAfterMonths = 18
	// HidePrivate hides an image by making it private (Chameleon's way): only
	// its owner's project sees it afterwards.
	HidePrivate = "private"
	// HideOSHidden hides an image by setting os_hidden: it leaves Glance's
	// default list but stays usable by its ID.
	HideOSHidden = "os_hidden"
	// HiddenProperty marks an image that the cleaner hid, so that it is found
	// again to be deleted. Its value is the image's own ID: a snapshot of a
	// server booted from a hidden image inherits the property, but not with
	// its own ID, and so is not taken for an image the cleaner hid.
	HiddenProperty = "imageops_hidden_by_cleaner"
)

// Options are the image_cleaner module's options. Zero values mean the
// defaults: 12 and 18 months, hide_method private, skip_in_use true (nil),
// now the current time.
type Options struct {
	conn.Config

	// Filters are Glance list filters that every managed image matches:
	// extra properties (build-distro: ubuntu) or core fields Glance filters
	// on (status, disk_format, ...). Values are compared as text.
	Filters map[string]any `json:"filters"`
	// NamePattern is a regular expression (RE2 syntax) searched for in the
	// image's name; anchor it with ^ and $ to match the whole name.
	NamePattern string `json:"name_pattern"`
	// Owner is the project (ID; the module also takes a name) that owns the
	// managed images; empty means the glance client's Owner (the
	// credentials' project).
	Owner string `json:"owner"`
	// Tags are tags every managed image has (all of them).
	Tags []string `json:"tags"`
	// HideAfterMonths is the age in calendar months from which an image is
	// hidden; default 12.
	HideAfterMonths int `json:"hide_after_months"`
	// DeleteAfterMonths is the age in calendar months from which an image is
	// deleted; default 18; must be greater than HideAfterMonths.
	DeleteAfterMonths int `json:"delete_after_months"`
	// HideMethod is HidePrivate (default) or HideOSHidden.
	HideMethod string `json:"hide_method"`
	// KeepLatest is how many of the newest bootable images (active,
	// public or community, not os_hidden) of each group, by created_at, are
	// never touched; 0 keeps none for being new.
	KeepLatest int `json:"keep_latest"`
	// GroupBy names the properties whose values form a group for
	// KeepLatest; empty means one group of every managed image.
	GroupBy []string `json:"group_by"`
	// SkipInUse leaves alone images that a server references; nil means true.
	SkipInUse *bool `json:"skip_in_use"`
	// SkipImages are image IDs that are never touched.
	SkipImages []string `json:"skip_images"`
	// Now is the reference time, RFC 3339; empty means the current time.
	Now string `json:"now"`
	// DryRun reports what would change and changes nothing, as check mode does.
	DryRun bool `json:"dry_run"`
	// Supports selects a set of supported images instead of (or besides)
	// the filters: a list of production names, a supports.yaml document as
	// Chameleon's cleaner reads it, the index of Chameleon's image store
	// (name -> version), or the URL (http, https, file) of one of those,
	// read at each run. The image with each production name (the current
	// production image) is always kept.
	Supports any `json:"supports"`
}

// listFilterKeys are query parameters of Glance's image list that the cleaner
// sets itself, or that other options express; filters may not name them.
var listFilterKeys = map[string]string{
	"visibility": "the cleaner looks in every visibility",
	"os_hidden":  "the cleaner looks at hidden and visible images",
	"limit":      "the cleaner pages by itself", "marker": "the cleaner pages by itself",
	"sort": "the cleaner pages by itself", "sort_key": "the cleaner pages by itself", "sort_dir": "the cleaner pages by itself",
	"owner":      "use the owner option",
	"tag":        "use the tags option",
	"created_at": "ages are set by hide_after_months and delete_after_months",
	"updated_at": "ages are set by hide_after_months and delete_after_months",
}

// policy is Options checked and resolved.
type policy struct {
	now, hideBefore, deleteBefore time.Time
	hideAfter, deleteAfter        int
	hideMethod                    string
	keepLatest                    int
	groupBy                       []string
	skipInUse                     bool
	skip                          map[string]bool
	filters                       map[string]string
	namePattern                   *regexp.Regexp
	owner                         string
	tags                          []string
	dryRun                        bool
	supports                      []supported
	supportsURL                   string
}

// resolve checks the options and computes the cut-off times. Every error
// names the option, the value given and what was expected. clock gives the
// current time when Now is empty.
func (o Options) resolve(clock func() time.Time) (policy, error) {
	p := policy{hideAfter: o.HideAfterMonths, deleteAfter: o.DeleteAfterMonths, hideMethod: o.HideMethod,
		keepLatest: o.KeepLatest, groupBy: o.GroupBy, skipInUse: o.SkipInUse == nil || *o.SkipInUse,
		skip: map[string]bool{}, owner: o.Owner, tags: o.Tags, dryRun: o.DryRun}
	if p.hideAfter == 0 {
		p.hideAfter = DefaultHideAfterMonths
	}
	if p.deleteAfter == 0 {
		p.deleteAfter = DefaultDeleteAfterMonths
	}
	if p.hideMethod == "" {
		p.hideMethod = HidePrivate
	}
	switch {
	case p.hideAfter < 0:
		return p, fmt.Errorf("hide_after_months is %d; expected a whole number of months, 1 or more", p.hideAfter)
	case p.deleteAfter <= p.hideAfter:
		return p, fmt.Errorf("delete_after_months is %d; expected more than hide_after_months (%d), so that images are hidden before they are deleted",
			p.deleteAfter, p.hideAfter)
	case p.hideMethod != HidePrivate && p.hideMethod != HideOSHidden:
		return p, fmt.Errorf("hide_method is %q; expected %s or %s", p.hideMethod, HidePrivate, HideOSHidden)
	case p.keepLatest < 0:
		return p, fmt.Errorf("keep_latest is %d; expected 0 or more", p.keepLatest)
	}
	for i, key := range p.groupBy {
		if strings.TrimSpace(key) == "" {
			return p, fmt.Errorf("group_by[%d] is empty; expected a property name", i)
		}
	}
	for i, id := range o.SkipImages {
		if strings.TrimSpace(id) == "" {
			return p, fmt.Errorf("skip_images[%d] is empty; expected an image ID", i)
		}
		p.skip[id] = true
	}
	var err error
	if p.filters, err = filterTexts(o.Filters); err != nil {
		return p, err
	}
	if o.NamePattern != "" {
		if p.namePattern, err = regexp.Compile(o.NamePattern); err != nil {
			return p, fmt.Errorf("name_pattern %q is not a regular expression: %v", o.NamePattern, err)
		}
	}
	if p.supports, err = parseSupports(o.Supports); err != nil {
		return p, err
	}
	if p.supportsURL, err = supportsURL(o.Supports); err != nil {
		return p, err
	}
	if len(p.filters) == 0 && p.namePattern == nil && p.owner == "" && len(p.tags) == 0 && len(p.supports) == 0 && p.supportsURL == "" {
		return p, fmt.Errorf("filters, name_pattern, owner, tags and supports are all empty; expected at least one of them, " +
			"to say which images are managed (the cleaner never manages every image of a cloud)")
	}
	p.now = clock().UTC()
	if o.Now != "" {
		if p.now, err = time.Parse(time.RFC3339, o.Now); err != nil {
			return p, fmt.Errorf("now is %q; expected an RFC 3339 time such as 2024-06-01T00:00:00Z", o.Now)
		}
	}
	p.hideBefore = monthsBefore(p.now, p.hideAfter)
	p.deleteBefore = monthsBefore(p.now, p.deleteAfter)
	return p, nil
}

// monthsBefore returns t moved back n calendar months, same day and time of
// day, clamped to the last day of a shorter month (31 March minus one month
// is 28 or 29 February, as dateutil's relativedelta counts, where Go's
// AddDate would overflow into 3 March).
func monthsBefore(t time.Time, n int) time.Time {
	year, month, day := t.Date()
	hour, minute, second := t.Clock()
	first := time.Date(year, month-time.Month(n), 1, hour, minute, second, t.Nanosecond(), t.Location())
	lastDay := first.AddDate(0, 1, -1).Day()
	return first.AddDate(0, 0, min(day, lastDay)-1)
}

// filterTexts turns the filters option into the text Glance compares with.
func filterTexts(filters map[string]any) (map[string]string, error) {
	out := make(map[string]string, len(filters))
	keys := make([]string, 0, len(filters))
	for key := range filters {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	for _, key := range keys {
		if why, reserved := listFilterKeys[key]; reserved {
			return nil, fmt.Errorf("filters: %q cannot be a filter: %s", key, why)
		}
		switch v := filters[key].(type) {
		case string:
			out[key] = v
		case bool:
			out[key] = fmt.Sprint(v)
		case int, int64:
			out[key] = fmt.Sprint(v)
		case float64: // a JSON or YAML number: 20240101, not 2.0240101e+07
			out[key] = strconv.FormatFloat(v, 'f', -1, 64)
		default:
			if n, ok := v.(fmt.Stringer); ok && v != nil { // json.Number
				out[key] = n.String()
				continue
			}
			return nil, fmt.Errorf("filters.%s is %v; expected a string, number or boolean to compare the property with", key, v)
		}
	}
	return out, nil
}
