#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Documentation only: the module is the Go binary community_image_batch_<os>_<arch>
# beside this file, built by `make build`; plugins/action/community_image_batch.py runs it.
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: community_image_batch
short_description: Ensure a whole dict of VM images in OpenStack Glance, several at once
version_added: "1.0.0"
author: imageops.cloud contributors (!UNKNOWN)
description:
  - Does for every entry of I(images) what M(imageops.cloud.community_image) does for one image,
    with up to I(jobs) images downloaded, converted and uploaded at the same time, in one process.
  - Every spec is validated before anything is downloaded; a bad spec fails the task with the
    key of the spec and Ansible's own message.
  - One image that fails does not stop the others; the task fails at the end, naming each failed
    key and its reason, and still returns the IDs of the images that succeeded.
  - This is the module behind the C(imageops.cloud.community_images) role.
  - Every image is looked up among the images of one project (the credentials' or I(owner)'s)
    and another project's image is never changed, as M(imageops.cloud.community_image) does.
options:
  images:
    description:
      - The images, key -> spec. A spec takes the options of M(imageops.cloud.community_image)
        except the connection options, which are given once for all here.
      - The key names the image in the returned I(image_ids).
    type: dict
    required: true
  properties:
    description:
      - Properties set on every image, a dict or a list of C(key=value) strings, with a spec's own
        properties. For a key both set, these win, as in azimuth-ops' role (which passes
        C(community_images_custom_properties) after a spec's properties, and the last one wins).
    type: raw
  disk_format:
    description:
      - Disk format in Glance for the specs that do not set their own.
    type: str
    choices: [ami, ari, aki, vhd, vhdx, vmdk, raw, qcow2, vdi, iso, ploop]
  visibility:
    description:
      - Visibility for the specs that do not set their own.
    type: str
    choices: [public, community, shared, private]
  update_existing_visibility:
    description:
      - Whether to change the visibility of existing images, for the specs that do not say.
      - As in azimuth-ops' role, an image whose visibility is not to be changed (C(false)) is also
        created without one, so a new image gets Glance's default visibility (C(shared)).
    type: bool
  workdir:
    description:
      - Working directory for the specs that do not set their own.
    type: path
  owner:
    description:
      - The project (name or ID) whose images these are; unset, the project the credentials are
        scoped to. As I(owner) of M(imageops.cloud.community_image), for every image.
    type: str
  max_virtual_size:
    description:
      - I(max_virtual_size) for the specs that do not set their own (see M(imageops.cloud.community_image));
        when omitted, each spec's default, C(64G).
    type: bytes
  insecure_skip_glance_verify:
    description:
      - I(insecure_skip_glance_verify) for the specs that do not set their own (see M(imageops.cloud.community_image)).
    type: bool
  use_existing_trusted_community_images:
    description:
      - I(use_existing_trusted_community_images) for the specs that do not set their own
        (see M(imageops.cloud.community_image)).
    type: bool
  share_projects:
    description:
      - Projects every image of visibility C(shared) is shared with, each accepting it with its own
        credentials, as azimuth-ops' C(community_images_share_projects) does (C(openstack image add project),
        then C(openstack image set --accept) with the project's C(OS_CLOUD)).
      - Only what is missing is done; a rejected membership is accepted again.
      - Images of another visibility are left alone (Glance takes members only on shared images).
    type: list
    elements: dict
    suboptions:
      id:
        description: The project's ID.
        type: str
        required: true
      key:
        description: The clouds.yaml entry of a user of that project, whose credentials accept the image.
        type: str
        required: true
  jobs:
    description:
      - How many images are processed at once. Specs with the same I(name) run one after the other.
    type: int
    default: 4
extends_documentation_fragment:
  - imageops.cloud.openstack
attributes:
  check_mode:
    support: full
    description: Reads Glance, writes nothing, and reports what would change.
  diff_mode:
    support: full
    description: The diff of each image, under its key.
  platform:
    support: full
    platforms: posix
    description: Linux targets, amd64 and arm64; the build for the host the module runs on (the delegated host with C(delegate_to)) is picked.
notes:
  - A static Go binary; the target needs no Python libraries. qemu-img is needed on the target
    only when an image needs converting.
seealso:
  - module: imageops.cloud.community_image
"""

EXAMPLES = r"""
- name: Ensure the site's images
  imageops.cloud.community_image_batch:
    cloud: prod
    jobs: 4
    visibility: community
    properties:
      - site=prod
    images:
      debian_12:
        name: debian-12-genericcloud-amd64-20240901
        source_url: https://cloud.debian.org/images/cloud/bookworm/20240901-1857/debian-12-genericcloud-amd64-20240901-1857.qcow2
        checksum: sha512:1f6a...e3c
      ubuntu_jammy:
        name: ubuntu-jammy-20240901
        source_url: https://cloud-images.ubuntu.com/jammy/20240901/jammy-server-cloudimg-amd64.img
        disk_format: raw
  register: site_images

- name: Use an ID
  ansible.builtin.debug:
    msg: "{{ site_images.image_ids.debian_12 }}"
"""

RETURN = r"""
image_ids:
  description: Key -> Glance image ID, for every image that exists (also on failure, for those that succeeded).
  returned: always
  type: dict
  sample: {debian_12: 6f1b8c3a-2a4e-4f0e-9a55-0c8a2d3d1e6f}
images:
  description: >-
    Key -> the result of M(imageops.cloud.community_image) for that image (id, image, uploaded,
    converted, changed, and timings when it was uploaded).
  returned: always
  type: dict
failed_images:
  description: Key -> error message, for each image that failed.
  returned: when an image failed
  type: dict
  sample: {ubuntu_jammy: "downloading \"ubuntu-jammy-20240901\": ... sha512 checksum mismatch ..."}
shared:
  description: Key -> the projects (I(share_projects) IDs) its image, of visibility C(shared), is shared with and accepted by.
  returned: when share_projects is given
  type: dict
  sample: {kube_1_34: [4f2c9b0e8d1a4c7b9e3f6a5d2c1b0a99]}
diff:
  description: With C(--diff), each changed image's diff under its key.
  returned: when changed and diff mode is on
  type: dict
"""
