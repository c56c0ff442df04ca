package deployer

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"path"
	"sort"
	"strings"

	json "github.com/goccy/go-json"
	"gopkg.in/yaml.v2"

	"github.com/imageops/cloud/gomodules/ansible"
	"github.com/imageops/cloud/gomodules/fetch"
	"github.com/imageops/cloud/gomodules/openstack/glance"
)

// Catalog formats.
const (
	FormatAuto      = "auto"
	FormatAzimuth   = "azimuth"
	FormatChameleon = "chameleon"
	FormatSpecs     = "specs"
)

// maxCatalogSize bounds a catalog or metadata document read into memory (bytes).
const maxCatalogSize = 16 << 20

// Release is one released image of a catalog.
type Release struct {
	// Name is the production name: the name the image has in Glance once deployed.
	Name string
	// Version identifies the release; it is recorded in ReleaseProperty.
	Version string
	// Spec is what to upload: community_image options (source URL,
	// checksums, formats, properties). Name, State and Visibility are set by
	// the deployer.
	Spec map[string]any
	// MetadataURL, for a Chameleon release, is the .manifest to read before
	// the upload (its properties and checksums); empty otherwise.
	MetadataURL string
	// Chameleon is true for a release of a Chameleon store: its version is
	// recorded in the property "current" too, and a superseded image is
	// archived as Chameleon's deployer archives it.
	Chameleon bool
	// IPA, for one half of an Ironic Python Agent pair, is the half
	// (IPAKernel or IPAInitramfs), recorded in IPAProperty; Pair is then
	// the catalog entry both halves come from. Empty otherwise.
	IPA, Pair string
	// files is, for a Chameleon release, the URL of its files without
	// extension (<base>/<version>/<name>).
	files string
}

// Ironic Python Agent (IPA) pairs, as Chameleon builds and deploys them
// (abracadabra's ccbuild.py and site_tools/deployer.py --ipa): a build of
// an ipa_* distribution yields <name>.kernel and <name>.initramfs, each
// image records its half in the property build-ipa, and a site's production
// names are <name>.kernel and <name>.initramfs. Ironic boots a node's
// deploy_kernel and deploy_ramdisk (driver_info) from them.
const (
	// IPAProperty holds the half of an IPA pair ("na" on other Chameleon images).
	IPAProperty = "build-ipa"
	// IPAKernel and IPAInitramfs are the halves, as build-ipa names them
	// and as the pair's files and production names end.
	IPAKernel    = "kernel"
	IPAInitramfs = "initramfs"
	// ipaContainerFormat is the halves' container format, as Chameleon's
	// deployer uploads them.
	ipaContainerFormat = "bare"
	// ipaUnpromoted is the IPAProperty of a half until it is promoted:
	// Chameleon's value for an image that is no IPA image.
	ipaUnpromoted = "na"
)

// ipaHalves are the halves of a pair in the order they are deployed, with
// the Glance disk format of each: aki for the kernel and ari for the
// ramdisk, Glance's formats for a kernel and a ramdisk image.
var ipaHalves = []struct{ half, diskFormat string }{{IPAKernel, "aki"}, {IPAInitramfs, "ari"}}

