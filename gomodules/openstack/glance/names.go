package glance

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxNameLength is the longest image name Glance accepts, in characters
// (Image API v2, "name": string, up to 255 characters).
const MaxNameLength = 255

// ErrInvalidName is wrapped by CheckName's errors.
var ErrInvalidName = errors.New("invalid image name")

// CheckName checks a name against Glance's rules, so that a name Glance
// would refuse fails before anything is downloaded: valid UTF-8, at most
// MaxNameLength characters, and no character outside the Basic Multilingual
// Plane (4-byte UTF-8, such as emoji), which Glance's MySQL utf8 columns
// refuse.
func CheckName(name string) error {
	if !utf8.ValidString(name) {
		return fmt.Errorf("%w: %q is not valid UTF-8", ErrInvalidName, name)
	}
	if n := utf8.RuneCountInString(name); n > MaxNameLength {
		return fmt.Errorf("%w: the name is %d characters long (%.40q...); Glance takes at most %d", ErrInvalidName, n, name, MaxNameLength)
	}
	for i, r := range name {
		if utf8.RuneLen(r) == 4 {
			return fmt.Errorf("%w: %q has %q at byte %d, a character outside Unicode's Basic Multilingual Plane (4 bytes in UTF-8), which Glance refuses",
				ErrInvalidName, name, r, i)
		}
	}
	return nil
}

// NameFilter returns the value of the name filter of an image list that
// matches exactly name. Glance reads a name filter "op:value" as an
// operator (glance.common.utils.split_filter_op): "in:a,b" is a list, and
// any other prefix before a colon an unknown operator (400). A name with a
// colon is therefore sent as a quoted list of one, in:"name" (Image API v2,
// "List images": "name=in:"glass,%20jar""), or, when it holds a quote or a
// backslash, which Glance keeps raw inside quotes, with the eq operator,
// which takes everything after its colon as it is.
func NameFilter(name string) string {
	switch {
	case !strings.Contains(name, ":"):
		return name
	case !strings.ContainsAny(name, `"\`):
		return `in:"` + name + `"`
	default:
		return "eq:" + name
	}
}
