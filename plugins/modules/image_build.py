#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Documentation only: the module is the multi-call Go binary beside this file,
# built by `make build`; plugins/action/image_build.py runs it.
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: image_build
short_description: Build a bootable cloud image from a declarative spec, without a VM, loop device or mount
version_added: "1.0.0"
author: imageops.cloud contributors (!UNKNOWN)
description:
  - Builds a Debian disk image that boots under UEFI and legacy BIOS and runs cloud-init at first
    boot, and an ISO that boots the same system from a squashfs, from a spec whose names follow
    kubernetes-sigs image-builder.
  - The root filesystem is made in a folder by C(mmdebstrap), with a kernel, an initramfs,
    systemd, udev, cloud-init, ifupdown, live-boot and I(packages). The EFI system partition (256 MiB) is
    made by C(mkfs.vfat) and mtools and holds systemd-boot at the removable path
    C(EFI/BOOT/BOOTX64.EFI), a loader entry, the kernel and the initramfs. The root ext4
    filesystem is made by C(mke2fs -d) from the folder. Both go into a GPT written by C(sfdisk)
    into a sparse file, which C(qemu-img convert) turns into each of I(formats). No VM, loop
    device or mount is used.
  - For legacy BIOS, GRUB's C(core.img) (C(grub-mkimage), with a configuration that finds the root
    by UUID and boots the kernel) is written into a 1 MiB BIOS boot partition and GRUB's C(boot.img)
    into the protective MBR's boot code, pointed at it, as C(grub-install) would on a device.
  - C(iso) in I(formats) makes an ISO that boots the same root under UEFI as airship's ephemeral
    ISO does, read only with a tmpfs overlay. It holds the root as C(/live/filesystem.squashfs)
    (C(mksquashfs)) and an El Torito EFI boot image (a vfat made with mtools) holding
    systemd-boot, the kernel and the initramfs, with C(boot=live) and I(kernel_cmdline) on the
    command line (C(xorriso)). Debian's C(live-boot) is in every image (its initramfs scripts act
    only with C(boot=live)), so that the disk and the ISO are the same system.
  - Reproducible. The same spec, the same mirror state and the same I(source_date_epoch) give the
    same bytes in every output (tested by building twice and comparing SHA-256s). Identifiers are
    derived from I(name) (disk and partition GUIDs, the root filesystem's UUID and hash seed, the
    vfat serials); files newer than the epoch are stamped with it; C(mke2fs -d) copies each file's
    change time, which cannot be set in a folder, so C(debugfs) sets the access and change times of
    every inode to the epoch afterwards; C(mkfs.vfat) runs with C(--invariant) and the vfat images
    are copied from a folder stamped with the epoch (mtools stamps directories it makes with the
    clock); apt's lists and caches, the build's logs and ldconfig's cache are removed;
    C(/etc/machine-id) is left empty (made at first boot) and SSH host keys are removed;
    mmdebstrap, the initramfs, C(mksquashfs) and C(xorriso) take C(SOURCE_DATE_EPOCH). The same
    bytes need the same host tools (their versions are in the record) and the same mirror snapshot.
  - "Beside the images, a build record C(<name>.build.json) holds every build variable with its
    final value and where it came from (C(default), C(task) or a var file's path), the var
    files, the mirror, the packages and versions installed, the kernel, the tool and host tools'
    versions, the time each stage took, and each output's path, size, SHA-256 and SHA-512."
  - Idempotent. When the record beside the outputs matches the spec (the same variables and
    recipe version) and each output has its recorded size, nothing is built (C(changed=false)).
    I(force) builds again.
  - The image is made in a hidden working directory in I(output_dir), locked while the build
    lives; the outputs are moved into place at the end, after the old record is removed, and
    the record is written last. An interrupted build leaves no record that matches, so the
    next run builds again; the next build removes the working directory a killed build left.
  - A bad spec fails before anything is downloaded, for unknown variables (in the task or in a
    var file, with the file and line), a var file that is not YAML or JSON (with the file and
    line), values of the wrong type, an unknown distribution or release, a mirror or proxy that
    is not an http(s) URL, a size too small for the base system (about 800 MiB in the root, so
    at least 1347 MiB; the error says how much is needed), a custom role that is not found, an extra
    repository file that is missing or not named C(*.list)/C(*.sources), I(extra_debs) with
    I(disable_public_repos) and no I(extra_repos), an image reference without a tag, or
    executables without a destination. A size too small for what I(packages) and the options
    add fails after the bootstrap, saying how much is needed.
  - "The build follows kubernetes-sigs image-builder's node playbook in mmdebstrap's customize hooks
    (with C(/dev), C(/proc) and C(/sys) mounted by mmdebstrap in the image's root and services kept
    from starting): I(node_custom_roles_pre); the repositories (I(disable_public_repos),
    I(extra_repos)), C(apt-get dist-upgrade) and I(extra_debs); the additional components;
    I(node_custom_roles_post); the sysprep (I(remove_extra_repos), I(reenable_public_repos)); then
    I(node_custom_roles_post_sysprep).
    Container images and executables are downloaded first, before the bootstrap."
  - Progress, each stage and its elapsed time (and the steps inside the bootstrap, mmdebstrap's
    own and the hooks above), is written on the module's standard error (the terminal, when the
    module is run by hand) and in C(<output_dir>/<name>.build.log), which each build replaces and
    which can be followed (C(tail -f)) while Ansible waits for the module; a failed build's log
    ends with its error.