// SplitIPA replaces each release named in pairs by the two halves of its
// Ironic Python Agent pair: <name>.kernel from <version>/<name>.kernel and
// <name>.initramfs from <version>/<name>.initramfs, both with the
// properties of <version>/<name>.manifest. Only a Chameleon store's
// releases can be pairs; a name the catalog does not have fails.
func SplitIPA(releases []Release, pairs []string) ([]Release, error) {
	if len(pairs) == 0 {
		return releases, nil
	}
	byName := map[string]int{}
	for i, r := range releases {
		byName[r.Name] = i
	}
	split := map[string]bool{}
	for _, name := range pairs {
		i, ok := byName[name]
		switch {
		case !ok:
			return nil, fmt.Errorf("ipa_images names %q, which the catalog does not have; it has: %s", name, releaseNames(releases))
		case !releases[i].Chameleon:
			return nil, fmt.Errorf("ipa_images names %q, a release of a catalog that is not a Chameleon store; "+
				"IPA pairs are read from a Chameleon store (<version>/<name>.kernel and .initramfs)", name)
		}
		split[name] = true
	}
	var out []Release
	for _, r := range releases {
		if !split[r.Name] {
			out = append(out, r)
			continue
		}
		for _, half := range ipaHalves {
			out = append(out, Release{Name: r.Name + "." + half.half, Version: r.Version, Chameleon: true,
				IPA: half.half, Pair: r.Name, files: r.files, MetadataURL: r.MetadataURL,
				Spec: map[string]any{"source_url": r.files + "." + half.half, "disk_format": half.diskFormat,
					"source_disk_format": half.diskFormat, "container_format": ipaContainerFormat}})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Chameleon's image store (CC-Images pushes it, hammers-v2's image_deployer
// reads it): <object store URL>/<container>/<scope>/current is the index,
// <scope>/versions/<version>/<name>.<image type> and .manifest the files.
const (
	// DefaultImageContainer is the store's container.
	DefaultImageContainer = "chameleon-supported-images"
	// DefaultScope is the released scope.
	DefaultScope = "prod"
	// CurrentProperty holds the release of a Chameleon image in Glance.
	CurrentProperty = "current"
	// chameleonVersionsDir holds the releases, beside the index.
	chameleonVersionsDir = "versions"
)

// ChameleonStore returns the index URL and the base URL of the releases of
// Chameleon's store at objectStoreURL (e.g. an object store's
// ".../swift/v1/AUTH_<project>"), container and scope.
func ChameleonStore(objectStoreURL, container, scope string) (index, base string) {
	if container == "" {
		container = DefaultImageContainer
	}
	if scope == "" {
		scope = DefaultScope
	}
	root := strings.TrimSuffix(objectStoreURL, "/") + "/" + url.PathEscape(container) + "/" + url.PathEscape(scope)
	return root + "/current", root + "/" + chameleonVersionsDir
}

// ReadCatalog downloads the catalog at catalogURL (http, https or file) and
// parses it. format is one of the Format constants; FormatAuto tells them
// apart by shape. base is where a Chameleon index's releases are; empty
// means "versions" beside the index. diskFormat is the extension of
// Chameleon image files.
func ReadCatalog(ctx context.Context, catalogURL, format, base, diskFormat string, opts ...fetch.Option) ([]Release, error) {
	content, err := readDocument(ctx, catalogURL, opts...)
	if err != nil {
		return nil, fmt.Errorf("reading the catalog: %w", err)
	}
	if base == "" {
		base = parentURL(catalogURL) + "/" + chameleonVersionsDir
	}
	releases, err := ParseCatalog(content, format, base, diskFormat)
	if err != nil {
		return nil, fmt.Errorf("catalog %s: %w", fetch.RedactURL(catalogURL), err)
	}
	return releases, nil
}

// readDocument reads a small document whole.
func readDocument(ctx context.Context, location string, opts ...fetch.Option) ([]byte, error) {
	src, err := fetch.Open(ctx, location, append([]fetch.Option{fetch.WithDecompress(fetch.DecompressNever)}, opts...)...)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	content, err := io.ReadAll(io.LimitReader(src, maxCatalogSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", fetch.RedactURL(location), err)
	}
	if len(content) > maxCatalogSize {
		return nil, fmt.Errorf("%s is larger than %d bytes; expected a catalog document", fetch.RedactURL(location), maxCatalogSize)
	}
	return content, nil
}

// parentURL is the URL of the directory that holds location.
func parentURL(location string) string {
	parsed, err := url.Parse(location)
	if err != nil || parsed.Scheme == "" {
		return path.Dir(location)
	}
	parsed.Path = path.Dir(parsed.Path)
	parsed.RawQuery, parsed.Fragment = "", ""
	return parsed.String()
}

// ParseCatalog reads a catalog document (see the package documentation for
// the formats). Releases come sorted by name. Errors name the entry and what
// was expected of it.
func ParseCatalog(content []byte, format, base, diskFormat string) ([]Release, error) {
	var doc any
	if err := yaml.Unmarshal(content, &doc); err != nil {
		return nil, fmt.Errorf("parsing it as JSON or YAML: %w", err)
	}
	doc = ansible.PlainYAML(doc)
	if format == FormatAuto || format == "" {
		format = detectFormat(doc)
	}
	var releases []Release
	var err error
	switch format {
	case FormatAzimuth:
		releases, err = parseAzimuth(doc)
	case FormatChameleon:
		releases, err = parseChameleon(doc, base, diskFormat)
	case FormatSpecs:
		releases, err = parseSpecs(doc)
	default:
		return nil, fmt.Errorf("its format is not recognised; expected an azimuth-images manifest (an object of objects), " +
			"a Chameleon index (an object of version strings) or a list of community_image specs")
	}
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, r := range releases {
		if seen[r.Name] {
			return nil, fmt.Errorf("two entries have the production name %q; expected each name once", r.Name)
		}
		seen[r.Name] = true
	}
	sort.Slice(releases, func(i, j int) bool { return releases[i].Name < releases[j].Name })
	return releases, nil
}

func detectFormat(doc any) string {
	switch v := doc.(type) {
	case []any:
		return FormatSpecs
	case map[string]any:
		objects, texts := 0, 0
		for _, item := range v {
			switch item.(type) {
			case map[string]any:
				objects++
			case string:
				texts++
			}
		}
		switch {
		case objects == len(v) && objects > 0:
			return FormatAzimuth
		case texts == len(v) && texts > 0:
			return FormatChameleon
		}
	}
	return ""
}

func parseAzimuth(doc any) ([]Release, error) {
	entries, ok := doc.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("an azimuth-images manifest is an object of key -> {name, url, ...}; got %s", shape(doc))
	}
	var out []Release
	for key, raw := range entries {
		entry, ok := raw.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("entry %q is %s; expected an object with name and url", key, shape(raw))
		}
		name, _ := entry["name"].(string)
		source, _ := entry["url"].(string)
		if name == "" || source == "" {
			return nil, fmt.Errorf("entry %q has no name or no url; expected both (strings)", key)
		}
		version := name
		if v, ok := entry["version"]; ok && v != nil {
			version = fmt.Sprint(v)
		}
		spec := map[string]any{"source_url": source}
		for _, field := range []string{"checksum", "checksum_sha512", "kubernetes_version"} {
			if value, ok := entry[field].(string); ok && value != "" {
				spec[field] = value
			}
		}
		out = append(out, Release{Name: key, Version: version, Spec: spec})
	}
	return out, nil
}

func parseChameleon(doc any, base, diskFormat string) ([]Release, error) {
	index, ok := doc.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("a Chameleon index is an object of image name -> version; got %s", shape(doc))
	}
	base = strings.TrimSuffix(base, "/")
	var out []Release
	for name, raw := range index {
		version, ok := raw.(string)
		if !ok || version == "" || strings.Contains(version, "/") || strings.Contains(name, "/") {
			return nil, fmt.Errorf("entry %q is %v; expected a version string without slashes", name, raw)
		}
		file := base + "/" + url.PathEscape(version) + "/" + url.PathEscape(name)
		out = append(out, Release{Name: name, Version: version, Chameleon: true, files: file,
			Spec:        map[string]any{"source_url": file + "." + diskFormat},
			MetadataURL: file + ".manifest"})
	}
	return out, nil
}

func parseSpecs(doc any) ([]Release, error) {
	list, ok := doc.([]any)
	if !ok {
		return nil, fmt.Errorf("a specs catalog is a list of community_image specs; got %s", shape(doc))
	}
	var out []Release
	for i, raw := range list {
		entry, ok := raw.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("entry %d is %s; expected a community_image spec (name, source_url, ...)", i, shape(raw))
		}
		spec := map[string]any{}
		for key, value := range entry {
			spec[key] = value
		}
		name, _ := spec["name"].(string)
		if name == "" {
			return nil, fmt.Errorf("entry %d has no name; expected the image's production name", i)
		}
		delete(spec, "name")
		version := ""
		if v, ok := spec["version"]; ok && v != nil {
			version = fmt.Sprint(v)
		}
		delete(spec, "version")
		for _, field := range []string{"checksum_sha512", "checksum", "source_url", "url"} {
			if text, ok := spec[field].(string); version == "" && ok && text != "" {
				version = text
			}
		}
		if version == "" {
			return nil, fmt.Errorf("entry %d (%q) has no version, checksum or source_url to tell its releases apart", i, name)
		}
		out = append(out, Release{Name: name, Version: version, Spec: spec})
	}
	return out, nil
}

