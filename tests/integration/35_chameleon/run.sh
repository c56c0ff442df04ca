#!/usr/bin/env bash
# A Chameleon site switching from Chameleon's image tools, with its own inputs: a chi-in-a-box
# defaults.yml (enable_image_deployer, enable_image_cleaner, hide_image_age_in_month,
# delete_image_age_in_month, image_object_store_url, image_type) and Chameleon's image store as
# CC-Images publishes it (<container>/<scope>/current, versions/<version>/<name>.qcow2 and
# .manifest), served on 127.0.0.1 with real qcow2 files, against a real local Glance. The
# deployer playbook deploys, re-runs without upload, promotes a bumped version and archives the
# old image as Chameleon does; the cleaner playbook selects Chameleon's set from a list of
# supported images; the timers role installs units that systemd-analyze verifies, runs what
# they run, and removes them when the site disables them. (The deployer's Go tests cover a
# Glance filled by Chameleon's own deployer.) Stops everything it started.
set -uo pipefail
# shellcheck source=../lib.sh
source "$(dirname "$0")/../lib.sh"
here="$repo/tests/integration/35_chameleon"
state="$repo/build/chameleon-suite"

glance() { curl --noproxy '*' -sf "$@"; }
# shellcheck disable=SC2317 # run on exit by suite_with_glance's trap
suite_stop() { "$repo/scripts/ironic.sh" stop "$state/ironic" >/dev/null 2>&1 || true; }
suite_with_glance "$state"
mkdir -p "$state/store/swift/v1/AUTH_site/chameleon-supported-images/prod/versions"
store_url=$(suite_serve "$state/store") || exit 1
cc_name="CC-Suite-$$" # the production name, unique to this run
prod="$state/store/swift/v1/AUTH_site/chameleon-supported-images/prod"

# publish VERSION BUILD_TIMESTAMP: a release of $cc_name, as CC-Images pushes it.
publish() {
  local dir="$prod/versions/$1"
  mkdir -p "$dir"
  head -c 4M /dev/urandom >"$state/disk.raw"
  qemu-img convert -q -f raw -O qcow2 "$state/disk.raw" "$dir/$cc_name.qcow2"
  printf '{"build-distro": "ubuntu", "build-release": "jammy", "build-variant": "base", "build-timestamp": "%s", "build-tag": "%s-%s", "chameleon-supported": "true"}\n' \
    "$2" "$cc_name" "$2" >"$dir/$cc_name.manifest"
  printf '{"%s": "%s"}\n' "$cc_name" "$1" >"$prod/current"
}

cat >"$state/defaults.yml" <<YAML
# image tools (as in a chi-in-a-box site's defaults.yml)
enable_image_deployer: yes
enable_image_cleaner: yes
hide_image_age_in_month: 6
delete_image_age_in_month: 9
image_object_store_url: $store_url/swift/v1/AUTH_site
image_type: qcow2
YAML

# named NAME: Glance's list of the images named NAME (eq: takes a name with colons as it is).
named() { glance "$G/v2/images?visibility=all&name=$(python3 -c 'import sys,urllib.parse; print(urllib.parse.quote("eq:" + sys.argv[1]))' "$1")"; }
# images NAME: "visibility current chameleon-supported" of each image named NAME.
images() {
  named "$1" | python3 -c 'import json,sys; [print(i["visibility"], i.get("current", "-"), i.get("chameleon-supported", "-")) for i in json.load(sys.stdin)["images"]]'
}
deploy() { playbook imageops.cloud.image_deployer -e @"$state/defaults.yml"; }

