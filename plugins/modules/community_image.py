#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Documentation only: the module is the Go binary community_image_<os>_<arch>
# beside this file, built by `make build`; plugins/action/community_image.py runs it.
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: community_image
short_description: Ensure a VM image is in OpenStack Glance exactly once, by name
version_added: "1.0.0"
author: imageops.cloud contributors (!UNKNOWN)
description:
  - Ensures that one image named I(name) exists in Glance. When there is none, downloads
    I(source_url) (http, https or file), verifies its checksums while the bytes stream,
    decompresses gzip, bzip2, xz and zstd sources, converts the disk format with qemu-img
    when it differs from I(disk_format), and uploads the result.
  - When nothing needs converting, the image streams from its source straight into Glance,
    without a temporary file. A failed upload deletes the image it created, so no C(queued)
    image is left behind.
  - A conversion overlaps the upload where the target format allows. To C(raw), the downloaded
    image is checked with qemu-img, then read as a raw disk while it streams into Glance, with
    no converted copy on disk. A qcow2 image's data clusters are read from the file where
    C(qemu-img map) places them (zeros are not read at all); an image with compressed
    clusters, or in another format, is served read-only by qemu-nbd. From C(raw) to C(qcow2), the clusters that
    are not all zeros are kept as they download and the qcow2 image (metadata first, zero
    clusters left out) streams into Glance as soon as the download ends. Other pairs are
    converted by qemu-img into I(workdir), then uploaded. The checksums are verified before
    anything is uploaded from a conversion, and before a streamed upload ends; the bytes sent
    are checked against Glance's C(os_hash_value).
  - When the image exists it is never uploaded again. Its visibility (unless
    C(update_existing_visibility=false)), properties, tags, I(min_disk), I(min_ram) and
    I(protected) are updated where they differ, and only there.
  - Every upload records its source in the properties C(imageops_source_url) and
    C(imageops_source_size) (bytes downloaded), and the hashes of the source bytes as downloaded
    that it computed, C(imageops_source_sha512) when they are uploaded as they come (that hash
    also checks them against C(os_hash_value)), and C(imageops_source_sha256) or
    C(imageops_source_sha512) when a checksum of that algorithm was given. The source of a
    conversion is hashed only for its checksums; the bytes sent are hashed once, with SHA-512.
    Glance's C(os_hash_value) is the hash of the stored bytes, which differ from the source's
    after a conversion, so checks of existing images use the recorded hashes when present.
  - Any number of runs of the same image at once, on one host or several, end with exactly one
    image of the name and hand back the same ID. A run waits for an upload of the collection that
    another run has in progress (it updates the image every I(upload_stale_after)/4 seconds while
    it sends data) and then uses that image; when two upload at once, the oldest image (by
    C(created_at), then ID) is kept and the other run deletes its own when both hold the same bytes
    (C(os_hash_value)) or were made from the same source (same I(disk_format), C(imageops_source_url),
    C(imageops_source_size) and source hashes), as conversions to vmdk, vhdx or vdi write random
    identifiers, so their bytes differ from run to run. An unfinished image of the
    collection (C(queued), C(saving), or active without C(imageops_source_size), never verified)
    that shows no progress for I(upload_stale_after) is the leftover of a run that died or of a
    Glance restarted mid-upload; the next run deletes it (with a warning) and uploads again.
  - Glance calls are retried (see I(api_retries)); a failed upload is retried into a new image,
    from the converted file or from the source URL downloaded again.
  - A run killed during a conversion takes its C(qemu-img) with it; the next run removes the
    working directories of killed runs from I(workdir) (never those of a run still going, as each
    is locked while its run lives) and says so in a warning.
  - Names that Glance reads as filters (C(in:...), or any C(word:...)) are matched exactly. Names
    Glance refuses (more than 255 characters, characters of 4 bytes in UTF-8 such as emoji) fail
    before anything is downloaded.
  - When several images of the name, not uploaded by this collection, hold the same data, the newest
    is managed and returned (the one Glance lists first, which azimuth-ops hands back), so IDs stay when
    a site switches.
  - The options are the keys of azimuth-ops' C(community_images) specs, so those specs can be
    passed as they are.
  - The image is looked up among the images of one project, the one the credentials are scoped to
    or I(owner). An image of another project is never changed. When that project has no image of the
    name, a C(public) or C(community) image of another project is used as it is, read only, when its
    data is verified against the checksum; Glance's C(os_hash_value) against I(checksum_sha512)
    (Glance hashes the stored data with sha512), or the provenance properties
    C(imageops_source_sha256)/C(imageops_source_sha512) against I(checksum) (written by that image's
    owner, so trusted as its word). Otherwise the run uploads its own.