// chameleonMetadata reads a Chameleon .manifest: scalar values become
// properties (Glance's own fields are left out), checksum and
// checksum_sha512 verify the download. For a half of an IPA pair (ipa is
// IPAKernel or IPAInitramfs), one manifest serves both files: its
// <ipa>_checksum and <ipa>_checksum_sha512 verify the half, and no
// checksum key becomes a property.
func chameleonMetadata(ctx context.Context, location, ipa string, opts ...fetch.Option) (map[string]any, []string, error) {
	content, err := readDocument(ctx, location, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the release's metadata: %w", err)
	}
	var doc map[string]any
	if err := json.Unmarshal(content, &doc); err != nil {
		return nil, nil, fmt.Errorf("the metadata at %s is not a JSON object: %w", fetch.RedactURL(location), err)
	}
	spec := map[string]any{}
	properties := map[string]any{}
	var ignored []string
	for key, value := range doc {
		switch v := value.(type) {
		case string, float64, bool:
			switch checksum := checksumOption(key, ipa); {
			case checksum != "":
				spec[checksum] = fmt.Sprint(v)
			case isChecksumKey(key): // the other half's
			case glance.IsImageField(key):
				ignored = append(ignored, key)
			default:
				properties[key] = v
			}
		default:
			ignored = append(ignored, key)
		}
	}
	spec["properties"] = properties
	sort.Strings(ignored)
	return spec, ignored, nil
}

// checksumOption is the community_image option (checksum or
// checksum_sha512) that a manifest key gives for the file being deployed,
// or "" when the key is no checksum of that file.
func checksumOption(key, ipa string) string {
	for _, option := range []string{"checksum", "checksum_sha512"} {
		if (ipa == "" && key == option) || (ipa != "" && key == ipa+"_"+option) {
			return option
		}
	}
	return ""
}

// isChecksumKey tells whether a manifest key is a checksum of some file
// (one pair's manifest carries both halves' checksums).
func isChecksumKey(key string) bool {
	for _, half := range append([]string{""}, IPAKernel+"_", IPAInitramfs+"_") {
		if key == half+"checksum" || key == half+"checksum_sha512" {
			return true
		}
	}
	return false
}

func shape(value any) string {
	switch value.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	case string:
		return fmt.Sprintf("the string %q", value)
	}
	return fmt.Sprintf("%v", value)
}