deployer_first() {
  publish 20250422-v1-amd "2025-04-22 10:11:12.123456"
  deploy && [ "$(images "$cc_name")" = "public 20250422-v1-amd true" ] && [ -z "$(images "testing_$cc_name")" ]
}
deployer_rerun() { ran_with "$unchanged" imageops.cloud.image_deployer -e @"$state/defaults.yml"; }
deployer_bumped() {
  publish 20250601-v1-amd "2025-06-01 08:00:00"
  deploy && [ "$(images "$cc_name")" = "public 20250601-v1-amd true" ] &&
    [ "$(images "${cc_name}_2025-04-22 10:11:12.123456")" = "public 20250422-v1-amd no" ]
}
cleaner_supported_set() { # check mode, ten months on: the archived build would go, the production image stays
  local out
  out=$(playbook imageops.cloud.image_cleaner -e @"$state/defaults.yml" -e "{\"image_cleaner_supports\": [\"$cc_name\"]}" \
    -e image_cleaner_skip_in_use=false -e "image_cleaner_now=$(date -u -d '+10 months' +%Y-%m-%dT%H:%M:%SZ)" --check) || { echo "$out"; return 1; }
  echo "$out"
  grep -q "deleted: \['${cc_name}_2025-04-22 10:11:12.123456'\]" <<<"$out" &&
    [ "$(images "${cc_name}_2025-04-22 10:11:12.123456")" = "public 20250422-v1-amd no" ]
}

# IPA pairs (Chameleon's deployer --ipa): Debian's installer kernel and initrd stand for a build
# of an ipa_* distribution, <name>.kernel and <name>.initramfs beside one <name>.manifest.
ipa_name="CC-IPA-Suite-$$"
fixtures="$repo/build/fixtures"
# publish_ipa VERSION BUILD_TIMESTAMP: a pair of $ipa_name, added to the index beside $cc_name.
publish_ipa() {
  local dir="$prod/versions/$1"
  mkdir -p "$dir"
  cp "$fixtures/vmlinuz" "$dir/$ipa_name.kernel" && cp "$fixtures/initrd.gz" "$dir/$ipa_name.initramfs" || return 1
  printf '{"build-distro": "ipa_debian", "build-release": "bullseye", "build-variant": "amd64", "build-timestamp": "%s", "build-ipa": "na", "chameleon-supported": "true", "kernel_checksum_sha512": "%s", "initramfs_checksum_sha512": "%s"}\n' \
    "$2" "$(sha512sum "$dir/$ipa_name.kernel" | cut -d' ' -f1)" "$(sha512sum "$dir/$ipa_name.initramfs" | cut -d' ' -f1)" >"$dir/$ipa_name.manifest"
  python3 -c 'import json,sys; i=json.load(open(sys.argv[1])); i[sys.argv[2]]=sys.argv[3]; json.dump(i, open(sys.argv[1], "w"))' "$prod/current" "$ipa_name" "$1"
}
deploy_ipa() { playbook imageops.cloud.image_deployer -e @"$state/defaults.yml" -e "{\"image_deployer_ipa_images\": [\"$ipa_name\"]}" "$@"; }
# ipa_images NAME: "visibility disk_format build-ipa current" of each image named NAME.
ipa_images() {
  named "$1" | python3 -c 'import json,sys; [print(i["visibility"], i["disk_format"], i.get("build-ipa"), i.get("current")) for i in json.load(sys.stdin)["images"]]'
}
# newest_ipa HALF: the name of the newest active image whose build-ipa is HALF, as Chameleon's
# ipa_test picks the pair it tests by default.
newest_ipa() {
  glance "$G/v2/images?visibility=all&status=active&build-ipa=$1&sort=created_at:desc&limit=1" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["images"][0]["name"])'
}
ipa_first() {
  publish_ipa 20250422-ipa "2025-04-22 10:11:12" || return 1
  deploy_ipa && [ "$(ipa_images "$ipa_name.kernel")" = "public aki kernel 20250422-ipa" ] &&
    [ "$(ipa_images "$ipa_name.initramfs")" = "public ari initramfs 20250422-ipa" ] &&
    [ "$(glance "$G/v2/images?visibility=all&name=eq:$ipa_name.initramfs" | python3 -c 'import json,sys; print(json.load(sys.stdin)["images"][0]["os_hash_value"])')" = \
      "$(sha512sum "$fixtures/initrd.gz" | cut -d' ' -f1)" ] && # uploaded as it comes
    [ -z "$(ipa_images "testing_$ipa_name.kernel")" ]
}
ipa_rerun() { ran_with "$unchanged" imageops.cloud.image_deployer -e @"$state/defaults.yml" -e "{\"image_deployer_ipa_images\": [\"$ipa_name\"]}"; }
ipa_check() { # a new pair, in check mode: both halves would change, nothing is written
  local out
  publish_ipa 20250601-ipa "2025-06-01 08:00:00" || return 1
  out=$(deploy_ipa --check) || { echo "$out"; return 1; }
  echo "$out"
  grep -q "deployed: \['$ipa_name.initramfs', '$ipa_name.kernel'\]" <<<"$out" &&
    [ "$(ipa_images "$ipa_name.kernel")" = "public aki kernel 20250422-ipa" ] && [ -z "$(ipa_images "testing_$ipa_name.kernel")" ]
}
ipa_bumped() { # the new pair promoted, the previous one archived and kept; ipa_test's default is the new pair
  deploy_ipa && [ "$(ipa_images "$ipa_name.kernel")" = "public aki kernel 20250601-ipa" ] &&
    [ "$(ipa_images "$ipa_name.initramfs")" = "public ari initramfs 20250601-ipa" ] &&
    [ "$(ipa_images "${ipa_name}.kernel_2025-04-22 10:11:12")" = "public aki kernel 20250422-ipa" ] &&
    [ "$(ipa_images "${ipa_name}.initramfs_2025-04-22 10:11:12")" = "public ari initramfs 20250422-ipa" ] &&
    [ "$(newest_ipa kernel)" = "$ipa_name.kernel" ] && [ "$(newest_ipa initramfs)" = "$ipa_name.initramfs" ]
}