options:
  name:
    description:
      - Name of the image in Glance. Images are matched by name among those the user can see
        (own, public and accepted shared images).
    type: str
    required: true
  state:
    description:
      - C(present) ensures the image exists; C(absent) deletes every image with that name.
    type: str
    default: present
    choices: [present, absent]
  source_url:
    description:
      - Where to download the image from, an C(http://), C(https://) or C(file://) URL.
      - Required when C(state=present).
      - Credentials in the URL are never shown in results, C(invocation), errors, diffs or the image's
        C(imageops_source_url) property - the user information (C(user:password@), any characters,
        an unescaped C(/) or C(@) in the password included; everything up to the last C(@) before the
        query is taken as user information, so an C(@) in the path must be written C(%40)) and the values
        of query parameters whose name contains C(sig), C(token), C(key), C(pass), C(secret), C(auth)
        or C(credential) in any case (C(X-Amz-Signature), C(X-Amz-Credential), C(X-Amz-Security-Token),
        C(access_token), C(apikey), C(temp_url_sig), ...).
      - A C(file://) URL is read with the privileges of the module (of the user Ansible becomes on the
        target, often root); anything that user can read can be uploaded. Its data is checked as any
        other source's (see I(source_disk_format)), but give only paths you mean to publish.
      - When a local source has a build record of M(imageops.cloud.image_build) beside it (for C(/out/x.qcow2),
        C(/out/x.build.json)) that lists its file, the record's key facts become C(build_*) properties
        (C(build_tool), C(build_tool_version), C(build_spec_sha256), C(build_name), C(build_distribution),
        C(build_release), C(build_mirror), C(build_kernel), C(build_source_date_epoch), C(build_packages),
        C(build_packages_sha256), C(build_cloud_init)); a property given in I(properties) keeps its value.
        The record's SHA-256 and SHA-512 are checked against the data as it is read (a I(checksum) of the same
        algorithm must agree with them), so the facts never land on an image the record does not describe.
        A record that does not list the file gives a warning and no C(build_*) properties.
    type: str
    aliases: [url]
  source_disk_format:
    description:
      - Disk format of the source, after decompression.
      - When omitted it is detected from the data's first bytes (qcow2, vmdk, vhdx, vdi, iso,
        else raw); it is never guessed from the file name. When given, it is checked against
        the data where the format has a signature.
      - C(aki) and C(ari) (kernels and ramdisks) are uploaded as they come, never converted or
        decompressed by C(decompress=auto). C(iso) images are uploaded as they come too, with
        disk format C(iso), whatever I(disk_format) says.
      - A kernel (C(aki)) must look like one by its first bytes (an x86 bzImage, ELF, an arm64 or riscv
        Image, an EFI/PE file or a U-Boot image) and a ramdisk (C(ari)) like one (a cpio archive, an
        ext2/3/4 file system or a U-Boot image); either may be compressed (gzip, bzip2, xz, zstd, lzma,
        lzop, lz4). Anything else, such as a text file, is refused.
      - Every source in a format with structure (qcow2, vmdk, vhdx, vhd, vdi, ploop) is written to
        I(workdir) and checked with C(qemu-img info) (as that format, never probed) and, for the
        formats it supports, C(qemu-img check) before anything is uploaded, converted or not; an
        image that names a backing file or keeps data in other files (a qcow2 external data file,
        VMDK extents), an encrypted one, a corrupt or truncated one, or one larger than
        I(max_virtual_size) is refused, and nothing is left in Glance or I(workdir).
      - Data in a format with structure declared as another one (a qcow2 given as C(raw)) is refused,
        and so is a disk whose content, converted to C(raw), is itself such an image (a qcow2 inside a qcow2),
        and so is a disk image in a format Glance has no disk format for (qed, LUKS, parallels, bochs),
        which would otherwise be uploaded as raw data.
        Errors never quote the source's content.
    type: str
    choices: [ami, ari, aki, vhd, vhdx, vmdk, raw, qcow2, vdi, iso, ploop]
  disk_format:
    description:
      - Disk format of the image in Glance. The source is converted with qemu-img when its format differs.
      - C(aki) or C(ari) without I(source_disk_format) means the source is that kernel or ramdisk,
        uploaded as it comes.
    type: str
    default: qcow2
    choices: [ami, ari, aki, vhd, vhdx, vmdk, raw, qcow2, vdi, iso, ploop]
  container_format:
    description:
      - Glance's container format of the image.
    type: str
    default: bare
    choices: [ami, ari, aki, bare, ovf, ova, docker, compressed]
  checksum:
    description:
      - Expected checksum of the source as downloaded, in any form C(ansible.builtin.get_url) takes
        C(<algorithm>:<hex>) with algorithm C(md5), C(sha1), C(sha224), C(sha256), C(sha384) or C(sha512),
        or C(<algorithm>:<URL of a checksum file>) (http, https or file; a C(SHA256SUMS)-style file, or
        BSD-style C(SHA256 (name) = hex) lines, read before the download; the entry is found by the source
        URL's file name).
      - Bare hex is read by its length for the SHA-2 algorithms; C(md5) and C(sha1) must be named, and
        warn, since they catch a broken download, not a deliberate change.
      - The download fails on a mismatch and nothing is uploaded.
    type: str
  checksum_sha512:
    description:
      - Expected SHA-512 of the source as downloaded, C(sha512:<hex>), bare hex, or
        C(sha512:<URL of a checksum file>).
      - Verified during the download and, for an existing image, compared with the recorded source
        hash (or Glance's C(os_hash_value)); the task fails, saying what to do, when they differ.
    type: str
  visibility:
    description:
      - Visibility of the image.
      - C(public) and C(community) may need Glance's C(publicize_image) / C(communitize_image) policy.
    type: str
    default: community
    choices: [public, community, shared, private]
  update_existing_visibility:
    description:
      - Whether to change the visibility of an image that already exists.
    type: bool
    default: true
  properties:
    description:
      - Extra properties, as a dict or as a list of C(key=value) strings (azimuth-ops' form).
      - Only the given keys are managed; other properties of the image are left alone.
    type: raw
  kubernetes_version:
    description:
      - Sets the property C(kube_version), which the OpenStack Magnum Cluster API Helm driver reads.
        azimuth-ops' released role does not set it (only its unmerged branch C(additional-image-properties)
        does); it is kept because it describes the image truly.
    type: str
  tags:
    description:
      - Tags the image must have. Missing ones are added; other tags are left alone.
    type: list
    elements: str
  min_disk:
    description:
      - Minimum disk size in GB needed to boot the image. Left alone when omitted.
    type: int
  min_ram:
    description:
      - Minimum RAM in MB needed to boot the image. Left alone when omitted.
    type: int
  protected:
    description:
      - Whether the image is protected from deletion. Set after a successful upload. Left alone when omitted.
    type: bool
  workdir:
    description:
      - Directory for the download of a source in a format with structure (checked there before its
        upload) and for conversions. A private subdirectory is made in it and removed afterwards; it
        needs room for the source and, when converting, the converted image (at most about twice
        I(max_virtual_size)). Raw sources that need no conversion are streamed to Glance without it.
        Defaults to the system's temporary directory.
    type: path
  decompress:
    description:
      - C(auto) decompresses gzip, bzip2, xz and zstd sources, recognised by their magic bytes, except
        kernels and ramdisks (I(source_disk_format) C(aki) or C(ari)).
      - C(true) always decompresses and fails on data with no known compression; C(false) never does.
    type: raw
    default: auto
  import_method:
    description:
      - How the image data reaches Glance.
      - C(upload) (the default) downloads the source here and sends it with C(PUT /v2/images/{id}/file),
        decompressing, checking and converting it as needed.
      - C(web-download) uses Glance's interoperable image import; Glance downloads I(source_url) itself,
        so no image byte passes through the machine running the module beyond the first bytes read to
        check the source (unless the checksums need it, see below). It applies only where the source
        needs no decompression and no conversion (its format is I(disk_format)), is raw, iso, a kernel or ramdisk, or a qcow2 that names no
        backing or data file, has an http or https I(source_url) without credentials, and Glance can
        reach the URL (its C([import_filtering_opts]) allow it). Otherwise the task fails before anything
        is written, saying why.
      - C(glance-direct) stages the data in Glance (C(PUT /v2/images/{id}/stage)), then imports it; the
        same conditions on the source apply, except that the URL may be any I(source_url).
      - An imported image is verified once active. With I(checksum_sha512) (or a sha512 I(checksum)
        given as digits), Glance's C(os_hash_value) (sha512, Glance's own hash of the stored data) is
        compared with it. Glance computes no other hash, so with C(web-download) and only another
        I(checksum) (sha256, md5, ..., or a checksum file) the module also reads the source itself, while
        Glance downloads it, and verifies the checksum on those bytes and their sha512 against Glance's
        C(os_hash_value), and records C(imageops_source_sha256). The image's bytes then pass through
        this machine once (downloaded, never uploaded); give I(checksum_sha512) to avoid that. Without
        any checksum nothing is verified. C(glance-direct) verifies every checksum while the data streams.
      - An import whose Glance task fails leaves no image behind, and its error is the task's message.
    type: str
    default: upload
    choices: [upload, web-download, glance-direct]
  import_timeout:
    description:
      - How long, in seconds, to wait for an import (I(import_method) C(web-download) or C(glance-direct))
        to end once it is started (after the staging, for C(glance-direct)), as openstack.cloud.image's
        I(timeout) and openstacksdk's C(create_image) bound their wait.
      - An import still running then fails the task, and its image is deleted; Glance's task may go on
        downloading, but no image is left. A task Glance cannot run (it stays C(processing)) ends this way too.
      - Not used by C(upload), whose progress is watched as its data is sent.
    type: int
    default: 3600
  owner:
    description:
      - The project whose image this is, by name or ID, as openstack.cloud.image's I(owner).
      - Unset, the project the credentials are scoped to (the token's project). The image is looked up
        among that project's own images only; an admin, whom Glance shows every project's images, never
        finds nor changes another project's image unless this option names that project.
      - Naming another project needs Keystone's admin (or reader) role to find it, and Glance's admin
        role to create images for it.
    type: str
  max_virtual_size:
    description:
      - The largest virtual size (the disk size a server sees) a source may have, in bytes or with a unit
        as Ansible's C(bytes) type reads it, in powers of 1024 (C(64G) is 64 GiB, C(512M), C(2T)).
      - A source in a format with structure (qcow2, vmdk, vhdx, vhd, vdi, ploop) that claims more is refused
        before it is uploaded or converted; a raw source (raw, iso, ami, kernels, ramdisks), whose virtual size
        is its size, is cut off and refused once it passes this size. Decompression stops at the same bound
        (plus 1/8 for the metadata of formats with structure), so a decompression bomb fails without filling I(workdir).
      - The default fits every published cloud image (2 to 40 GiB) and bounds what one image can make a run
        write to I(workdir) and send to Glance.
    type: bytes
    default: 64G
  insecure_skip_glance_verify:
    description:
      - Use an existing image without checking its data against I(checksum) and I(checksum_sha512)
        (azimuth-ops' C(community_images_insecure_skip_glance_verify)). Insecure.
      - Needed to adopt an image another tool uploaded after converting it (azimuth-ops converts with
        qemu-img when the disk format differs); it has none of this collection's provenance properties, and
        Glance's C(os_hash_value) is the hash of the converted bytes, so no checksum of the source can match.
        Without it, such an image fails the task with a message saying so.
      - Also leaves out other projects' community images (see I(use_existing_trusted_community_images)).
    type: bool
    default: false
  use_existing_trusted_community_images:
    description:
      - When Glance's default list (own, public and accepted shared images) has no image of I(name), use a
        community image of that name from another project, once verified against the checksums
        (azimuth-ops' C(community_images_use_existing_trusted_community_images)).
      - C(false) uploads an image of the project's own instead (its own community images are still found).
    type: bool
    default: true
extends_documentation_fragment:
  - imageops.cloud.openstack
attributes:
  check_mode:
    support: full
    description: Reads Glance, writes nothing, and reports what would change.
  diff_mode:
    support: full
    description: Shows the fields that change, or the planned image for an upload.
  platform:
    support: full
    platforms: posix
    description: Linux targets, amd64 and arm64; the build for the host the module runs on (the delegated host with C(delegate_to)) is picked.
notes:
  - A static Go binary; the target needs no Python libraries. qemu-img is needed on the target
    only when a conversion is needed.
  - Check mode does not download, so it cannot detect the source's format or verify its checksum.
seealso:
  - module: imageops.cloud.image_convert
"""

EXAMPLES = r"""
- name: Upload Debian 12 as a community image, converted to raw for Ceph
  imageops.cloud.community_image:
    cloud: prod
    name: debian-12-genericcloud-amd64-20240901
    source_url: https://cloud.debian.org/images/cloud/bookworm/20240901-1857/debian-12-genericcloud-amd64-20240901-1857.qcow2
    checksum: sha512:1f6a...e3c
    disk_format: raw
    properties:
      os_distro: debian
      os_version: "12"
      hw_architecture: x86_64
    tags: [debian]
  register: debian

- name: Use the image ID
  ansible.builtin.debug:
    msg: "{{ debian.id }}"

- name: An azimuth-ops spec, as it is
  imageops.cloud.community_image:
    name: ubuntu-jammy-kube-v1.30.3-240830-1234
    source_url: https://example.org/images/ubuntu-jammy-kube-v1.30.3.qcow2
    checksum: sha256:4a5b...
    checksum_sha512: sha512:9c0d...
    source_disk_format: qcow2
    container_format: bare
    kubernetes_version: v1.30.3
    properties:
      - hw_architecture=x86_64

- name: A kernel and ramdisk on a Glance without Keystone
  imageops.cloud.community_image:
    auth_type: none
    image_endpoint_override: http://127.0.0.1:9292
    name: "{{ item.name }}"
    source_url: "{{ item.url }}"
    source_disk_format: "{{ item.format }}"
    disk_format: "{{ item.format }}"
    container_format: "{{ item.format }}"
    visibility: public
  loop:
    - {name: debian-installer-vmlinuz, url: "file:///srv/netboot/linux", format: aki}
    - {name: debian-installer-initrd, url: "file:///srv/netboot/initrd.gz", format: ari}

- name: Remove every image with this name
  imageops.cloud.community_image:
    name: old-image
    state: absent
"""

RETURN = r"""
id:
  description: The Glance ID of the image. Absent after C(state=absent), and in check mode for an image not yet uploaded.
  returned: when the image exists
  type: str
  sample: 6f1b8c3a-2a4e-4f0e-9a55-0c8a2d3d1e6f
image:
  description:
    - The image as Glance's API shows it, core fields and extra properties side by side.
  returned: when the image exists
  type: dict
  sample:
    id: 6f1b8c3a-2a4e-4f0e-9a55-0c8a2d3d1e6f
    name: debian-12
    status: active
    disk_format: qcow2
    container_format: bare
    visibility: community
    size: 25165824
    os_hash_algo: sha512
    os_hash_value: 2d6b...
    imageops_source_url: https://example.org/debian-12.qcow2
    tags: [debian]
uploaded:
  description: Whether image data was uploaded (in check mode, whether it would be).
  returned: always
  type: bool
  sample: true
converted:
  description: Whether the source was converted to I(disk_format) on its way to Glance.
  returned: always
  type: bool
  sample: false
timings:
  description:
    - Where the time of the upload went, in seconds. Stages that run at the same time (a source
      downloaded while it is uploaded, a conversion to C(raw) read while it is uploaded) count in
      each, so they can add up to more than the task took.
  returned: when image data was uploaded, not in check mode
  type: dict
  contains:
    download:
      description: From the request for the source to its last byte, its checksums computed on the way.
      type: float
    verify:
      description: The checks of the downloaded image with qemu-img before it is converted.
      type: float
    convert:
      description: The conversion; for C(raw) targets it runs during the upload.
      type: float
    upload:
      description: From the first byte sent to Glance to the last.
      type: float
    read_back:
      description: From the last byte sent to the image read back, active, with the bytes sent (C(os_hash_value)) and its source recorded.
      type: float
  sample: {download: 0.61, verify: 0.09, convert: 3.84, upload: 3.84, read_back: 0.12}
diff:
  description: With C(--diff), the fields that changed (or, for a new image, the planned image).
  returned: when changed and diff mode is on
  type: dict
  sample:
    before: {visibility: private}
    after: {visibility: community}
"""
