#!/usr/bin/env bash
# `make demo`: the collection's main jobs on real images, against a local Glance and
# local registries.
#
# Starts Debian's glance-api on 127.0.0.1 (scripts/glance.sh), builds real images
# (scripts/fixtures.sh: the Debian installer's kernel and initrd, and disk images made
# from real files), serves them over HTTP on loopback, then runs
#   ansible-playbook imageops.cloud.community_images
# with group_vars that use community_images_extra, community_images_custom_properties and
# a format conversion; runs it a second time to show changed=0, and prints
# community_images_image_ids. Then it starts two of Debian's docker-registry on 127.0.0.1,
# pushes container images built from real files to the first, and runs
#   ansible-playbook imageops.cloud.image_manifest -e image_manifest_mirror=true
# to mirror them to the second and write the manifest that points at it, twice (the second
# run copies nothing). Stops what it started unless DEMO_KEEP=1.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
state="$repo/build/demo"
fixtures="$repo/build/fixtures"
mkdir -p "$state"

stop_all() {
  if [ "${DEMO_KEEP:-0}" = 1 ]; then
    echo "demo: Glance and the file server keep running (DEMO_KEEP=1); stop them with:"
    echo "  scripts/glance.sh stop $state/glance; scripts/serve.sh stop $fixtures"
    echo "  scripts/registry.sh stop $state/source-registry; scripts/registry.sh stop $state/private-registry"
    return
  fi
  scripts/serve.sh stop "$fixtures" >/dev/null 2>&1 || true
  scripts/glance.sh stop "$state/glance" >/dev/null 2>&1 || true
  scripts/registry.sh stop "$state/source-registry" >/dev/null 2>&1 || true
  scripts/registry.sh stop "$state/private-registry" >/dev/null 2>&1 || true
}
trap stop_all EXIT

echo "== Starting a local Glance (no Keystone, sqlite, file store) on 127.0.0.1"
scripts/glance.sh start "$state/glance"
echo "== Building real images"
scripts/fixtures.sh "$fixtures"
base_url=$(scripts/serve.sh start "$fixtures" | tail -n 1)
echo "== Serving them at $base_url"

sha512() { awk -v f="$1" '$2 == f || $2 == "*"f {print $1}' "$fixtures/SHA512SUMS"; }
mkdir -p "$state/inventory/group_vars/all"
cat > "$state/inventory/hosts.yml" <<YAML
all:
  hosts:
    localhost:
      ansible_connection: local
YAML
cat > "$state/inventory/group_vars/all/community_images.yml" <<YAML
# What an operator keeps in group_vars (azimuth-ops' variable names).
community_images_clouds_file: $state/glance/clouds.yaml
community_images_cloud: imageops-local
community_images_default_visibility: public
# Not azimuth-ops' default images (an azimuth-images release, read from GitHub): only these.
community_images_default: {}
community_images_custom_properties:
  - site=demo
  - hw_architecture=x86_64
community_images_extra:
  debian_installer_kernel:
    name: debian-12-installer-vmlinuz
    source_url: $base_url/vmlinuz
    checksum_sha512: sha512:$(sha512 vmlinuz)
    source_disk_format: aki
    disk_format: aki
    container_format: aki
  debian_installer_initrd:
    name: debian-12-installer-initrd
    source_url: $base_url/initrd.gz
    checksum_sha512: sha512:$(sha512 initrd.gz)
    source_disk_format: ari
    disk_format: ari
    container_format: ari
  demo_disk:
    name: demo-disk-qcow2
    source_url: $base_url/disk.qcow2
    checksum_sha512: sha512:$(sha512 disk.qcow2)
    properties:
      - os_distro=debian
  demo_disk_converted:
    # A compressed raw image: decompressed, then converted to qcow2 with qemu-img.
    name: demo-disk-from-raw-xz
    source_url: $base_url/disk.raw.xz
    checksum_sha512: sha512:$(sha512 disk.raw.xz)
    kubernetes_version: v1.30.3
YAML
echo "== group_vars:"
sed 's/^/   /' "$state/inventory/group_vars/all/community_images.yml"

export ANSIBLE_COLLECTIONS_PATH="$repo/build/collections"
# shellcheck disable=SC2120 # extra ansible-playbook arguments are optional
run_playbook() { ansible-playbook -i "$state/inventory" imageops.cloud.community_images "$@"; }

echo "== First run: downloads, verifies, converts and uploads"
run_playbook | tee "$state/first.log"
echo "== Second run: everything is in place"
run_playbook | tee "$state/second.log"
grep -q 'changed=0.*failed=0' "$state/second.log" || { echo "demo: the second run changed something" >&2; exit 1; }

echo "== community_images_image_ids, and what Glance holds"
sed -n '/"community_images_image_ids"/,/^}/p' "$state/second.log"
# shellcheck disable=SC1091
source "$state/glance/env"
curl -fsS "$IMAGEOPS_GLANCE_URL/v2/images" | python3 -c '
import json, sys
for image in sorted(json.load(sys.stdin)["images"], key=lambda i: i["name"]):
    print("  %-32s %-5s %-9s %-7s %10d bytes  os_hash_value %s..." % (image["name"], image["disk_format"],
          image["visibility"], image["status"], image["size"], image["os_hash_value"][:16]))'

echo
echo "== Container images: two local registries, images built from real files"
source_registry=$(scripts/registry.sh start "$state/source-registry")
private_registry=$(scripts/registry.sh start "$state/private-registry")
go run ./gomodules/mirror/mirrortest/seed -registry "$source_registry" -distinct 6 -multi 2 -names 9 \
  >"$state/container_images.yml"
echo "== container_images (as in Atmosphere's group_vars), on $source_registry:"
sed 's/^/   /' "$state/container_images.yml"
mirror() {
  ansible-playbook imageops.cloud.image_manifest -e @"$state/container_images.yml" \
    -e image_manifest_path="$state/manifest.yml" -e image_manifest_registry="$private_registry/openstack" \
    -e image_manifest_mirror=true -e image_manifest_force=true \
    -e "{\"image_manifest_insecure_registries\": [\"$source_registry\", \"$private_registry\"]}"
}
echo "== Mirroring to $private_registry and writing the manifest"
mirror | tee "$state/mirror-first.log"
echo "== Again: every image is already there"
mirror | tee "$state/mirror-second.log"
grep -q 'changed=0.*failed=0' "$state/mirror-second.log" || { echo "demo: the second mirror run changed something" >&2; exit 1; }
echo "== The manifest, pointing at the private registry:"
sed 's/^/   /' "$state/manifest.yml"
