package ingest

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/imageops/cloud/gomodules/fetch"
	"github.com/imageops/cloud/gomodules/openstack/conn"
	"github.com/imageops/cloud/gomodules/openstack/glance"
)

// Options are the community_image module's options, as Ansible passes them.
// Pointer fields are optional: nil means "not managed".
type Options struct {
	conn.Config

	Name                     string   `json:"name"`
	State                    string   `json:"state"`
	SourceURL                string   `json:"source_url"`
	SourceDiskFormat         string   `json:"source_disk_format"`
	DiskFormat               string   `json:"disk_format"`
	ContainerFormat          string   `json:"container_format"`
	Checksum                 string   `json:"checksum"`
	ChecksumSHA512           string   `json:"checksum_sha512"`
	Visibility               string   `json:"visibility"`
	UpdateExistingVisibility bool     `json:"update_existing_visibility"`
	Properties               any      `json:"properties"`
	KubernetesVersion        string   `json:"kubernetes_version"`
	Tags                     []string `json:"tags"`
	MinDisk                  *int     `json:"min_disk"`
	MinRAM                   *int     `json:"min_ram"`
	Protected                *bool    `json:"protected"`
	Workdir                  string   `json:"workdir"`
	Decompress               any      `json:"decompress"`
	// MaxVirtualSize bounds a source's virtual size, in bytes; 0 means
	// DefaultMaxVirtualSize.
	MaxVirtualSize int64 `json:"max_virtual_size"`
	// ImportMethod is how the data reaches Glance: upload (PUT, the
	// default), web-download or glance-direct (ImportMethods).
	ImportMethod string `json:"import_method"`
	// ImportTimeout is how long, in seconds, an import may take from its
	// start until the image is active; 0 means glance.DefaultImportTimeout.
	ImportTimeout int `json:"import_timeout"`
	// Owner is the project (name or ID) whose image this is, when not the
	// credentials' own (a module option of community_image, resolved by
	// conn.Clients.ResolveProject; not part of ImageSpec).
	Owner string `json:"owner"`
	// InsecureSkipGlanceVerify uses an existing image without checking its
	// data against the checksums (needed for images another tool converted,
	// whose os_hash_value is that of the converted bytes); it also leaves out
	// other projects' community images, which only a check makes trusted.
	InsecureSkipGlanceVerify bool `json:"insecure_skip_glance_verify"`
	// UseExistingTrustedCommunityImages uses, when Glance's default list has
	// no image of the name, another project's community image of it, once
	// verified; nil means true.
	UseExistingTrustedCommunityImages *bool `json:"use_existing_trusted_community_images"`

	// newAtGlanceDefaultVisibility creates a new image without a visibility,
	// so that it gets Glance's default (shared): azimuth-ops' role does so
	// when community_images_update_existing_visibility is false.
	newAtGlanceDefaultVisibility bool
}

// DefaultMaxVirtualSize is max_virtual_size's default: 64 GiB, above every
// public cloud image (Debian, Ubuntu, Fedora, Rocky, Windows Server
// evaluation images are 2 to 40 GiB) while bounding what one image may make
// a run write to workdir and send to Glance.
const DefaultMaxVirtualSize = 64 << 30

// KubernetesVersionProperty is the image property a spec's
// kubernetes_version sets (the OpenStack Magnum Cluster API Helm driver
// reads it). azimuth-ops' released role does not set it; only its unmerged
// branch additional-image-properties does.
const KubernetesVersionProperty = "kube_version"

// desired is Options checked and normalised.
type desired struct {
	Options
	properties map[string]string
	decompress fetch.DecompressMode
	checksums  []fetch.Checksum
	// maxVirtualSize is MaxVirtualSize with its default applied.
	maxVirtualSize int64
	// warnings are about the options themselves (a weak checksum).
	warnings []string
}

// otherProjectsCommunityImages tells whether another project's community
// image of the name may be used: asked for, and verifiable.
func (d desired) otherProjectsCommunityImages() bool {
	return !d.InsecureSkipGlanceVerify && (d.UseExistingTrustedCommunityImages == nil || *d.UseExistingTrustedCommunityImages)
}

