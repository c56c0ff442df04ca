#!/usr/bin/env bash
# The community_images role as a drop-in for azimuth-ops', through ansible-playbook, against a
# real local Glance: an azimuth-images release (manifest.json and real qcow2 images) served on
# loopback, and sites configured as azimuth-config's documentation and environments configure
# them (config/environments: base, demo, capi-mgmt, and the site's own mirror URLs), run as
# they are. The controller's OS_CLOUD and OS_CLIENT_CONFIG_FILE name the cloud, as
# azimuth-config's activate script exports them.
set -uo pipefail
repo=$(cd "$(dirname "$0")/../../.." && pwd)
here="$repo/tests/integration/25_azimuth_ops"
state="$repo/build/azimuth-ops"
log="$state/logs"
envs="$here/config/environments"
export ANSIBLE_COLLECTIONS_PATH="$repo/build/collections"
source "$repo/tests/integration/lib.sh"
release="$state/release"
cleanup() {
  "$repo/scripts/serve.sh" stop "$release" >/dev/null 2>&1 || true
  "$repo/scripts/glance.sh" stop "$state/glance" >/dev/null 2>&1 || true
}
cleanup # what a killed run left
rm -rf "$state"
suite_init "$log"
trap cleanup EXIT

setup() {
  "$repo/scripts/glance.sh" start "$state/glance" &&
    "$repo/scripts/fixtures.sh" "$repo/build/fixtures" &&
    mkdir -p "$release" &&
    url=$("$repo/scripts/serve.sh" start "$release" | tail -n 1) &&
    "$here/release.sh" "$repo/build/fixtures" "$release" "$url" &&
    echo "$url" >"$state/release_url"
}
step setup setup
# shellcheck disable=SC1091
source "$state/glance/env" || exit 1
export AZIMUTH_OPS_RELEASE_URL AZIMUTH_CONFIG_ROOT="$state/config" AZIMUTH_OPS_QCOW2_SHA512
AZIMUTH_OPS_RELEASE_URL=$(cat "$state/release_url")
AZIMUTH_OPS_QCOW2_SHA512=$(sha512sum "$repo/build/fixtures/disk.qcow2" | cut -d' ' -f1)

# inventories ENV: azimuth-config's inventory order (base, the environment, the site).
inventories() { echo "-i $envs/base/inventory -i $envs/$1/inventory -i $envs/site/inventory"; }
site_playbook() { # ENV, then ansible-playbook arguments
  local env=$1
  shift
  # shellcheck disable=SC2046
  AZIMUTH_ENVIRONMENT=$env ansible-playbook $(inventories "$env") "$@"
}
demo_keys='{"expected_keys": ["kube_1_34", "kube_1_35", "repo2docker", "workstation", "rstudio", "openhpc"]}'

# environments/demo: the whole default set, from the manifest and the Slurm default.
demo_first_run() {
  local out
  out=$(site_playbook demo imageops.cloud.community_images)
  local rc=$?
  echo "$out"
  [ "$rc" -eq 0 ] && grep -q '"kube_1_35": "' <<<"$out"
}
demo_second_run() { # unchanged, and the consumers find every key
  local out
  out=$(site_playbook demo "$here/consumers.yml" -e "$demo_keys" -e ids_file="$state/demo_ids.json")
  local rc=$?
  echo "$out"
  [ "$rc" -eq 0 ] && grep -Eq "$unchanged" <<<"$out"
}
# environments/capi-mgmt: community_images_default overridden with one build of an older release.
capi_mgmt_runs() {
  local out
  AZIMUTH_OPS_RELEASE_URL=$AZIMUTH_OPS_RELEASE_URL/old site_playbook capi-mgmt imageops.cloud.community_images || return 1
  out=$(AZIMUTH_OPS_RELEASE_URL=$AZIMUTH_OPS_RELEASE_URL/old site_playbook capi-mgmt "$here/consumers.yml" \
    -e '{"expected_keys": ["kube_1_28"]}')
  local rc=$?
  echo "$out"
  [ "$rc" -eq 0 ] && grep -Eq "$unchanged" <<<"$out"
}
# The manifest given as a dict: nothing is downloaded (the URL leads nowhere), same images.
manifest_given() {
  local out
  out=$(site_playbook demo "$here/consumers.yml" -e "$demo_keys" -e community_images_azimuth_images_manifest_url=http://127.0.0.1:9/gone.json \
    -e "{\"community_images_azimuth_images_manifest\": $(cat "$release/manifest.json")}")
  local rc=$?
  echo "$out"
  [ "$rc" -eq 0 ] && grep -Eq "$unchanged" <<<"$out"
}
# community_images: {} uploads nothing and reads no manifest; community_images_enabled: false
# skips the playbook.
nothing_wanted() {
  local out
  out=$(site_playbook demo imageops.cloud.community_images -e '{"community_images": {}}' \
    -e community_images_azimuth_images_manifest_url=http://127.0.0.1:9/gone.json) || { echo "$out"; return 1; }
  echo "$out"
  grep -q '"community_images_image_ids": {}' <<<"$out" || return 1
  out=$(site_playbook demo imageops.cloud.community_images -e community_images_enabled=false \
    -e community_images_azimuth_images_manifest_url=http://127.0.0.1:9/gone.json) || { echo "$out"; return 1; }
  echo "$out"
  grep -Eq 'localhost +: ok=0 +changed=0 +unreachable=0 +failed=0 +skipped=2' <<<"$out"
}
# A manifest that cannot be read, or is not one: the failure names the URL.
manifest_errors() {
  local out
  out=$(site_playbook demo imageops.cloud.community_images -e community_images_azimuth_images_manifest_url=http://127.0.0.1:9/gone.json 2>&1)
  echo "$out"
  grep -q 'reading the azimuth-images manifest: fetching \\"http://127.0.0.1:9/gone.json\\"' <<<"$out" || return 1
  out=$(site_playbook demo imageops.cloud.community_images \
    -e community_images_azimuth_images_manifest_url="$AZIMUTH_OPS_RELEASE_URL/fixtures/not-an-image.txt" 2>&1)
  echo "$out"
  grep -q 'fixtures/not-an-image.txt\\" is not an azimuth-images manifest: it is not JSON' <<<"$out"
}
# roles/infra's use: tasks_from upload_image with community_images_image_spec.
upload_image() {
  local out
  out=$(site_playbook demo "$here/infra.yml")
  local rc=$?
  echo "$out"
  [ "$rc" -eq 0 ] && out=$(site_playbook demo "$here/infra.yml") && echo "$out" && grep -Eq "$unchanged" <<<"$out"
}

step demo_first_run demo_first_run
step demo_second_run demo_second_run
step capi_mgmt capi_mgmt_runs
step manifest_given manifest_given
step nothing_wanted nothing_wanted
step manifest_errors manifest_errors
step upload_image upload_image
suite_finish azimuth_ops
