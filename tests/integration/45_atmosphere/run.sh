#!/usr/bin/env bash
# Atmosphere's documented image_manifest commands through our playbook, with an inventory of
# Atmosphere's shape (atmosphere_like.py: 232 names over 126 images, Atmosphere's reference
# forms): each manifest is compared byte for byte with the file Atmosphere's role writes, made
# here by expected.yml (Atmosphere's tasks: its documented rewrite rule, then
# to_nice_yaml(indent=2) through ansible's copy). Also: Atmosphere's own list layout (-e @ its
# vars file, with atmosphere_image_overrides), -e target=, and a mirror of a digest-only
# reference to Debian's docker-registry on 127.0.0.1. With ATMOSPHERE_ROLE=<Atmosphere's
# roles/defaults> the real list is compared too. Stops what it started.
set -uo pipefail
repo=$(cd "$(dirname "$0")/../../.." && pwd)
here="$repo/tests/integration/45_atmosphere"
state="$repo/build/atmosphere-suite"
log="$state/logs"
export ANSIBLE_COLLECTIONS_PATH="$repo/build/collections"
source "$repo/tests/integration/lib.sh"

cleanup() {
  for r in src dst; do "$repo/scripts/registry.sh" stop "$state/$r" >/dev/null 2>&1; done
}
rm -rf "$state"
mkdir -p "$state/inventory/group_vars/all" "$state/layout/group_vars/all"
suite_init "$log"
trap cleanup EXIT
cd "$state" || exit 1

R=registry.example.com
python3 "$here/atmosphere_like.py" inventory >inventory/group_vars/all/atmosphere_images.yml
python3 "$here/atmosphere_like.py" vars >atmosphere_vars.yml
for inv in inventory layout; do
  printf 'localhost ansible_connection=local\n[controllers]\nctl1 ansible_connection=local\n' >"$inv/hosts"
done

ours() { ansible-playbook -i "$1" imageops.cloud.image_manifest "${@:2}"; }
# atmosphere INVENTORY REGISTRY FILE [ARGS]: the file Atmosphere's role writes.
atmosphere() { ansible-playbook -i "$1" "$here/expected.yml" -e expected_registry="$2" -e expected_path="$state/$3" "${@:4}"; }
recap() { grep -E "^$1 +: ok=[0-9]+ +changed=$2 .*failed=0" "$3"; }

documented_command() {
  ours inventory -e image_manifest_registry=$R -e image_manifest_path=ours.yml >ours.log &&
    recap localhost 1 ours.log && atmosphere inventory $R atmosphere.yml && cmp ours.yml atmosphere.yml &&
    grep -qx 'atmosphere_images:' ours.yml && [ "$(grep -c '^  ' ours.yml)" -eq 232 ]
}
second_run_unchanged() {
  ours inventory -e image_manifest_registry=$R -e image_manifest_path=ours.yml >again.log &&
    recap localhost 0 again.log && cmp ours.yml atmosphere.yml
}
without_registry_unchanged() {
  ours inventory -e image_manifest_path=plain.yml && atmosphere inventory "" plain-atmosphere.yml &&
    cmp plain.yml plain-atmosphere.yml &&
    grep -qx '  upstream_09: ghcr.io/carvel-dev/secretgen-controller@sha256:[0-9a-f]*' plain.yml
}
forms_as_atmosphere() { # spot checks of the rule on the forms that differ
  grep -qx "  upstream_09: $R/secretgen-controller@sha256:[0-9a-f]*" ours.yml &&
    grep -qx "  upstream_11: $R/busybox" ours.yml &&
    grep -qx "  upstream_02: $R/cert-manager:v1.15.5" ours.yml &&
    grep -qx "  keystone_api: $R/keystone:main@sha256:[0-9a-f]*" ours.yml
}
existing_file_needs_force() {
  ! ours inventory -e image_manifest_registry=other.example.com -e image_manifest_path=ours.yml >force.log &&
    grep -q 'image_manifest_force\|force: true' force.log && cmp ours.yml atmosphere.yml &&
    ours inventory -e image_manifest_registry=other.example.com -e image_manifest_path=ours.yml -e image_manifest_force=true &&
    atmosphere inventory other.example.com other.yml && cmp ours.yml other.yml
}
# Atmosphere's list as Atmosphere keeps it, with an operator's override in the inventory.
atmosphere_list_layout() {
  printf 'atmosphere_image_overrides:\n  keystone_api: %s/keystone:2024.1-custom\n' $R >layout/group_vars/all/overrides.yml
  ours layout -e @atmosphere_vars.yml -e image_manifest_registry=$R -e image_manifest_path=layout.yml &&
    atmosphere layout $R layout-atmosphere.yml -e @atmosphere_vars.yml -e atmosphere_image_prefix= &&
    cmp layout.yml layout-atmosphere.yml && grep -qx "  keystone_api: $R/keystone:2024.1-custom" layout.yml
}
# The README's way to hand Atmosphere the manifest: as atmosphere_image_overrides, read back
# by a later run through Atmosphere's list, which then writes the same file.
overrides_file_round_trip() {
  rm -f layout/group_vars/all/overrides.yml
  local file=layout/group_vars/all/atmosphere_image_overrides.yml
  ours layout -e @atmosphere_vars.yml -e image_manifest_var_name=atmosphere_image_overrides \
    -e image_manifest_registry=$R -e image_manifest_path=$file &&
    head -n 1 $file | grep -qx 'atmosphere_image_overrides:' &&
    ours layout -e @atmosphere_vars.yml -e image_manifest_var_name=atmosphere_image_overrides \
      -e image_manifest_registry=$R -e image_manifest_path=$file >round.log && recap localhost 0 round.log
}
target_picks_hosts() {
  ours inventory -e target=ctl1 -e image_manifest_registry=$R -e image_manifest_path=target.yml >target.log &&
    recap ctl1 1 target.log && ! grep -q '^localhost ' target.log && cmp target.yml atmosphere.yml &&
    rm target.yml && ours inventory -e target=controllers -e image_manifest_registry=$R \
    -e image_manifest_path=target.yml >group.log && recap ctl1 1 group.log && ! grep -q '^localhost ' group.log
}
container_images_still_the_default() {
  printf 'container_images:\n  ceph: quay.io/ceph/ceph:v18.2.7\n' >container_images.yml &&
    playbook imageops.cloud.image_manifest -e @container_images.yml -e image_manifest_registry=$R \
      -e image_manifest_path=container.yml &&
    [ "$(cat container.yml)" = "$(printf 'container_images:\n  ceph: %s/ceph:v18.2.7' $R)" ]
}
# Atmosphere's collection installed (here: a collection of Atmosphere's layout whose defaults
# role holds the list, as vexxhost.atmosphere's does) and an inventory that only overrides:
# the playbook reads the list through that role, as Atmosphere's roles do.
installed_atmosphere_collection() {
  local role=collections/ansible_collections/vexxhost/atmosphere/roles/defaults
  mkdir -p $role/defaults $role/vars && cp atmosphere_vars.yml $role/vars/main.yml &&
    printf 'atmosphere_image_prefix: ""\natmosphere_image_overrides: {}\n' >$role/defaults/main.yml &&
    printf 'atmosphere_image_overrides:\n  ceph: %s/ceph:v18-custom\n' $R >layout/group_vars/all/overrides.yml &&
    ANSIBLE_COLLECTIONS_PATH="$ANSIBLE_COLLECTIONS_PATH:$state/collections" \
      ours layout -e image_manifest_registry=$R -e image_manifest_path=installed.yml &&
    atmosphere layout $R installed-atmosphere.yml -e @atmosphere_vars.yml -e atmosphere_image_prefix= &&
    cmp installed.yml installed-atmosphere.yml && grep -qx "  ceph: $R/ceph:v18-custom" installed.yml &&
    [ "$(grep -c '^  ' installed.yml)" -eq 233 ] # the override's name is new: 232 + 1
}
# ATMOSPHERE_ROLE=<Atmosphere's roles/defaults>: its real list, defaults and vars as -e @.
real_atmosphere_list() {
  local real=(-e @"$ATMOSPHERE_ROLE/defaults/main.yml" -e @"$ATMOSPHERE_ROLE/vars/main.yml")
  ours layout "${real[@]}" -e image_manifest_registry=$R -e image_manifest_path=real.yml &&
    atmosphere layout $R real-atmosphere.yml "${real[@]}" && cmp real.yml real-atmosphere.yml &&
    echo "names: $(grep -c '^  ' real.yml)"
}

