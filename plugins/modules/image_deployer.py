#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Documentation only: the module is the Go binary image_deployer_<os>_<arch>
# beside this file, built by `make build`; plugins/action/image_deployer.py runs it.
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: image_deployer
short_description: Keep a site's Glance current with a catalog of released images
version_added: "1.0.0"
author: imageops.cloud contributors (!UNKNOWN)
description:
  - Reads a catalog of released images and, for each release the site does not have yet, uploads
    it and gives it the production name, superseding the previous image.
  - It acts only on the images of one project, the one the credentials are scoped to or I(owner).
  - The released version of an image is recorded in its property C(imageops_release), its
    production name in C(imageops_release_name). When the image with the production name already
    records the catalog's version, nothing is written.
  - Otherwise the release is uploaded as M(imageops.cloud.community_image) does (checksums
    verified, decompressed and converted as needed), under the temporary private name
    C(<name>.imageops-incoming). Only once it is active is the previous image renamed
    C(<name>-<its created_at as 20060102T150405Z>) and marked with C(imageops_superseded=true),
    C(imageops_superseded_by) (the new image's ID) and C(imageops_superseded_at); then the new
    image takes the production name and I(visibility). Superseded images keep their visibility;
    M(imageops.cloud.image_cleaner) retires them.
  - A failed download or upload leaves the production image untouched and no temporary image
    behind. A run interrupted after an upload is finished by the next run without uploading again.
    One release that fails does not stop the others; the task fails at the end and names it.
  - Several runs at once (two deploy hosts, a timer and a person) leave one production image; they
    share one incoming upload (as M(imageops.cloud.community_image) runs do), look at the
    production name again before and after promoting, and when two promoted the release at once
    the oldest image is kept and the other run deletes its own. Every run reports the same ID.
  - "Catalog formats (I(catalog_format)): C(azimuth), azimuth-images' release C(manifest.json), an
    object key -> C({name, url, checksum, checksum_sha512, kubernetes_version}); the key is the
    production name and the version is the entry's C(version) if present, else its C(name)."
  - "C(chameleon), Chameleon's image store as CC-Images publishes it and hammers-v2 reads it:
    the index C(<store>/<image_container>/<scope>/current), a JSON object production name ->
    version; the image at C(<store>/<image_container>/<scope>/versions/<version>/<name>.<disk_format>)
    and its metadata at C(.../versions/<version>/<name>.manifest), a JSON object (C(build-*)
    keys) whose scalar values become image properties (its C(checksum) and C(checksum_sha512),
    when present, verify the download). Give I(object_store_url), or I(catalog_url) the index
    (then the releases are in C(versions/) beside it, or at I(chameleon_base_url))."
  - "A Chameleon release is also recorded in the property C(current), as Chameleon's deployer
    records it, so a site that deployer filled is recognised: a public image C(<name>) whose
    C(current) is the store's version is not uploaded again. A newer version is uploaded as
    C(<image_prefix><name>) (private), and once active the previous image is renamed
    C(<name>_<its build-timestamp>) and marked C(<image_metadata_field>=no) (besides the
    C(imageops_superseded*) properties), then the new one becomes C(<name>), public."
  - Only images of the production name with the production I(visibility) count, as in
    hammers-v2; a user's private image of that name neither blocks nor is replaced.
  - "Ironic Python Agent (IPA) kernel/initramfs pairs, as Chameleon builds and deploys them
    (its deployer's C(--ipa)): an entry of a Chameleon store named in I(ipa_images) is a pair,
    C(.../versions/<version>/<name>.kernel) and C(<name>.initramfs) with one C(<name>.manifest).
    It becomes two images, C(<name>.kernel) (disk format C(aki)) and C(<name>.initramfs)
    (C(ari)), container format C(bare), each with the manifest's properties and C(build-ipa) set to
    its half (C(kernel) or C(initramfs)) when it is promoted (C(na) until then), which is how
    Chameleon's C(ipa_test) and the C(imageops.cloud.ipa_test) module find the newest pair: a half
    waiting to be promoted is never taken for one. The manifest's C(kernel_checksum),
    C(kernel_checksum_sha512), C(initramfs_checksum) and C(initramfs_checksum_sha512) verify the
    halves. The data is checked to be a kernel and an initramfs and uploaded as it comes."
  - "A new pair is deployed whole: both halves are uploaded first, and only when both are active is
    either promoted; if one half fails, neither is, the task fails naming it, and the next run
    promotes what waits without uploading it again. The previous pair is archived as any
    Chameleon image (C(<name>.kernel_<build-timestamp>), C(<image_metadata_field>=no)), never
    deleted: Ironic nodes may still boot it (see M(imageops.cloud.image_cleaner), which keeps
    images that nodes reference). Nodes are not switched to the new pair; that is
    the C(imageops.cloud.ipa_test) module's I(push)."
  - "C(specs), a YAML or JSON list of M(imageops.cloud.community_image) specs; C(name) is the
    production name, and the version is the spec's C(version), else C(checksum_sha512), else
    C(checksum), else C(source_url)."
  - The module binary also runs without Ansible, for systemd timers,
    C(image_deployer [--check] [--diff] ARGS_FILE); see the C(imageops.cloud.image_timers) role.
options:
  catalog_url:
    description:
      - The catalog, an C(http://), C(https://) or C(file://) URL (or an absolute path).
      - A catalog that cannot be read or parsed fails the task before anything is written.
      - Required unless I(object_store_url) is given.
    type: str
  object_store_url:
    description:
      - "Chameleon's image store: the object store URL that holds I(image_container), such as
        C(https://chi.uc.chameleoncloud.org:7480/swift/v1/AUTH_<project>) (hammers-v2's
        C(object_store_url), chi-in-a-box's C(image_object_store_url)). The catalog is then
        C(<object_store_url>/<image_container>/<scope>/current), read as C(chameleon)."
    type: str
    aliases: [image_object_store_url]
  image_container:
    description:
      - The container of Chameleon's store.
    type: str
    default: chameleon-supported-images
  scope:
    description:
      - The scope of Chameleon's store.
    type: str
    default: prod
    aliases: [image_scope]
  image_prefix:
    description:
      - A new version is uploaded as C(<image_prefix><name>) until it is promoted (Chameleon's
        C(testing_)). Empty names it C(<name>.imageops-incoming).
    type: str
  image_metadata_field:
    description:
      - The property set to C(no) on a Chameleon image that a newer release replaced.
    type: str
    default: chameleon-supported
  catalog_format:
    description:
      - The catalog's format (see the description). C(auto) tells them apart by their shape, a
        list (specs), an object of objects (azimuth) or an object of strings (chameleon).
    type: str
    default: auto
    choices: [auto, azimuth, chameleon, specs]
  chameleon_base_url:
    description:
      - Where the releases of a Chameleon index are (the C(versions) directory). Defaults to
        C(versions) beside I(catalog_url).
    type: str
  images:
    description:
      - Production names of the releases to deploy. Defaults to every release of the catalog.
      - An IPA pair (I(ipa_images)) is named by its catalog entry (both halves) or by a half's
        production name (C(<name>.kernel)).
      - A name the catalog does not have fails the task before anything is written.
    type: list
    elements: str
  ipa_images:
    description:
      - Entries of a Chameleon store (I(object_store_url), or a C(chameleon) catalog) that are
        Ironic Python Agent kernel/initramfs pairs, such as C(CC-IPA-Debian11-AMD64); each is
        deployed as the two images C(<name>.kernel) and C(<name>.initramfs) (see the description).
      - A name the catalog does not have, or an entry of another catalog format, fails the task
        before anything is written.
    type: list
    elements: str
  visibility:
    description:
      - Visibility of the production images. Uploads stay private until they are promoted.
    type: str
    default: public
    choices: [public, community, shared, private]
  disk_format:
    description:
      - Disk format in Glance of the releases whose spec does not set one (sources in another
        format are converted with qemu-img), and the file extension of Chameleon images.
    type: str
    default: qcow2
    choices: [ami, ari, aki, vhd, vhdx, vmdk, raw, qcow2, vdi, iso, ploop]
    aliases: [image_type]
  properties:
    description:
      - Properties set on every uploaded image, a dict or a list of C(key=value) strings. A
        release's own properties win.
    type: raw
  owner:
    description:
      - The project whose images the module deploys and supersedes, by name or ID, as
        openstack.cloud.image's I(owner). Unset, the project the credentials are scoped to.
      - The module looks up, renames and supersedes only that project's images; an admin, whom
        Glance shows every project's images, never touches another project's image unless this
        option names that project.
    type: str
  workdir:
    description:
      - Directory for downloads that need converting; a private subdirectory is made there and
        removed afterwards. Defaults to the system's temporary directory.
    type: path
extends_documentation_fragment:
  - imageops.cloud.openstack
attributes:
  check_mode:
    support: full
    description: Reads the catalog and Glance, downloads nothing, writes nothing, and reports the releases that would be deployed.
  diff_mode:
    support: full
    description: Per production name, the image ID and release before and after.
  platform:
    support: full
    platforms: posix
    description: Linux targets, amd64 and arm64; the build for the host the module runs on (the delegated host with C(delegate_to)) is picked.
notes:
  - A static Go binary; the target needs no Python libraries. qemu-img is needed only when a
    release must be converted.
  - "Switching from Chameleon's image tools (hammers-v2's image_deployer): C(object_store_url),
    C(image_container), C(scope), C(image_type), C(image_prefix) and C(image_metadata_field) of its
    site.yaml are the options of those names (C(image_object_store_url), C(image_scope) and
    C(image_type) are aliases, as a chi-in-a-box site names them); C(image_store_cloud) is
    I(cloud); C(--dry-run) is check mode. Deliberate differences: the previous image is renamed only
    once the new one is active (and gets its name back if the new one cannot take it); two public
    images of one name, or a C(current) entry without its C(.manifest), fail that image instead of
    being skipped; replaced images are also marked C(imageops_superseded); a POSIX
    C(build-timestamp) is read in UTC. See the C(imageops.cloud.image_deployer) role's README."
  - Releases are deployed one after another.
seealso:
  - module: imageops.cloud.community_image
  - module: imageops.cloud.image_cleaner
"""

EXAMPLES = r"""
- name: Subscribe the site to azimuth-images releases
  imageops.cloud.image_deployer:
    cloud: site-admin
    catalog_url: https://github.com/azimuth-cloud/azimuth-images/releases/download/0.12.0/manifest.json
    images: [ubuntu-jammy, kubernetes-1-30-jammy]
    visibility: public
  register: deployed

- name: Show what is new
  ansible.builtin.debug:
    msg: "{{ deployed.deployed | map(attribute='name') | list }}"

- name: Chameleon's supported images, as hammers-v2's site.yaml configures them
  imageops.cloud.image_deployer:
    cloud: site-admin
    object_store_url: https://chi.uc.chameleoncloud.org:7480/swift/v1/AUTH_570aad8999f7499db99eae22fe9b29bb
    image_container: chameleon-supported-images
    scope: prod
    image_type: qcow2
    image_prefix: testing_

- name: Chameleon's IPA kernel/initramfs pair too (its deployer's --ipa)
  imageops.cloud.image_deployer:
    cloud: site-admin
    object_store_url: https://chi.uc.chameleoncloud.org:7480/swift/v1/AUTH_570aad8999f7499db99eae22fe9b29bb
    image_prefix: testing_
    ipa_images: [CC-IPA-Debian11-AMD64]
"""

RETURN = r"""
deployed:
  description: Releases uploaded and promoted (or that would be, in check mode).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Production name.
      type: str
    version:
      description: The release now deployed.
      type: str
    id:
      description: Glance ID of the new image (absent in check mode).
      type: str
    previous_id:
      description: Glance ID of the image it superseded, if any.
      type: str
    previous_name:
      description: The superseded image's new name.
      type: str
    previous_version:
      description: The superseded image's release, if it recorded one.
      type: str
    ipa:
      description: For a half of an IPA pair, which half, C(kernel) or C(initramfs).
      type: str
    pair:
      description: For a half of an IPA pair, the pair's catalog entry.
      type: str
  sample:
    - {name: ubuntu-jammy, version: ubuntu-jammy-240601-1200, id: 0b6f1c2e-7c31-4d0a-9a7e-2f4c1e8d5a90,
       previous_id: 6f1b8c3a-2a4e-4f0e-9a55-0c8a2d3d1e6f, previous_name: ubuntu-jammy-20240501T120000Z,
       previous_version: ubuntu-jammy-240501-1200}
current:
  description: Releases the site already had (name, version, id); nothing was written for them.
  returned: always
  type: list
  elements: dict
failed_images:
  description: Production name -> why its release could not be deployed.
  returned: when a release failed
  type: dict
diff:
  description: With C(--diff), per production name, the image ID and version before and after.
  returned: when changed and diff mode is on
  type: dict
"""
