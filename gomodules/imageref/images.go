package imageref

import (
	"fmt"
	"strings"
)

// ImagesOption reads the images option: a list of references (each is its
// own name) or a dict of name -> reference. Anything else is an error that
// says what was given.
func ImagesOption(value any) (map[string]string, error) {
	out := map[string]string{}
	switch v := value.(type) {
	case []any:
		for i, item := range v {
			text, ok := item.(string)
			if !ok {
				return nil, fmt.Errorf("option images: item %d is a %s, expected an image reference string", i, kind(item))
			}
			out[text] = text
		}
	case map[string]any:
		for key, item := range v {
			text, ok := item.(string)
			if !ok {
				return nil, fmt.Errorf("option images: %q is a %s, expected an image reference string", key, kind(item))
			}
			out[key] = text
		}
	case string:
		for _, item := range strings.Split(v, ",") {
			if item = strings.TrimSpace(item); item != "" {
				out[item] = item
			}
		}
	default:
		return nil, fmt.Errorf("option images: expected a list of image references or a dict of name -> reference, got a %s", kind(value))
	}
	return out, nil
}

// kind names a decoded option value's type as YAML users know it.
func kind(value any) string {
	switch value.(type) {
	case map[string]any:
		return "dict"
	case []any:
		return "list"
	case string:
		return "string"
	case bool:
		return "boolean"
	case nil:
		return "null"
	default:
		return "number"
	}
}