# A digest-only reference mirrored with Atmosphere's command is tagged sha256-<hex> at the
# target (so garbage collection of untagged manifests keeps it; gomodules/mirror's
# TestDigestOnlyImagesSurviveGarbageCollection runs that collection); the manifest pins it.
mirror_digest_only() {
  local src dst
  src=$("$repo/scripts/registry.sh" start "$state/src") && dst=$("$repo/scripts/registry.sh" start "$state/dst") &&
    (cd "$repo" && go run ./gomodules/mirror/mirrortest/seed -registry "$src" -distinct 2 -multi 1 -names 2 \
      -pinned 2 -var atmosphere_images) >seeded.yml || return 1
  # image00 by digest alone (tag dropped), image01 by tag and digest.
  sed -E 's#(image00: [^ ]*/image00):v[0-9]+@#\1@#' seeded.yml >mirror.yml
  grep -q 'image00: [^ ]*/image00@sha256:' mirror.yml || return 1
  local digest
  digest=$(sed -nE 's#.*image00@(sha256:[0-9a-f]+).*#\1#p' mirror.yml)
  printf 'localhost ansible_connection=local\n' >mirror-hosts
  ours mirror-hosts -e @mirror.yml -e image_manifest_mirror=true -e image_manifest_registry="$dst" \
    -e image_manifest_path=mirrored.yml &&
    atmosphere mirror-hosts "$dst" mirrored-atmosphere.yml -e @mirror.yml && cmp mirrored.yml mirrored-atmosphere.yml &&
    grep -qx "  image00: $dst/image00@$digest" mirrored.yml &&
    curl -sf "http://$dst/v2/image00/tags/list" | grep -q "\"sha256-${digest#sha256:}\"" &&
    [ "$(curl -sf -o /dev/null -w '%{http_code}' -I -H 'Accept: application/vnd.oci.image.index.v1+json' \
      "http://$dst/v2/image00/manifests/$digest")" = 200 ]
}

step documented_command documented_command
step second_run_unchanged second_run_unchanged
step without_registry_unchanged without_registry_unchanged
step forms_as_atmosphere forms_as_atmosphere
step existing_file_needs_force existing_file_needs_force
step atmosphere_list_layout atmosphere_list_layout
step overrides_file_round_trip overrides_file_round_trip
step target_picks_hosts target_picks_hosts
step container_images_still_the_default container_images_still_the_default
step installed_atmosphere_collection installed_atmosphere_collection
[ -n "${ATMOSPHERE_ROLE:-}" ] && step real_atmosphere_list real_atmosphere_list
step mirror_digest_only mirror_digest_only
suite_finish atmosphere
