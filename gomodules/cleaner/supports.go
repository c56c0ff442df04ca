package cleaner

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"gopkg.in/yaml.v2"

	"github.com/imageops/cloud/gomodules/ansible"
	"github.com/imageops/cloud/gomodules/fetch"
)

// maxSupportsSize bounds a supports document read from a URL (bytes).
const maxSupportsSize = 4 << 20

// Chameleon's image properties (CC-Images writes them from its
// supports.yaml: distro, release and variant of each build).
const (
	buildDistro  = "build-distro"
	buildRelease = "build-release"
	buildVariant = "build-variant"
	// releaseNameProperty is where the deployer records an image's
	// production name (deployer.ReleaseNameProperty; the cleaner does not
	// import the deployer).
	releaseNameProperty = "imageops_release_name"
	// buildIPA says which half of an Ironic Python Agent pair an image is
	// (kernel or initramfs; "na" otherwise), as Chameleon's builds and the
	// deployer record it.
	buildIPA = "build-ipa"
)

// supported is one supported image: its production name and, when it came
// from a supports.yaml, the build-* values of its builds.
type supported struct {
	name                     string
	distro, release, variant string
	older                    *regexp.Regexp // names of its superseded images
}

// parseSupports reads the supports option: a list of production names, a
// supports.yaml document as Chameleon's cleaner reads it (supported_distros:
// distro -> releases: release -> {prod_name, variants}; supported_variants:
// variant -> prod_name_suffix, appended as "-<suffix>"), or the index of
// Chameleon's image store (production name -> version, the keys are the
// names). A URL (string) is read by loadSupports at run time; here it
// gives no entries.
func parseSupports(value any) ([]supported, error) {
	var out []supported
	switch v := value.(type) {
	case nil, string:
		return nil, nil
	case []any:
		for i, item := range v {
			name, ok := item.(string)
			if !ok || strings.TrimSpace(name) == "" {
				return nil, fmt.Errorf("supports[%d] is %v; expected a production image name", i, item)
			}
			out = append(out, supported{name: name})
		}
	case map[string]any:
		if _, isYAML := v["supported_distros"]; !isYAML && len(v) > 0 && allText(v) {
			for name := range v { // the store's index: name -> version
				out = append(out, supported{name: name})
			}
			break
		}
		var err error
		if out, err = parseSupportsYAML(v); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("supports is %v; expected a list of production image names or a supports.yaml document (supported_distros, supported_variants)", value)
	}
	for i := range out {
		// Superseded images: Chameleon's deployer names them <name>_<build
		// timestamp>, ours <name>-<created_at as 20060102T150405Z>.
		out[i].older = regexp.MustCompile("^" + regexp.QuoteMeta(out[i].name) + `(_.+|-\d{8}T\d{6}Z)$`)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, nil
}

func parseSupportsYAML(doc map[string]any) ([]supported, error) {
	distros, ok := doc["supported_distros"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("supports has no supported_distros object; expected a supports.yaml document or a list of production names")
	}
	variants, _ := doc["supported_variants"].(map[string]any)
	var out []supported
	for distro, dv := range distros {
		releases, _ := asMap(dv)["releases"].(map[string]any)
		for release, rv := range releases {
			r := asMap(rv)
			base, _ := r["prod_name"].(string)
			names, _ := r["variants"].([]any)
			if base == "" || len(names) == 0 {
				continue // as Chameleon's cleaner: releases without variants are not built
			}
			for _, raw := range names {
				variant := fmt.Sprint(raw)
				name := base
				if suffix, _ := asMap(variants[variant])["prod_name_suffix"].(string); suffix != "" {
					name += "-" + suffix
				}
				out = append(out, supported{name: name, distro: distro, release: release, variant: variant})
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("supports lists no release with a prod_name and variants; expected at least one supported image")
	}
	return out, nil
}

func allText(m map[string]any) bool {
	for _, value := range m {
		if _, ok := value.(string); !ok {
			return false
		}
	}
	return true
}

// supportsURL is the supports option when it is a URL, else "".
func supportsURL(value any) (string, error) {
	text, ok := value.(string)
	if !ok {
		return "", nil
	}
	if strings.TrimSpace(text) == "" {
		return "", fmt.Errorf("supports is an empty string; expected a URL, a list of production names or a supports.yaml document")
	}
	return text, nil
}

// loadSupports reads the supports document at location (http, https or
// file: a supports.yaml, the store's index or a list of names).
func loadSupports(ctx context.Context, location string) ([]supported, error) {
	content, err := fetch.ReadSmall(ctx, location, maxSupportsSize)
	if err != nil {
		return nil, fmt.Errorf("reading supports: %w", err)
	}
	var doc any
	if err := yaml.Unmarshal(content, &doc); err != nil {
		return nil, fmt.Errorf("supports at %s is not JSON or YAML: %w", fetch.RedactURL(location), err)
	}
	out, err := parseSupports(ansible.PlainYAML(doc))
	if err != nil {
		return nil, fmt.Errorf("supports at %s: %w", fetch.RedactURL(location), err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("supports at %s names no image; expected a supports.yaml, the store's index or a list of names", fetch.RedactURL(location))
	}
	return out, nil
}

func asMap(value any) map[string]any {
	m, _ := value.(map[string]any)
	return m
}

// supportOf returns the supported image an image belongs to: the same
// build-distro, build-release and build-variant (a supports.yaml entry, as
// Chameleon's cleaner selects), or the production name, a superseded name
// of it, or the deployer's record of it. nil when none.
func (p policy) supportOf(image *images.Image) *supported {
	releaseName := textOf(image.Properties[releaseNameProperty])
	for i := range p.supports {
		s := &p.supports[i]
		if s.distro != "" && textOf(image.Properties[buildDistro]) == s.distro &&
			textOf(image.Properties[buildRelease]) == s.release && textOf(image.Properties[buildVariant]) == s.variant {
			return s
		}
		for _, name := range []string{image.Name, withoutIPAHalf(image, image.Name)} {
			if name == s.name || s.older.MatchString(name) {
				return s
			}
		}
		if releaseName == s.name || withoutIPAHalf(image, releaseName) == s.name {
			return s
		}
	}
	return nil
}

// isProduction tells whether an image is the current production image of
// its supported image: the one with its production name, which is kept
// (both halves, <name>.kernel and <name>.initramfs, of an IPA pair).
func (p policy) isProduction(image *images.Image) bool {
	s := p.supportOf(image)
	return s != nil && (image.Name == s.name || withoutIPAHalf(image, image.Name) == s.name)
}

// withoutIPAHalf takes the half out of a name of an IPA pair's image
// (build-ipa kernel or initramfs): the deployer names the halves of <name>
// <name>.kernel and <name>.initramfs, archived <name>.kernel_<timestamp>,
// and both belong to the supported image <name>. Other names are returned
// as they are.
func withoutIPAHalf(image *images.Image, name string) string {
	half := textOf(image.Properties[buildIPA])
	if half != "kernel" && half != "initramfs" {
		return name
	}
	if before, after, found := strings.Cut(name, "."+half); found {
		return before + after
	}
	return name
}
