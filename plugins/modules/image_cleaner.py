#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Documentation only: the module is the Go binary image_cleaner_<os>_<arch>
# beside this file, built by `make build`; plugins/action/image_cleaner.py runs it.
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: image_cleaner
short_description: Hide, then delete, old images of a managed set in OpenStack Glance
version_added: "1.0.0"
author: imageops.cloud contributors (!UNKNOWN)
description:
  - Retires old images. Among the images that I(filters), I(name_pattern), I(owner) and I(tags)
    select, hides those older than I(hide_after_months) and deletes those older than
    I(delete_after_months).
  - It acts only on the images of one project, the one the credentials are scoped to or I(owner).
  - Age is measured from Glance's C(created_at) to I(now) in calendar months. An image is old
    enough when it was created on or before the same day and time that many months before I(now);
    when that month is shorter, its last day counts (31 March minus one month is the end of February).
  - The managed images are looked for in every visibility and among hidden (C(os_hidden)) images
    too, so an image the module hid is found again and deleted when its time comes. When it hides
    an image, the module sets its property C(imageops_hidden_by_cleaner) to the image's own ID.
  - Only published images (visibility C(public) or C(community)) and images the module hid itself
    are managed. Private and shared images that it did not hide belong to projects (admin
    credentials list every project's images, and a snapshot inherits the name and properties of
    the image it was made from); they are never hidden or deleted, whatever the filters say.
  - Never touched are the I(keep_latest) newest images of each group, the images listed in
    I(skip_images) and, with I(skip_in_use), images that a server uses. Protected images are
    hidden but never deleted.
  - A server uses an image when a server of any project, in any status, references it in Nova's
    server list (C(GET /servers/detail?all_tenants=True), every page). When that list cannot be
    read, the task fails before anything is changed. Nova is asked only when some image would change.
  - "Images that Ironic nodes boot are never hidden or deleted, whatever the policy and
    I(skip_in_use) say, when the cloud has a baremetal service (the service catalog's
    C(baremetal) endpoint, or I(baremetal_endpoint_override) for a standalone Ironic): a node
    names an image in C(driver_info) (C(deploy_kernel) and C(deploy_ramdisk), the Ironic Python
    Agent pair; C(rescue_kernel), C(rescue_ramdisk), C(kernel), C(ramdisk), C(deploy_iso),
    C(rescue_iso) and any other key ending in C(kernel), C(ramdisk) or C(_iso)) or in
    C(instance_info) (C(image_source), C(kernel), C(ramdisk), C(boot_iso), likewise). A value names
    an image as Ironic reads it, by ID or C(glance://<ID>); a URL of another scheme names none;
    other text is taken as an image name, and every image of that name is kept."
  - Such images are listed in I(skipped_images) with the nodes that name them (I(nodes)). Ironic is
    asked only when some image would change; when its node list cannot be read, the task fails
    before anything is changed. Ironic shows a project only the nodes it owns or leases, so the
    credentials must see every node (an admin's, or a system reader's). Without a baremetal
    service, Ironic is not asked.
  - One image that cannot be hidden or deleted does not stop the others; the task fails at the
    end, naming each such image and Glance's error, and still returns the report.
  - The module binary also runs without Ansible, for systemd timers,
    C(image_cleaner [--check] [--diff] ARGS_FILE) with the options in a JSON or YAML file; see
    the C(imageops.cloud.image_timers) role.
options:
  filters:
    description:
      - Fields and properties that every managed image has, a dict of name -> value compared as
        text, such as C(build-distro) -> C(ubuntu). Glance filters on them; the module checks them
        again on what Glance returns.
      - May not name C(visibility), C(os_hidden), C(owner), C(tag), C(created_at), C(updated_at)
        or paging parameters; the other options express those.
      - At least one of I(filters), I(name_pattern), I(owner), I(tags) and I(supports) must be given
        (and not empty), since the module never manages every image of a cloud.
    type: dict
  name_pattern:
    description:
      - A regular expression (Go's RE2 syntax) searched for in the image's name; anchor it with
        C(^) and C($) to match the whole name.
    type: str
  owner:
    description:
      - The project that owns the managed images, by name or ID.
      - Unset, the project the credentials are scoped to; the module never hides or deletes another
        project's images, even with admin credentials, unless this option names that project.
    type: str
  tags:
    description:
      - Tags that every managed image has (all of them).
    type: list
    elements: str
  hide_after_months:
    description:
      - Age in calendar months from which an image is hidden.
    type: int
    default: 12
  delete_after_months:
    description:
      - Age in calendar months from which an image is deleted. Must be greater than
        I(hide_after_months); otherwise the task fails before it contacts any service.
    type: int
    default: 18
  hide_method:
    description:
      - C(private) sets the image's visibility to private, as Chameleon's cleaner does; projects
        other than the owner lose access to it.
      - C(os_hidden) sets C(os_hidden=true); the image leaves Glance's default list but stays
        usable by its ID, so servers can still be rebuilt from it.
    type: str
    default: private
    choices: [private, os_hidden]
  keep_latest:
    description:
      - How many of the newest images (by C(created_at)) of each group are never touched,
        whatever their age. C(0) keeps none for being new.
      - Only images that users can boot count (active, C(public) or C(community), and not
        C(os_hidden)). A newer image that is hidden or whose upload never finished does not take
        the place of an older one that users boot.
    type: int
    default: 0
  group_by:
    description:
      - Names of the properties whose values form a group for I(keep_latest), for example
        C([build-distro, build-release, build-variant]). An absent property counts as empty.
      - When empty, all managed images form one group.
    type: list
    elements: str
  skip_in_use:
    description:
      - Whether to leave alone the images that servers use (hide and delete both).
      - Needs Nova's server list with C(all_tenants), that is an admin's credentials and a
        compute endpoint (the service catalog, or I(compute_endpoint_override)).
      - A server booted from a volume shows no image in Nova's list, so a volume made from an
        image does not keep the image; Cinder is not asked.
    type: bool
    default: true
  skip_images:
    description:
      - IDs of images that are never touched.
    type: list
    elements: str
  now:
    description:
      - The reference time for ages, RFC 3339 (C(2025-06-01T00:00:00Z)). Defaults to the current time.
    type: str
  dry_run:
    description:
      - Report what would change, and change nothing, as check mode does. Meant for runs without
        Ansible (systemd timers), where there is no C(--check) of Ansible's.
    type: bool
    default: false
  supports:
    description:
      - Chameleon's set of supported images, instead of (or besides) I(filters). A list of
        production names; the index of Chameleon's image store (production name -> version, as
        in C(<store>/chameleon-supported-images/prod/current)); the URL (C(http://), C(https://),
        C(file://)) of one of these documents, read at each run (a run that cannot read it fails
        before any change); or a C(supports.yaml) document as Chameleon's cleaner reads it
        (C(supported_distros) -> C(releases) -> C(prod_name) and C(variants); C(supported_variants)
        -> C(prod_name_suffix), appended as C(-<suffix>)); releases without variants are skipped, as
        Chameleon's cleaner skips them.
      - Managed are the images of a supported image, those with its C(build-distro),
        C(build-release) and C(build-variant) (from a C(supports.yaml)), its production name or a
        superseded name of it (C(<name>_...) as Chameleon's deployer archives,
        C(<name>-<20060102T150405Z>) as M(imageops.cloud.image_deployer) does) or its
        C(imageops_release_name). The image with the production name itself, the current
        production image, is always kept.
      - "An IPA kernel/initramfs pair (C(build-ipa) C(kernel) or C(initramfs)), as
        M(imageops.cloud.image_deployer) deploys it, belongs to the supported image C(<name>) under
        the names C(<name>.kernel) and C(<name>.initramfs) (archived C(<name>.kernel_...)): both
        current halves are kept (Chameleon's cleaner, comparing names with C(<name>) alone, does
        not keep them)."
    type: raw
extends_documentation_fragment:
  - imageops.cloud.openstack
attributes:
  check_mode:
    support: full
    description: Reads Glance, Nova and Ironic, writes nothing, and returns the same report as a real run.
  diff_mode:
    support: full
    description: For each image hidden or deleted, its name, visibility, os_hidden and deleted, before and after.
  platform:
    support: full
    platforms: posix
    description: Linux targets, amd64 and arm64; the build for the host the module runs on (the delegated host with C(delegate_to)) is picked.
notes:
  - A static Go binary; the target needs no Python libraries.
  - Requests made by a run, whatever the number of images, are the pages of two image lists
    (C(os_hidden) false and true, 1000 images a page), of the server list and of Ironic's node list, plus one request per
    image hidden or deleted. Images left alone cost no request of their own.
  - The lists are named C(skipped_images) and C(failed_images), not C(skipped) and C(failed),
    because Ansible reads a true C(skipped) or C(failed) key as the status of the task itself.
  - "Switching from Chameleon's image tools (abracadabra's cleaner): C(hide_image_age_in_month) and
    C(delete_image_age_in_month) are I(hide_after_months) and I(delete_after_months) (hide less than
    delete, as there); its C(supports.yaml) is I(supports); its site.yaml C(skip_images) is
    I(skip_images); C(--dry-run) is check mode or I(dry_run). Deliberate differences: images used by
    servers in any status are left alone (Chameleon checks ACTIVE servers only); images the module
    hid are found again and deleted at the delete age (Chameleon looks at public images only, so
    what it hid is never deleted); the age counts the time of day (Chameleon compares dates); with a
    C(supports.yaml) the names count too (C(<name>_...), C(<name>-<timestamp>) are selected without
    C(build-*) properties, Chameleon selects by those alone).
    See the C(imageops.cloud.image_cleaner) role's README."
seealso:
  - module: imageops.cloud.image_deployer
"""

EXAMPLES = r"""
- name: Retire Ubuntu images as Chameleon does (hide after 12 months, delete after 18)
  imageops.cloud.image_cleaner:
    cloud: site-admin
    filters:
      build-distro: ubuntu
    keep_latest: 1
    group_by: [build-distro, build-release, build-variant]
  register: cleaned

- name: Show what was deleted
  ansible.builtin.debug:
    msg: "{{ cleaned.deleted | map(attribute='name') | list }}"

- name: Preview, as of a date, images superseded by the image deployer
  imageops.cloud.image_cleaner:
    filters:
      imageops_superseded: "true"
    hide_method: os_hidden
    now: "2025-06-01T00:00:00Z"
  check_mode: true
  diff: true
"""

RETURN = r"""
hidden:
  description: Images hidden (or that would be, in check mode), oldest first.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Glance image ID.
      type: str
    name:
      description: Image name.
      type: str
    created_at:
      description: Glance's created_at, RFC 3339 UTC.
      type: str
    reason:
      description: Why the image is in this list.
      type: str
  sample:
    - {id: 6f1b8c3a-2a4e-4f0e-9a55-0c8a2d3d1e6f, name: CC-Ubuntu22.04-20240101, created_at: "2024-01-01T10:00:00Z",
       reason: "older than 12 months (created on or before 2025-01-02T00:00:00Z)"}
deleted:
  description: Images deleted (or that would be), the same shape as I(hidden).
  returned: always
  type: list
  elements: dict
kept:
  description: Managed images left alone by the policy (too young, newest of their group, already hidden, protected), the same shape.
  returned: always
  type: list
  elements: dict
skipped_images:
  description:
    - Images that would have changed but were left alone, listed in I(skip_images), in use by servers, or named
      by Ironic nodes (the reason names them).
  returned: always
  type: list
  elements: dict
  contains:
    nodes:
      description: For an image Ironic nodes name, each node (UUID, name) and the field that names it.
      returned: when Ironic nodes name the image
      type: list
      elements: dict
      sample:
        - {node: 4b2f4e2c-3a3d-4b57-9a0f-1d0e6f3c2a11, node_name: compute-1, field: driver_info.deploy_kernel}
failed_images:
  description: Images that could not be hidden or deleted, the reason being Glance's error.
  returned: when an image failed
  type: list
  elements: dict
dry_run:
  description: Whether nothing was written (check mode or I(dry_run)).
  returned: always
  type: bool
now:
  description: The reference time used, RFC 3339.
  returned: always
  type: str
hide_before:
  description: Images created at or before this time are old enough to hide.
  returned: always
  type: str
delete_before:
  description: Images created at or before this time are old enough to delete.
  returned: always
  type: str
diff:
  description: With C(--diff), image ID -> name, visibility, os_hidden and deleted, before and after.
  returned: when changed and diff mode is on
  type: dict
"""