options:
  distribution:
    description:
      - Distribution to build. Default C(debian).
    type: str
  release:
    description:
      - Release of I(distribution) (C(bullseye), C(bookworm), C(trixie)). Default C(bookworm).
    type: str
  mirror:
    description:
      - URL of the apt archive the packages come from. Default C(http://deb.debian.org/debian).
    type: str
  packages:
    description:
      - Packages installed besides the base set (C(linux-image-amd64), C(initramfs-tools),
        C(systemd-sysv), C(udev), C(cloud-init), C(ifupdown), C(systemd-boot-efi), C(live-boot)), by name,
        optionally C(name=version).
    type: list
    elements: str
  kernel_cmdline:
    description:
      - Kernel command line after C(root=UUID=<root> rw). Default C(console=tty0 console=ttyS0,115200).
    type: str
  size:
    description:
      - Virtual size of the disk, in bytes or with a unit (C(4G), C(2048M), powers of 1024).
        At least C(1347M) (the base system); more with I(packages). Default C(4G).
    type: bytes
  filesystem:
    description:
      - Root filesystem type. Default C(ext4).
    type: str
    choices: [ext4]
  formats:
    description:
      - Image formats to write, each as C(<output_dir>/<name>.<format>). Default C([qcow2]).
      - C(qcow2), C(raw) (the GPT disk, which boots under UEFI and legacy BIOS) and C(iso) (a live
        ISO that boots the same root under UEFI from a squashfs, read only with a tmpfs overlay).
    type: list
    elements: str
  name:
    description:
      - Name of the image; it names the outputs and the record. Letters, digits and C(. _ + -).
      - Required, in the task or in a var file.
    type: str
  output_dir:
    description:
      - Absolute path of the directory the images and their record are written to; made when
        missing. Required, in the task or in a var file.
    type: path
  source_date_epoch:
    description:
      - Time stamped on the files of the image, in seconds since 1970. Default the
        C(SOURCE_DATE_EPOCH) environment variable of the module, else the build's start.
    type: int
  http_proxy:
    description:
      - Proxy for the build's HTTP downloads, as image-builder's C(http_proxy), set in the environment of
        C(mmdebstrap) and apt (also apt inside the image, for I(extra_repos) and I(extra_debs)) and
        of the custom roles (C(http_proxy) and C(HTTP_PROXY)), and used for the additional
        components' downloads. Nothing of it is left in the image; a password in it is kept out of
        the build record and the results.
      - When none of I(http_proxy), I(https_proxy) and I(no_proxy) is given, the module's
        environment's proxies apply.
    type: str
  https_proxy:
    description:
      - Proxy for the build's HTTPS downloads (C(https_proxy)), used as I(http_proxy).
    type: str
  no_proxy:
    description:
      - Hosts reached without a proxy (C(no_proxy)), a comma-separated list of host names (with
        their subdomains), IP addresses or CIDR blocks, optionally with C(:port), or C(*).
    type: str
  extra_debs:
    description:
      - Packages installed after the apt repositories are set up, as kubernetes-sigs image-builder's
        C(extra_debs) (its setup role), with C(apt-get update), C(apt-get dist-upgrade), then
        C(apt-get install) of these in the image's chroot. A list, or image-builder's
        space-separated string.
    type: list
    elements: str
  extra_repos:
    description:
      - Files of apt sources, absolute paths of C(*.list) (one-line) or C(*.sources) (deb822)
        files, copied into C(/etc/apt/sources.list.d) under their own names before I(extra_debs)
        are installed, as image-builder's C(extra_repos). A list, or image-builder's
        space-separated string. A repository without a signature needs C([trusted=yes]); a
        signed one needs its key in the image (C(signed-by) or a I(node_custom_roles_pre) role).
    type: list
    elements: path
  disable_public_repos:
    description:
      - Rename every C(*.list) and C(*.sources) file of C(/etc/apt) and
        C(/etc/apt/sources.list.d) (the sources of I(mirror)) to C(<file>.disabled) before the
        extra repositories are installed, so that I(extra_debs) and the upgrade come from
        I(extra_repos) only. Default C(false).
    type: bool
  reenable_public_repos:
    description:
      - With I(disable_public_repos), rename the disabled files back at the end of the build (as
        image-builder's sysprep role; it enables C(*.list.disabled) only, this module also the
        C(*.sources.disabled) it disabled). Default C(true).
    type: bool
  remove_extra_repos:
    description:
      - Remove the files of I(extra_repos) from the image at the end of the build. Default C(false).
    type: bool
  node_custom_roles_pre:
    description:
      - Ansible roles run against the image's root folder first, before the repositories and
        I(extra_debs), as image-builder's node playbook runs them (after the packages of the
        bootstrap, which stand for image-builder's base image).
      - Each is a role name found in C(ANSIBLE_ROLES_PATH) of the module's environment (else
        Ansible's default roles paths), a collection's C(namespace.collection.role), or the
        absolute path of a role directory; one that is not found fails before anything is
        downloaded.
      - They run with C(ansible-playbook) and the C(community.general.chroot) connection (Debian's
        package C(ansible)), with facts gathered and the proxies in the environment, as
        image-builder's C(node_environment). A list, or image-builder's space-separated string.
    type: list
    elements: str
  node_custom_roles_post:
    description:
      - Ansible roles run against the image's root folder after I(extra_debs) and the additional
        components, before the image is sealed (the repositories' clean-up), as image-builder's
        C(node_custom_roles_post); found and run as I(node_custom_roles_pre).
    type: list
    elements: str
  node_custom_roles_post_sysprep:
    description:
      - Ansible roles run last, after the image is sealed (the repositories' clean-up), as
        image-builder's C(node_custom_roles_post_sysprep); found and run as I(node_custom_roles_pre).
    type: list
    elements: str
  custom_role_names:
    description:
      - Image-builder's older name of I(node_custom_roles_post), still accepted there; as in its
        node playbook, those of these roles that are not also in I(node_custom_roles_pre) or
        I(node_custom_roles_post_sysprep) run just before I(node_custom_roles_post).
    type: list
    elements: str
  load_additional_components:
    description:
      - Image-builder's switch for the additional components; without it, none of
        I(additional_registry_images_list), I(additional_url_images_list) and
        I(additional_executables_list) is loaded (the module warns). Default C(false).
    type: bool
  additional_registry_images:
    description:
      - Load I(additional_registry_images_list) (with I(load_additional_components)). Default C(false).
    type: bool
  additional_registry_images_list:
    description:
      - Container images, C(repo:tag) or C(repo:tag@sha256:<digest>), pulled for linux/amd64 with
        go-containerregistry (credentials from the Docker config, proxies from the spec), stored in
        the image as archives in C(/var/lib/imageops/images), and imported into containerd's
        C(k8s.io) namespace at first boot, as image-builder's C(ctr images pull) leaves them.
      - The import is the unit C(imageops-load-images.service), after C(containerd.service) and
        before C(cloud-final.service) (where Cluster API runs kubeadm); each archive is removed once
        imported. Debian's C(containerd) is installed unless I(packages) or I(extra_debs) name
        C(containerd) or C(containerd.io).
      - A list, or image-builder's comma-separated string.
    type: list
    elements: str
  additional_url_images:
    description:
      - Load I(additional_url_images_list) (with I(load_additional_components)). Default C(false).
    type: bool
  additional_url_images_list:
    description:
      - URLs of image archives (C(docker save) or OCI), downloaded, stored in the image and imported
        into containerd at first boot with C(ctr images import --no-unpack), as image-builder does.
        A list, or a comma-separated string.
    type: list
    elements: str
  additional_executables:
    description:
      - Load I(additional_executables_list) (with I(load_additional_components)). Default C(false).
    type: bool
  additional_executables_list:
    description:
      - URLs of executables downloaded into I(additional_executables_destination_path) in the
        image, each named after the last element of its URL's path, mode 0711, as image-builder's
        C(get_url). A list, or a comma-separated string.
    type: list
    elements: str
  additional_executables_destination_path:
    description:
      - Absolute path of the directory in the image the executables go to, such as
        C(/usr/local/bin). Required with I(additional_executables_list).
    type: path
  var_files:
    description:
      - YAML or JSON files of build variables, layered in order as image-builder's
        C(PACKER_VAR_FILES); a later file wins over an earlier one, and the task's own options
        win over every file. Each file is a mapping of the options above (not I(var_files) nor
        I(force)). Absolute paths, since a module does not run in the playbook's directory.
    type: list
    elements: path
  force:
    description:
      - Build even when the build record matches the spec.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Loads and checks the spec, reads the record and reports whether the image would be built, and why, in C(msg); builds nothing.
  diff_mode:
    support: full
    description: Shows the record's path and spec hash before and after.
  platform:
    support: full
    platforms: posix
    description: Linux amd64 targets; the images are x86-64.
notes:
  - This is a binary module, a static Go program, run on the target, which builds the image.
  - The build runs as root (mmdebstrap's root mode, and C(mke2fs -d) keeps the files' owners).
requirements:
  - On the target, Debian packages C(mmdebstrap), C(dosfstools), C(mtools), C(fdisk),
    C(e2fsprogs), C(qemu-utils), C(grub-pc-bin) (legacy BIOS boot), and for C(iso) in
    I(formats) C(squashfs-tools) and C(xorriso); network access to I(mirror). A build on a host
    without one of them fails before anything is made or downloaded, naming the packages.
  - For I(node_custom_roles_pre) and I(node_custom_roles_post), C(ansible-playbook) and the
    collection community.general (Debian's package C(ansible)) on the target; the image has
    Python 3 (cloud-init needs it).
seealso:
  - name: kubernetes-sigs image-builder
    description: The variable names this module follows.
    link: https://image-builder.sigs.k8s.io/capi/capi.html
  - name: mmdebstrap(1)
    description: How the root filesystem is made.
    link: https://manpages.debian.org/bookworm/mmdebstrap/mmdebstrap.1.en.html
"""

EXAMPLES = r"""
- name: A minimal Debian 12 cloud image
  imageops.cloud.image_build:
    name: debian-12-minimal
    output_dir: /srv/images
    packages: [openssh-server, qemu-guest-agent]
    size: 4G
  register: built

- name: The same spec from layered var files, as PACKER_VAR_FILES
  imageops.cloud.image_build:
    var_files:
      - /srv/specs/debian-12.yml
      - /srv/specs/site.json
    output_dir: /srv/images
    formats: [qcow2, raw]

- name: Show the image's digest
  ansible.builtin.debug:
    msg: "{{ built.outputs.qcow2 }}: {{ built.build.outputs.qcow2.sha256 }}"
"""

RETURN = r"""
msg:
  description: "What was done and why: C(built: no build record), C(would build: ...) in check mode, or C(image is up to date)."
  returned: always
  type: str
  sample: "built: no build record"
outputs:
  description: Path of the image of each of I(formats), by format.
  returned: success
  type: dict
  sample: {qcow2: /srv/images/debian-12-minimal.qcow2}
log:
  description: Path of the build log (the progress lines of the build).
  returned: when the image was built
  type: str
  sample: /srv/images/debian-12-minimal.build.log
record:
  description: Path of the build record.
  returned: success
  type: str
  sample: /srv/images/debian-12-minimal.build.json
build:
  description:
    - The build record's content (see the description); absent in check mode when the image would be built.
  returned: success, unless the image would be built in check mode
  type: dict
  contains:
    spec_sha256:
      description: SHA-256 of the spec's canonical JSON and the recipe version; a record matches a spec when they are equal.
      type: str
    variables:
      description: Every build variable, as C({value, source}); source is C(default), C(task) or a var file's path.
      type: dict
    packages:
      description: Each installed package's version, by name.
      type: dict
    kernel:
      description: The installed kernel's release.
      type: str
    mirror:
      description: The apt archive the packages came from.
      type: str
    outputs:
      description: Each output as C({path, format, size, sha256, sha512}), by format.
      type: dict
    tool_version:
      description: Version of the build recipe.
      type: str
    host_tools:
      description: First line of the version of mmdebstrap, mke2fs and qemu-img.
      type: dict
    seconds:
      description: Seconds each stage took (bootstrap, configure, esp, root, disk, formats; C(formats) includes the ISO).
      type: dict
"""