# The cleaner on a site with Ironic: a node still boots the archived pair, which the policy (19
# months on) would delete; with the baremetal endpoint the pair is kept and the result names the node.
old_kernel="$ipa_name.kernel_2025-04-22 10:11:12"
old_initramfs="$ipa_name.initramfs_2025-04-22 10:11:12"
id_of() { named "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["images"][0]["id"])'; }
clean_ipa() {
  playbook imageops.cloud.image_cleaner -v -e @"$state/defaults.yml" -e image_cleaner_skip_in_use=false \
    -e "{\"image_cleaner_supports\": [\"$ipa_name\"]}" \
    -e "image_cleaner_now=$(date -u -d '+19 months' +%Y-%m-%dT%H:%M:%SZ)" "$@"
}
ironic_node() { # Ironic on the suite's Glance, and a node whose driver_info names the archived pair
  IMAGEOPS_GLANCE_URL=$G "$repo/scripts/ironic.sh" start "$state/ironic" || return 1
  ironic_url=$(sed -n 's/^export IMAGEOPS_IRONIC_URL=//p' "$state/ironic/env")
  curl --noproxy '*' -sf -X POST -H 'Content-Type: application/json' -H 'X-OpenStack-Ironic-API-Version: 1.52' \
    -d "{\"name\": \"cleaner-node\", \"driver\": \"fake-hardware\", \"driver_info\": {\"deploy_kernel\": \"$(id_of "$old_kernel")\", \"deploy_ramdisk\": \"$(id_of "$old_initramfs")\"}}" \
    "$ironic_url/v1/nodes"
}
# listed LIST OUTPUT: the names in the playbook's "LIST: [...]", sorted, one a line.
listed() { sed -n "s/.*\"msg\": \".*$1: \[\([^]]*\)\].*/\1/p" <<<"$2" | tr ',' '\n' | sed "s/^ *'//; s/'$//" | sort; }
old_pair=$(printf '%s\n' "$old_kernel" "$old_initramfs" | sort)
cleaner_without_ironic() { # check mode, no baremetal endpoint: the archived pair would be deleted
  local out
  out=$(clean_ipa --check) || { echo "$out"; return 1; }
  echo "$out"
  [ "$(listed deleted "$out")" = "$old_pair" ]
}
cleaner_keeps_node_pair() {
  local out
  out=$(clean_ipa -e "{\"image_cleaner_connection\": {\"baremetal_endpoint_override\": \"$ironic_url\"}}") || { echo "$out"; return 1; }
  echo "$out"
  [ -z "$(listed deleted "$out")" ] && [ "$(listed skipped "$out")" = "$old_pair" ] &&
    grep -q '"reason": "named by Ironic node(s): cleaner-node (driver_info.deploy_kernel)"' <<<"$out" &&
    grep -q '"field": "driver_info.deploy_ramdisk"' <<<"$out" &&
    [ "$(ipa_images "$old_kernel")" = "public aki kernel 20250422-ipa" ] &&
    [ "$(ipa_images "$old_initramfs")" = "public ari initramfs 20250422-ipa" ]
}
# ipa_test (check mode) on a node of its own type: by default it picks the newest pair, the one
# the deployer just promoted.
ironic_api() {
  curl --noproxy '*' -sf -X "$1" -H 'X-OpenStack-Ironic-API-Version: 1.52' -H 'Content-Type: application/json' \
    "$ironic_url/v1/$2" ${3:+-d "$3"}
}
node_state() { ironic_api GET "nodes/$1" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["provision_state"], d["target_provision_state"])'; }
node_in() { [ "$(node_state "$1")" = "$2 None" ]; }
wait_node() { wait_for 180 "node $1 reaching $2" node_in "$1" "$2"; } # NODE STATE: Ironic's conductor is slow under load
ipa_test_picks_new_pair() {
  local out uuid
  uuid=$(ironic_api POST nodes '{"name": "ipa-suite-node", "driver": "manual-management", "resource_class": "ipa-suite",
    "boot_interface": "pxe", "deploy_interface": "direct"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["uuid"])') &&
    ironic_api POST ports "{\"node_uuid\": \"$uuid\", \"address\": \"52:54:00:35:00:01\"}" >/dev/null &&
    ironic_api PUT nodes/ipa-suite-node/states/power '{"target": "power off"}' && wait_node ipa-suite-node enroll &&
    ironic_api PUT nodes/ipa-suite-node/states/provision '{"target": "manage"}' && wait_node ipa-suite-node manageable &&
    ironic_api PUT nodes/ipa-suite-node/states/provision '{"target": "provide"}' && wait_node ipa-suite-node available || return 1
  out=$(playbook imageops.cloud.ipa_test --check -v -e ipa_test_node_type=ipa-suite -e ipa_test_cloud=imageops-ironic \
    -e ipa_test_clouds_file="$state/ironic/clouds.yaml") || { echo "$out"; return 1; }
  echo "$out"
  grep -q "\"kernel_image\": \"$(id_of "$ipa_name.kernel")\"" <<<"$out" &&
    grep -q "\"initramfs_image\": \"$(id_of "$ipa_name.initramfs")\"" <<<"$out"
}

timers_root="$state/root"
units="$timers_root/etc/systemd/system"
timers() { playbook "$here/timers.yml" -e @"$state/defaults.yml" -e timers_root="$timers_root" -e "{\"supported\": [\"$cc_name\"]}" "$@"; }
json() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2]))' "$@"; }
timers_from_defaults() {
  timers && systemd-analyze verify "$units"/imageops-image-*.service "$units"/imageops-image-*.timer &&
    [ "$(json "$timers_root/etc/imageops/image_deployer.json" object_store_url)" = "$store_url/swift/v1/AUTH_site" ] &&
    [ "$(json "$timers_root/etc/imageops/image_deployer.json" image_prefix)" = testing_ ] &&
    [ "$(json "$timers_root/etc/imageops/image_cleaner.json" hide_after_months)" = 6 ] &&
    [ "$(json "$timers_root/etc/imageops/image_cleaner.json" delete_after_months)" = 9 ]
}
timers_run_what_they_say() { # the deployer's service, run by hand: the site is current
  local exec_start out
  exec_start=$(sed -n 's/^ExecStart=//p' "$units/imageops-image-deployer.service")
  # shellcheck disable=SC2086
  out=$($exec_start) || { echo "$out"; return 1; }
  echo "$out"
  grep -q '"changed":false' <<<"$out" && grep -q "\"name\":\"$cc_name\",\"version\":\"20250601-v1-amd\"" <<<"$out"
}
timers_cleaner_from_the_store() { # no cleaner options: the store's index is the supported set
  local exec_start out
  timers -e '{"image_timers_cleaner_options": {}}' &&
    [ "$(json "$timers_root/etc/imageops/image_cleaner.json" supports)" = "$store_url/swift/v1/AUTH_site/chameleon-supported-images/prod/current" ] &&
    [ "$(json "$timers_root/etc/imageops/image_cleaner.json" hide_after_months)" = 6 ] || return 1
  exec_start=$(sed -n 's/^ExecStart=//p' "$units/imageops-image-cleaner.service")
  # shellcheck disable=SC2086
  out=$($exec_start) || { echo "$out"; return 1; }
  echo "$out"
  grep -q "\"name\":\"$cc_name\",\"reason\":\"the current production image" <<<"$out" &&
    grep -q '"changed":false' <<<"$out"
}
timers_hide_before_delete() {
  local out
  out=$(timers -e hide_image_age_in_month=9) && return 1
  echo "$out"
  grep -q 'must be less than delete_after_months' <<<"$out"
}
timers_from_hammers_names() { # hammers-v2's site.yaml names, as the deployer playbook reads them
  printf 'enable_image_deployer: yes\nenable_image_cleaner: yes\nobject_store_url: %s\nscope: prod\nimage_store_cloud: site-admin\n' \
    "$store_url/swift/v1/AUTH_site" >"$state/hammers.yml"
  playbook "$here/timers.yml" -e @"$state/hammers.yml" -e timers_root="$timers_root" -e "{\"supported\": [\"$cc_name\"]}" &&
    [ "$(json "$timers_root/etc/imageops/image_deployer.json" object_store_url)" = "$store_url/swift/v1/AUTH_site" ] &&
    [ "$(json "$timers_root/etc/imageops/image_deployer.json" scope)" = prod ] &&
    [ "$(json "$timers_root/etc/imageops/image_deployer.json" cloud)" = site-admin ]
}
timers_disabled() {
  timers -e enable_image_deployer=no -e enable_image_cleaner=no &&
    [ -z "$(ls -A "$units")" ] && [ ! -e "$timers_root/etc/imageops/image_deployer.json" ] &&
    [ ! -e "$timers_root/etc/imageops/image_cleaner.json" ]
}

