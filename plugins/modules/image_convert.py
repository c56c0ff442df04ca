#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Documentation only: the module is the Go binary image_convert_<os>_<arch>
# beside this file, built by `make build`; plugins/action/image_convert.py runs it.
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: image_convert
short_description: Convert a disk image to another format with qemu-img
version_added: "1.0.0"
author: imageops.cloud contributors (!UNKNOWN)
description:
  - Converts the disk image I(src) into I(dest) in I(dest_format) with C(qemu-img convert),
    for example a raw image built by a pipeline into the qcow2 Glance should store.
  - The format of I(src) is the one given in I(src_format), or else the one C(qemu-img info)
    detects from the file's contents. It is never guessed from the file name.
  - I(dest) is left alone (C(changed=false)) when it already exists in I(dest_format), has the
    virtual size of I(src) and was modified no earlier than I(src). Whether an existing qcow2
    I(dest) is compressed is not checked; use I(force) to compress one again.
  - qemu-img writes a hidden temporary file in the directory of I(dest), which is flushed to
    disk and renamed to I(dest) only when complete, so I(dest) is never a partial image. On
    failure or interruption the temporary file is removed and an existing I(dest) is kept.
    A run killed outright (SIGKILL, OOM) takes its C(qemu-img) with it, and the next run for the
    same I(dest) removes the temporary file it left; a temporary file is locked while its run
    lives, so one of a run still going is never removed.
    A replaced I(dest) keeps its permissions.
  - Refuses a source that refers to other files (a backing file, an external data file,
    VMDK extents in other files), since qemu-img would copy whatever those files are into
    I(dest); and an encrypted source.
  - Before converting, checks a source in a format with structure with C(qemu-img check) (for the
    formats it supports, such as qcow2, vdi, vhdx and vmdk) and refuses a corrupt or truncated one, which
    qemu-img convert would turn into a silently corrupt I(dest) (the missing data read as zeros).
    The check runs only when I(dest) is to be written, in check mode too.
  - When the format was detected as C(raw), refuses a file that cannot be a disk image
    (empty, a size that is not a whole number of 512-byte sectors, such as a text file, or
    gzip, bzip2, xz or zstd data). Set I(src_format=raw) to convert such a file anyway.
  - Runs C(qemu-img convert) with 16 parallel coroutines (C(-m 16)) and, for raw targets and
    compressed qcow2, out-of-order writes (C(-W)).
options:
  src:
    description:
      - Absolute path of the image to convert, a regular file.
    type: path
    required: true
  dest:
    description:
      - Absolute path of the image to write. Its directory must exist.
      - Must not be the same file as I(src).
    type: path
    required: true
  dest_format:
    description:
      - Format of I(dest), by qemu-img's name.
      - C(vhd) is another name for C(vpc) (Virtual PC and Hyper-V VHD, written with a size
        exactly that of I(src)); the module returns C(vpc).
    type: str
    required: true
    choices: [raw, qcow2, qed, vdi, vhdx, vmdk, vpc, vhd]
  src_format:
    description:
      - Format of I(src). When omitted, C(qemu-img info) detects it from the contents.
      - Besides the formats of I(dest_format), qemu-img reads C(qcow) (version 1),
        C(parallels), C(dmg), C(bochs) and C(cloop). C(iso) is read as C(raw).
      - A wrong format fails with qemu-img's message before anything is written.
    type: str
    choices: [raw, qcow2, qed, vdi, vhdx, vmdk, vpc, qcow, parallels, dmg, bochs, cloop, vhd, iso]
  compress:
    description:
      - Write compressed clusters (C(qemu-img convert -c)). Only for I(dest_format=qcow2).
    type: bool
    default: false
  force:
    description:
      - Convert even when I(dest) is up to date.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Reports whether I(dest) would be written, and why in C(msg); writes nothing.
  diff_mode:
    support: full
    description: Shows the path, state, format and virtual size of I(dest) before and after.
  platform:
    support: full
    platforms: posix
    description: Linux targets, amd64 and arm64; the build for the host the module runs on (the delegated host with C(delegate_to)) is picked.
notes:
  - This is a binary module, a static Go program. Its action plugin runs the build for the
    target's operating system and CPU (found with C(uname -sm) when facts were not gathered).
  - Conversion runs on the target, which must have qemu-img.
requirements:
  - qemu-img (Debian and Ubuntu package C(qemu-utils), Fedora and RHEL package C(qemu-img))
    on the target
seealso:
  - name: qemu-img(1)
    description: The qemu-img manual, including the image formats and convert's options.
    link: https://www.qemu.org/docs/master/tools/qemu-img.html
"""

EXAMPLES = r"""
- name: Convert a raw image built by the pipeline to qcow2
  imageops.cloud.image_convert:
    src: /srv/build/debian-12.raw
    dest: /srv/images/debian-12.qcow2
    dest_format: qcow2

- name: Compressed qcow2 for distribution, recompressed even when up to date
  imageops.cloud.image_convert:
    src: /srv/build/debian-12.raw
    dest: /srv/images/debian-12-compressed.qcow2
    dest_format: qcow2
    compress: true
    force: true

- name: A VHD for Hyper-V from a qcow2 named .img
  imageops.cloud.image_convert:
    src: /srv/images/appliance.img
    src_format: qcow2
    dest: /srv/export/appliance.vhd
    dest_format: vhd
  register: converted

- name: Show the sizes
  ansible.builtin.debug:
    msg: "{{ converted.virtual_size }} bytes for the guest, {{ converted.actual_size }} on disk"
"""

RETURN = r"""
dest:
  description: Absolute path of the destination image.
  returned: success
  type: str
  sample: /srv/images/debian-12.qcow2
format:
  description: Format of I(dest), by qemu-img's name (C(vpc) when C(vhd) was asked for).
  returned: success
  type: str
  sample: qcow2
src_format:
  description: Format of I(src), as given in I(src_format) or as detected.
  returned: success
  type: str
  sample: raw
virtual_size:
  description: Size of the disk the guest sees, in bytes; the same for I(src) and I(dest).
  returned: success
  type: int
  sample: 2147483648
actual_size:
  description:
    - Space I(dest) takes on the target's disk, in bytes (allocated blocks).
    - C(0) in check mode when I(dest) would be written, since the size is known only afterwards.
  returned: success
  type: int
  sample: 498073600
msg:
  description:
    - "What was done and why: C(converted: dest does not exist), C(would convert: dest is raw,
      not qcow2) in check mode, or C(dest is up to date)."
  returned: success
  type: str
  sample: "converted: dest does not exist"
"""
