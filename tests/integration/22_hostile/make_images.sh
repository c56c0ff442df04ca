#!/usr/bin/env bash
# make_images.sh DIR: the hostile sources of the suite, small on disk, made with qemu-img.
set -euo pipefail
dir=$1
mkdir -p "$dir"
cd "$dir"
q() { qemu-img "$@" >/dev/null; }
q create -q -f qcow2 -b /etc/passwd -F raw backing-passwd.qcow2
q create -q -f qcow2 -o "data_file=$dir/data.raw" data-file.qcow2 1M
q create -q -f qcow2 truncated.qcow2 64M
qemu-io -f qcow2 -c 'write -P 0xab 0 8M' truncated.qcow2 >/dev/null
truncate -s 4M truncated.qcow2
q create -q -f qcow2 1pib.qcow2 1P
q create -q -f qcow2 4tib.qcow2 4T
q create -q -f vmdk base.vmdk 1M
q create -q -f vmdk -b "$dir/base.vmdk" -F vmdk backing.vmdk
printf '# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType="monolithicFlat"\n\nRW 2048 FLAT "/etc/passwd" 0\n' >extent-passwd.vmdk
q create -q -f vhdx 4tib.vhdx 4T
# A gzip bomb: 1 GiB of zeros, about 1 MiB on disk.
head -c 1G /dev/zero | gzip -9 >bomb.raw.gz
# A good image, to carry the secrets of the URL test into Glance.
q create -q -f qcow2 good.qcow2 16M