step deployer_first deployer_first
step deployer_rerun deployer_rerun
step deployer_bumped deployer_bumped
step cleaner_supported_set cleaner_supported_set
step timers_from_defaults timers_from_defaults
step timers_run_what_they_say timers_run_what_they_say
step timers_cleaner_from_the_store timers_cleaner_from_the_store
step timers_hide_before_delete timers_hide_before_delete
step timers_from_hammers_names timers_from_hammers_names
step timers_disabled timers_disabled
# last: the index then lists a pair, which the timers' deployer (without ipa_images) would not take
step ipa_fixtures "$repo/scripts/fixtures.sh" "$fixtures"
step ipa_first ipa_first
step ipa_rerun ipa_rerun
step ipa_check ipa_check
step ipa_bumped ipa_bumped
step cleaner_without_ironic cleaner_without_ironic
step ironic_node ironic_node
step cleaner_keeps_node_pair cleaner_keeps_node_pair
step ipa_test_picks_new_pair ipa_test_picks_new_pair
for n in "$cc_name" "${cc_name}_2025-04-22 10:11:12.123456" "$ipa_name.kernel" "$ipa_name.initramfs" \
  "$ipa_name.kernel_2025-04-22 10:11:12" "$ipa_name.initramfs_2025-04-22 10:11:12"; do # leave the shared Glance as found
  for id in $(named "$n" | python3 -c 'import json,sys; [print(i["id"]) for i in json.load(sys.stdin)["images"]]'); do
    glance -X DELETE "$G/v2/images/$id" >/dev/null || true
  done
done
suite_finish chameleon
