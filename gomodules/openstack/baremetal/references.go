package baremetal

import (
	"context"
	"regexp"
	"sort"
	"strings"
)

// ImageReference is one place where a node names a Glance image.
type ImageReference struct {
	// Node is the node's UUID, NodeName its name ("" when it has none).
	Node     string `json:"node"`
	NodeName string `json:"node_name,omitempty"`
	// Field is where the node names the image: "driver_info.deploy_kernel",
	// "instance_info.image_source", ...
	Field string `json:"field"`
}

// ImageReferences are the Glance images that nodes name, by image ID and,
// for values that are neither an ID nor a URL, by image name.
type ImageReferences struct {
	byID, byName map[string][]ImageReference
}

// Of returns where nodes name the image with this ID or this name, sorted
// by node, then field; nil when no node does.
func (r ImageReferences) Of(id, name string) []ImageReference {
	found := append(append([]ImageReference(nil), r.byID[id]...), r.byName[name]...)
	sort.Slice(found, func(i, j int) bool {
		if found[i].Node != found[j].Node {
			return found[i].Node < found[j].Node
		}
		return found[i].Field < found[j].Field
	})
	return found
}

// Len is how many references there are.
func (r ImageReferences) Len() int {
	n := 0
	for _, refs := range []map[string][]ImageReference{r.byID, r.byName} {
		for _, list := range refs {
			n += len(list)
		}
	}
	return n
}

// ImageReferences lists every node the credentials see (Ironic shows a
// project only the nodes it owns or leases; an admin or system reader sees
// all) and returns the images they name (see FindImageReferences).
func (c *Client) ImageReferences(ctx context.Context) (ImageReferences, error) {
	list, err := c.Nodes(ctx, ListOptions{})
	if err != nil {
		return ImageReferences{}, err
	}
	return FindImageReferences(list), nil
}

// FindImageReferences returns the images that the nodes name in the fields
// Ironic boots or deploys from: in driver_info, deploy_kernel and
// deploy_ramdisk (the IPA pair), rescue_kernel and rescue_ramdisk,
// deploy_iso and rescue_iso, and any other key ending in "kernel",
// "ramdisk" or "_iso" (kernel and ramdisk, vendor-prefixed keys such as
// ilo_deploy_iso); in instance_info, image_source, kernel, ramdisk,
// boot_iso, and likewise any key ending so.
//
// A value names a Glance image as Ironic reads it
// (ironic.common.glance_service.service_utils): an image ID (a UUID), or
// glance://<ID>. A URL of another scheme (http, https, file) is no Glance
// image and is left out; any other text is taken as an image name, so
// that a release of Ironic that resolves names keeps its images too.
func FindImageReferences(list []Node) ImageReferences {
	refs := ImageReferences{byID: map[string][]ImageReference{}, byName: map[string][]ImageReference{}}
	for _, node := range list {
		for _, field := range []struct {
			name   string
			values map[string]any
		}{{"driver_info", node.DriverInfo}, {"instance_info", node.InstanceInfo}} {
			for key, value := range field.values {
				text, ok := value.(string)
				if !ok || !namesImage(field.name, key) {
					continue
				}
				ref := ImageReference{Node: node.UUID, NodeName: node.Name, Field: field.name + "." + key}
				switch id, name := parseImageRef(text); {
				case id != "":
					refs.byID[id] = append(refs.byID[id], ref)
				case name != "":
					refs.byName[name] = append(refs.byName[name], ref)
				}
			}
		}
	}
	return refs
}

// namesImage tells whether a key of a node's driver_info or instance_info
// holds an image Ironic boots or deploys. kernel_append_params and
// ramdisk_kernel_arguments end otherwise and are left out.
func namesImage(field, key string) bool {
	if field == "instance_info" && key == "image_source" {
		return true
	}
	return strings.HasSuffix(key, "kernel") || strings.HasSuffix(key, "ramdisk") || strings.HasSuffix(key, "_iso")
}

// uuidPattern is a UUID in any letter case, with or without hyphens, as
// oslo's is_uuid_like accepts.
var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$`)

// parseImageRef reads a reference: an image ID (id, lower case with
// hyphens, as Glance shows it), an image name, or neither (a URL of another
// service, or nothing).
func parseImageRef(text string) (id, name string) {
	text = strings.TrimSpace(text)
	if rest, ok := strings.CutPrefix(text, "glance://"); ok {
		text = rest[strings.LastIndex(rest, "/")+1:]
		if !uuidPattern.MatchString(text) {
			return "", ""
		}
	}
	switch {
	case text == "" || strings.Contains(text, "://"):
		return "", ""
	case uuidPattern.MatchString(text):
		return canonicalUUID(text), ""
	}
	return "", text
}

// canonicalUUID writes a UUID as Glance shows image IDs: lower case, hyphenated.
func canonicalUUID(text string) string {
	hex := strings.ToLower(strings.ReplaceAll(text, "-", ""))
	return hex[0:8] + "-" + hex[8:12] + "-" + hex[12:16] + "-" + hex[16:20] + "-" + hex[20:32]
}
