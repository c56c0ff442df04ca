#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Documentation only: the module is the Go binary image_manifest_<os>_<arch>
# beside this file, built by `make build`; plugins/action/image_manifest.py runs it.
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: image_manifest
short_description: Write a manifest of container images pointed at a private registry
version_added: "1.0.0"
author: imageops.cloud contributors (!UNKNOWN)
description:
  - Rewrites every reference of I(images) (name to reference) to I(registry) by I(strategy)
    and returns the result as C(manifest). With I(path) it also writes it as YAML, one
    top-level key I(var_name) mapping each name to its reference, keys sorted, so that the file
    can be included as group_vars for an offline install.
  - Tags and digests are both kept (C(<registry>/ceph:v18@sha256:...)); a reference with neither
    is written without a tag too, as Atmosphere writes it.
  - The file is byte for byte what Atmosphere's C(image_manifest) role writes for the same
    images, in Ansible's C(to_nice_yaml(indent=2)) layout, keys sorted, no header. Names must be
    at most 128 bytes without line breaks.
  - The file is written only when its content differs, atomically (a temporary file in the same
    directory, then a rename), keeping the mode of an existing file (C(0644) for a new one).
    An existing file with different content is an error unless I(force=true); an identical one
    gives C(changed=false).
  - Two different sources that would be written to the same repository and tag are an error
    that names both.
options:
  images:
    description:
      - The images, a dict of name to reference (such as Atmosphere's C(atmosphere_images)).
      - References are parsed as docker does, with Docker Hub's defaults.
    type: dict
    required: true
  registry:
    description:
      - The target registry, C(host[:port]), optionally with a path
        (C(registry.example.com/openstack)).
      - When omitted (or null) the references are written unchanged.
    type: str
  strategy:
    description:
      - C(flatten) keeps the last path segment, as Atmosphere does; C(path) keeps the repository
        path; C(scoped) keeps the source host and path (C(<registry>/quay.io/ceph/ceph)), as
        C(skopeo sync --scoped) does. See M(imageops.cloud.mirror_images).
    type: str
    default: flatten
    choices: [flatten, path, scoped]
  path:
    description:
      - The YAML file to write. Its directory must exist. When omitted nothing is written and
        the module only returns C(manifest).
    type: path
    aliases: [dest]
  var_name:
    description:
      - The top-level key of the file.
    type: str
    default: container_images
  force:
    description:
      - Overwrite an existing file whose content differs. Without it that is an error.
    type: bool
    default: false
  pin_digests:
    description:
      - Resolve each reference that has no digest at its source registry (one HEAD request) and
        write C(tag@sha256:...).
      - The digest is the source's. Images mirrored with I(platforms) of
        M(imageops.cloud.mirror_images) have another digest at the target; do not pin those.
    type: bool
    default: false
  registry_auth:
    description:
      - For I(pin_digests), credentials per source registry, C(host[:port]) to a dict with
        C(username) and C(password), or with C(token). Registries not listed use the Docker
        configuration's credentials or none.
    type: dict
  insecure_registries:
    description:
      - For I(pin_digests), registries that may be reached over plain HTTP or unverified TLS.
    type: list
    elements: str
    default: []
  ca_cert:
    description:
      - For I(pin_digests), a PEM file of CA certificates trusted besides the system's.
    type: path
    aliases: [cacert]
attributes:
  check_mode:
    support: full
    description: Rewrites the references and returns the manifest; writes no file.
  diff_mode:
    support: full
    description: The file at I(path) before and after, when it would change.
  platform:
    support: full
    platforms: posix
    description: Linux targets, amd64 and arm64; the build for the host the module runs on (the delegated host with C(delegate_to)) is picked.
seealso:
  - module: imageops.cloud.mirror_images
"""

EXAMPLES = r"""
- name: Write the offline manifest for group_vars
  imageops.cloud.image_manifest:
    images: "{{ container_images }}"
    registry: registry.example.com/openstack
    path: inventory/group_vars/all/images.yml

- name: Atmosphere's variable name, digests pinned, overwriting an older file
  imageops.cloud.image_manifest:
    images: "{{ atmosphere_images }}"
    registry: registry.example.com
    var_name: atmosphere_images
    pin_digests: true
    force: true
    path: /etc/atmosphere/images.yml

- name: Only compute the rewritten references
  imageops.cloud.image_manifest:
    images: "{{ container_images }}"
    registry: registry.example.com
    strategy: scoped
  register: rewritten
"""

RETURN = r"""
manifest:
  description: Each name mapped to the reference written (or that would be written).
  returned: success
  type: dict
  sample:
    ceph: registry.example.com/openstack/ceph:v18.2.1
    keystone_api: registry.example.com/openstack/keystone:2024.1@sha256:3f1d...
path:
  description: The file, when I(path) was given.
  returned: when path is given
  type: str
  sample: inventory/group_vars/all/images.yml
"""
