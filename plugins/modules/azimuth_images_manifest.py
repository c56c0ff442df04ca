#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Documentation only: the module is the Go binary azimuth_images_manifest_<os>_<arch>
# beside this file, built by `make build`; plugins/action/azimuth_images_manifest.py runs it.
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: azimuth_images_manifest
short_description: Read an azimuth-images release manifest and make community image specs of it
version_added: "0.1.0"
author: imageops.cloud contributors (!UNKNOWN)
description:
  - Reads the C(manifest.json) of an azimuth-images release
    (U(https://github.com/azimuth-cloud/azimuth-images)) from I(url), or checks one given as
    I(manifest), and returns it with the community image specs azimuth-ops' C(community_images)
    role makes of it (C(community_images_azimuth_images)).
  - A manifest is a JSON object keyed by build name; each entry has C(name), C(url), C(checksum)
    (C(sha256:<hex>)), C(checksum_sha512) (C(sha512:<hex>)), C(cosign-bundle-url),
    C(image-sbom-url) and, for Kubernetes images, C(kubernetes_version).
  - An entry with C(kubernetes_version) C(vX.Y.Z) becomes key C(kube_X_Y); C(jupyter-repo2docker),
    C(ubuntu-desktop) and C(linux-rstudio) become C(repo2docker), C(workstation) and C(rstudio);
    other entries are left out. Each spec is the entry's C(name), its C(url) as C(source_url),
    C(checksum), C(checksum_sha512), C(source_disk_format=qcow2), C(container_format=bare) and,
    for Kubernetes images, C(kubernetes_version).
  - When two entries take one key, the later one in the file wins, as in azimuth-ops, with a warning.
  - Fails, naming the URL and the entry, when the manifest cannot be read or is not a manifest
    (not JSON, not an object of entries, an entry without C(name) or C(url), a malformed checksum
    or C(kubernetes_version)).
  - The manifest is read where the module runs, not on the controller.
options:
  url:
    description:
      - URL of the manifest, http, https or file (for example
        C(https://github.com/azimuth-cloud/azimuth-images/releases/download/0.34.0/manifest.json)).
      - Redirects are followed; read with retries and timeouts; at most 8 MiB.
      - Exactly one of I(url) and I(manifest) is required.
    type: str
  manifest:
    description:
      - A manifest given as data; nothing is downloaded. Its entries are taken in the order of their
        keys.
    type: dict
  validate_certs:
    description:
      - Whether to verify the https server's certificate.
    type: bool
    default: true
  ca_cert:
    description:
      - A PEM file of certificate authorities to trust besides the system's, for a mirror behind a
        private CA.
    type: path
attributes:
  check_mode:
    support: full
    description: Reads the manifest in check mode too; it never writes anything.
  diff_mode:
    support: none
    description: It changes nothing, so there is no diff.
  platform:
    support: full
    platforms: posix
    description: Runs on Linux targets (amd64, arm64).
notes:
  - This is a binary module, a static Go program. Its action plugin runs the build for the
    target's operating system and CPU.
  - The C(imageops.cloud.community_images) role runs it to make C(community_images_azimuth_images).
seealso:
  - name: azimuth-images releases
    description: The releases whose manifests this module reads.
    link: https://github.com/azimuth-cloud/azimuth-images/releases
  - module: imageops.cloud.community_image_batch
"""

EXAMPLES = r"""
- name: Read the manifest of azimuth-images 0.34.0
  imageops.cloud.azimuth_images_manifest:
    url: https://github.com/azimuth-cloud/azimuth-images/releases/download/0.34.0/manifest.json
  register: azimuth_images

- name: Upload its images
  imageops.cloud.community_image_batch:
    images: "{{ azimuth_images.images }}"
    cloud: prod
"""

RETURN = r"""
manifest:
  description: The manifest as read, build name -> entry.
  returned: success
  type: dict
  sample:
    kubernetes-1-34-noble:
      name: ubuntu-noble-kube-v1.34.10-260810-1201
      url: https://example.org/images/ubuntu-noble-kube-v1.34.10-260810-1201.qcow2
      checksum: sha256:5f2b...
      checksum_sha512: sha512:9c1e...
      cosign-bundle-url: https://example.org/images/ubuntu-noble-kube-v1.34.10-260810-1201.cosign.bundle
      image-sbom-url: https://example.org/images/ubuntu-noble-kube-v1.34.10-260810-1201-sbom.json
      kubernetes_version: v1.34.10
images:
  description: The community image specs azimuth-ops makes of the manifest, by key.
  returned: success
  type: dict
  sample:
    kube_1_34:
      name: ubuntu-noble-kube-v1.34.10-260810-1201
      source_url: https://example.org/images/ubuntu-noble-kube-v1.34.10-260810-1201.qcow2
      checksum: sha256:5f2b...
      checksum_sha512: sha512:9c1e...
      source_disk_format: qcow2
      container_format: bare
      kubernetes_version: v1.34.10
"""
