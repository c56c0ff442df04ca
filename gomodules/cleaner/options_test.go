package cleaner

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCutOffsAreCalendarMonthsClampedToTheMonthsEnd(t *testing.T) {
	at := func(text string) time.Time {
		parsed, err := time.Parse(time.RFC3339, text)
		require.NoError(t, err)
		return parsed
	}
	for _, c := range []struct {
		now    string
		months int
		want   string
	}{
		{"2025-06-15T08:30:00Z", 12, "2024-06-15T08:30:00Z"},
		{"2025-06-15T08:30:00Z", 18, "2023-12-15T08:30:00Z"},
		{"2025-03-31T12:00:00Z", 1, "2025-02-28T12:00:00Z"}, // not 3 March, as AddDate would say
		{"2024-03-31T12:00:00Z", 1, "2024-02-29T12:00:00Z"}, // leap year
		{"2025-08-31T00:00:00Z", 18, "2024-02-29T00:00:00Z"},
		{"2025-01-10T00:00:00Z", 13, "2023-12-10T00:00:00Z"},
	} {
		assert.Equal(t, at(c.want), monthsBefore(at(c.now), c.months), "%s minus %d months", c.now, c.months)
	}
}

func TestBadOptionsNameTheOptionTheValueAndWhatWasExpected(t *testing.T) {
	base := Options{Filters: map[string]any{"build-distro": "ubuntu"}}
	require.NoError(t, base.Validate())
	for _, c := range []struct {
		change func(*Options)
		want   string
	}{
		{func(o *Options) { o.HideAfterMonths, o.DeleteAfterMonths = 12, 12 },
			"delete_after_months is 12; expected more than hide_after_months (12), so that images are hidden before they are deleted"},
		{func(o *Options) { o.DeleteAfterMonths = 6 }, "delete_after_months is 6; expected more than hide_after_months (12)"},
		{func(o *Options) { o.HideMethod = "delete" }, `hide_method is "delete"; expected private or os_hidden`},
		{func(o *Options) { o.KeepLatest = -1 }, "keep_latest is -1; expected 0 or more"},
		{func(o *Options) { o.Now = "yesterday" }, `now is "yesterday"; expected an RFC 3339 time such as 2024-06-01T00:00:00Z`},
		{func(o *Options) { o.NamePattern = "ubuntu-(" }, `name_pattern "ubuntu-(" is not a regular expression`},
		{func(o *Options) { o.Filters = map[string]any{"visibility": "public"} }, `filters: "visibility" cannot be a filter: the cleaner looks in every visibility`},
		{func(o *Options) { o.Filters = map[string]any{"os_distro": []any{"a"}} }, "filters.os_distro is [a]; expected a string, number or boolean"},
		{func(o *Options) { o.Filters = map[string]any{} }, "filters, name_pattern, owner, tags and supports are all empty; expected at least one of them"},
		{func(o *Options) { o.SkipImages = []string{""} }, "skip_images[0] is empty; expected an image ID"},
		{func(o *Options) { o.GroupBy = []string{" "} }, "group_by[0] is empty; expected a property name"},
	} {
		opts := base
		c.change(&opts)
		assert.ErrorContains(t, opts.Validate(), c.want)
	}
}

func TestFilterNumbersAreComparedAsTheTextGlanceHolds(t *testing.T) {
	// Options decoded from JSON or YAML hold numbers as float64; Glance holds
	// every property as text, so 20240101 must be "20240101", not "2.0240101e+07".
	var filters map[string]any
	require.NoError(t, json.Unmarshal([]byte(`{"build": 20240101, "min_disk": 20, "ratio": 1.5, "latest": true}`), &filters))
	texts, err := filterTexts(filters)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"build": "20240101", "min_disk": "20", "ratio": "1.5", "latest": "true"}, texts)
}