// normalize checks what the Ansible spec cannot (formats and the shapes of
// properties and decompress) and returns the desired state. Errors name the
// option, the value and what was expected.
func (o Options) normalize() (desired, error) {
	d := desired{Options: o}
	if strings.TrimSpace(o.Name) == "" {
		return d, fmt.Errorf("name must not be empty")
	}
	if err := glance.CheckName(o.Name); err != nil {
		return d, fmt.Errorf("name: %w", err)
	}
	for option, value := range map[string]string{"disk_format": o.DiskFormat, "source_disk_format": o.SourceDiskFormat} {
		if value != "" && !glance.IsDiskFormat(value) {
			return d, fmt.Errorf("%s %q is not a Glance disk format; expected one of: %s", option, value, strings.Join(glance.DiskFormats, ", "))
		}
	}
	if d.SourceDiskFormat == "" && isKernelOrRamdisk(d.DiskFormat) {
		// A kernel or ramdisk stored as aki/ari (as openstack.cloud.image
		// takes it) is one: uploaded as it comes, never decompressed or converted.
		d.SourceDiskFormat = d.DiskFormat
	}
	switch {
	case o.MaxVirtualSize < 0:
		return d, fmt.Errorf("max_virtual_size is %d; expected a positive size such as 64G", o.MaxVirtualSize)
	case o.MaxVirtualSize == 0:
		d.maxVirtualSize = DefaultMaxVirtualSize
	default:
		d.maxVirtualSize = o.MaxVirtualSize
	}
	if o.ImportTimeout < 0 {
		return d, fmt.Errorf("import_timeout is %d; expected a number of seconds above 0", o.ImportTimeout)
	}
	if o.State == "present" && o.SourceURL == "" {
		return d, fmt.Errorf("source_url is required when state is present (the URL of %q to upload)", o.Name)
	}
	props, err := parseProperties(o.Properties)
	if err != nil {
		return d, err
	}
	if o.KubernetesVersion != "" {
		props[KubernetesVersionProperty] = o.KubernetesVersion
	}
	d.properties = props
	if d.checksums, err = fetch.ParseChecksums(o.Checksum, o.ChecksumSHA512); err != nil {
		return d, err
	}
	for _, sum := range d.checksums {
		if sum.Weak() {
			d.warnings = append(d.warnings, fmt.Sprintf("checksum %s: %s is weak: it catches a broken download, not a deliberate change; "+
				"prefer the publisher's sha256 or sha512", sum, sum.Algorithm))
		}
	}
	if d.decompress, err = parseDecompress(o.Decompress); err != nil {
		return d, err
	}
	if err := d.applyBuildRecord(); err != nil {
		return d, err
	}
	return d, d.checkImportMethod()
}

// parseProperties accepts a dict, or azimuth-ops' list of "key=value" strings.
func parseProperties(value any) (map[string]string, error) {
	out := map[string]string{}
	switch v := value.(type) {
	case nil:
	case map[string]any:
		for key, item := range v {
			out[key] = propertyText(item)
		}
	case []any:
		for i, item := range v {
			text, ok := item.(string)
			key, val, found := strings.Cut(text, "=")
			if !ok || !found || key == "" {
				return nil, fmt.Errorf("properties[%d] is %v; expected a \"key=value\" string", i, item)
			}
			out[key] = val
		}
	default:
		return nil, fmt.Errorf("properties must be a dict or a list of \"key=value\" strings, got %v", value)
	}
	for key := range out {
		if glance.IsImageField(key) {
			return nil, fmt.Errorf("properties: %q is one of Glance's own image fields; set it with its option instead", key)
		}
	}
	return out, nil
}

// propertyText renders a property value as Glance stores it (a string),
// writing booleans as Glance's own fields do ("true"/"false") and numbers
// in plain decimal (a YAML 20240901 reaches the module as a JSON number, a
// float64, which fmt would print as 2.0240901e+07).
func propertyText(value any) string {
	switch v := value.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		if v {
			return "true"
		}
		return "false"
	default:
		return fmt.Sprint(v)
	}
}

func parseDecompress(value any) (fetch.DecompressMode, error) {
	switch v := value.(type) {
	case nil:
		return fetch.DecompressAuto, nil
	case bool:
		if v {
			return fetch.DecompressAlways, nil
		}
		return fetch.DecompressNever, nil
	case string:
		switch strings.ToLower(v) {
		case "auto", "":
			return fetch.DecompressAuto, nil
		case "true", "yes", "on", "always":
			return fetch.DecompressAlways, nil
		case "false", "no", "off", "never":
			return fetch.DecompressNever, nil
		}
	}
	return "", fmt.Errorf("decompress is %v; expected auto, true or false", value)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for key := range m {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	return keys
}
