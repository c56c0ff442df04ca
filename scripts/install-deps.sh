#!/usr/bin/env bash
# Installs, from Debian's packages, everything the tests, the demo and the
# benchmarks run against. Safe to run again: it does nothing when all is there.
set -euo pipefail

packages=(
  ansible-core                      # ansible-playbook, ansible-doc
  glance-api                        # the real Glance the tests and demo start on loopback
  ironic-api ironic-conductor       # the real Ironic (all-in-one `ironic`) of scripts/ironic.sh
  python3-keystone uwsgi-core uwsgi-plugin-python3 # Keystone under uwsgi (scripts/cloud.sh)
  postgresql python3-psycopg2       # Keystone's and Glance's database in scripts/cloud.sh
  nginx-light                       # TLS in front of Keystone and Glance in scripts/cloud.sh
  qemu-utils                        # qemu-img
  docker-registry                   # CNCF distribution, the real registry for container tests
  debian-installer-12-netboot-amd64 # a real kernel and initrd to upload
  python3-openstackclient           # the `openstack` CLI, the benchmarks' baseline
  skopeo                            # a container-copy baseline for the benchmarks
  apache2-utils                     # htpasswd, for registry auth tests
  openssl curl                      # TLS material and HTTP checks
  gzip bzip2 xz-utils zstd          # compressed image sources
  e2fsprogs                         # mkfs.ext4 -d: disk images made of real files
  systemd                           # systemd-analyze verify for the timer units
  xorriso                           # ISO images for format-detection tests
  ansible-lint shellcheck           # the collection's lint (tests/integration/90_galaxy)
  yamllint pylint pycodestyle python3-voluptuous # ansible-test sanity's tools, offline
  openssh-server                    # a real SSH target on loopback: bytes sent per task
  qemu-user-static                  # runs the arm64 binary by hand on amd64
  mmdebstrap dosfstools mtools fdisk # image_build: rootfs in a folder, ESP from files, GPT by sfdisk
  qemu-system-x86 ovmf              # image_build's test boots the image under TCG with UEFI
  ansible apt-utils tinyproxy-bin   # image_build: community.general.chroot for custom roles; apt-ftparchive and a proxy for its test
  grub-pc-bin squashfs-tools        # image_build: legacy BIOS boot (core.img, boot.img), the ISO's squashfs
)

missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}; run as root (or install them) first" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# policy-rc.d keeps the packages' own services from starting: tests start
# their own instances on loopback and stop them again.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
trap 'rm -f /usr/sbin/policy-rc.d' EXIT
apt-get install -y -qq "${missing[@]}" >/dev/null
