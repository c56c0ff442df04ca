// Package manifest writes image manifests: a YAML file whose one top-level
// key (container_images by default) maps each image name to its reference,
// rewritten to a private registry with imageref, so that it can be included
// as group_vars for an offline install. It is the logic of the
// image_manifest module (ModuleSpec, RunModule).
//
// The file is rendered as Atmosphere's role renders it (Ansible's
// to_nice_yaml(indent=2), byte for byte, niceyaml.go), compared with what is on disk, and
// written only when it differs: atomically (a temporary file in the same
// directory, synced, then renamed over the old one) and, unless Force, only
// when no different file is there. With PinDigests each reference without a
// digest is resolved (a HEAD at the source registry, registryaccess.Resolve) and
// written as tag@digest.
package manifest
