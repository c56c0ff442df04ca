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
# shellcheck source=SCRIPTDIR/../lib.sh
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
  out=$(site_playbook demo "$here/consumers.yml" -e "$demo_keys" -e ids_file="$state/demo_ids.json" -e expected_visibility=shared)
  local rc=$?
  echo "$out"
  [ "$rc" -eq 0 ] && grep -Eq "$unchanged" <<<"$out"
}
# environments/capi-mgmt: community_images_default overridden with one build of an older release.
capi_mgmt_runs() {
  local out
  AZIMUTH_OPS_RELEASE_URL=$AZIMUTH_OPS_RELEASE_URL/old site_playbook capi-mgmt imageops.cloud.community_images || return 1
  out=$(AZIMUTH_OPS_RELEASE_URL=$AZIMUTH_OPS_RELEASE_URL/old site_playbook capi-mgmt "$here/consumers.yml" \
    -e '{"expected_keys": ["kube_1_28"]}' -e expected_visibility=shared)
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
  out=$(site_playbook demo imageops.cloud.community_images -e community_images_azimuth_images_manifest_url="$AZIMUTH_OPS_RELEASE_URL/gone.json" 2>&1)
  echo "$out"
  grep -q "reading the azimuth-images manifest: fetching ..$AZIMUTH_OPS_RELEASE_URL/gone.json..: server answered 404" <<<"$out" || return 1
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

# A spec run through the demo site with extra variables: playbook_with SPECS_JSON, then arguments.
playbook_with() {
  local specs=$1
  shift
  site_playbook demo imageops.cloud.community_images -e "{\"community_images\": $specs}" "$@"
}
# glance_ids NAME: the IDs of the images of that name, of any visibility, as Glance lists them
# (newest first).
glance_ids() {
  curl -fsS "$IMAGEOPS_GLANCE_URL/v2/images?visibility=all&name=$1" |
    python3 -c 'import json, sys; print("\n".join(i["id"] for i in json.load(sys.stdin)["images"]))'
}
# flat TEXT: TEXT on one line, for messages Ansible wraps at 80 columns (after a space, or
# inside a word after a hyphen).
flat() { sed -e ':a' -e 'N' -e '$!ba' -e 's/-\n/-/g' -e 's/\n/ /g' <<<"$1" | tr -s ' '; }

# As azimuth-ops uploads an image to a cloud that wants raw: curl, qemu-img convert, openstack
# image create, then the default visibility. The role adopts it (same ID, nothing uploaded) when
# community_images_insecure_skip_glance_verify is true, and says why it cannot verify it when false.
azimuth_ops_converted() {
  local name=azimuth-ops-converted-raw work="$state/azimuth-ops-work" id out spec
  mkdir -p "$work"
  curl -fsS -o "$work/$name.download" "$AZIMUTH_OPS_RELEASE_URL/fixtures/disk.qcow2" &&
    qemu-img convert -f qcow2 -O raw "$work/$name.download" "$work/$name.convert" &&
    id=$(openstack image create -f value -c id --container-format bare --disk-format raw \
      --file "$work/$name.convert" "$name") &&
    openstack image set --community "$id" || return 1
  rm -rf "$work"
  spec="{\"conv\": {\"name\": \"$name\", \"source_url\": \"$AZIMUTH_OPS_RELEASE_URL/fixtures/disk.qcow2\",
    \"checksum\": \"sha256:$(sha256sum "$repo/build/fixtures/disk.qcow2" | cut -d' ' -f1)\",
    \"checksum_sha512\": \"sha512:$AZIMUTH_OPS_QCOW2_SHA512\", \"source_disk_format\": \"qcow2\",
    \"container_format\": \"bare\"}}"
  out=$(playbook_with "$spec" -e community_images_disk_format=raw -e community_images_default_visibility=community 2>&1)
  echo "$out"
  out=$(flat "$out")
  grep -q "carries no imageops_source_sha512 property, so it was uploaded by another tool" <<<"$out" &&
    grep -q "set insecure_skip_glance_verify: true (community_images_insecure_skip_glance_verify)" <<<"$out" || return 1
  out=$(playbook_with "$spec" -e community_images_disk_format=raw -e community_images_default_visibility=community \
    -e community_images_insecure_skip_glance_verify=true)
  local rc=$?
  echo "$out"
  [ "$rc" -eq 0 ] && grep -q "\"conv\": \"$id\"" <<<"$out" && [ "$(glance_ids "$name")" = "$id" ]
}

# Several images of one name with the same data: the one azimuth-ops hands back, the first
# `openstack image list --name` shows (the newest).
newest_of_duplicates() {
  local name=azimuth-ops-duplicated first out
  for _ in 1 2; do
    openstack image create -f value -c id --container-format bare --disk-format qcow2 \
      --file "$repo/build/fixtures/disk.qcow2" "$name" || return 1
    sleep 1 # created_at has whole seconds
  done
  first=$(openstack image list --name "$name" -f value -c ID | head -n 1)
  out=$(playbook_with "{\"dup\": {\"name\": \"$name\", \"source_url\": \"$AZIMUTH_OPS_RELEASE_URL/fixtures/disk.qcow2\",
    \"checksum_sha512\": \"sha512:$AZIMUTH_OPS_QCOW2_SHA512\"}}" -e community_images_default_visibility=private 2>&1)
  local rc=$?
  echo "$out"
  echo "first listed: $first"
  [ "$rc" -eq 0 ] && grep -q "\"dup\": \"$first\"" <<<"$out" && grep -q "managing $first, the newest" <<<"$(flat "$out")"
}

# community_images_custom_properties win over a spec's properties for the same key.
custom_properties_win() {
  local out id
  out=$(playbook_with "{\"props\": {\"name\": \"azimuth-ops-props\", \"source_url\": \"$AZIMUTH_OPS_RELEASE_URL/fixtures/vmlinuz\",
    \"disk_format\": \"aki\", \"container_format\": \"aki\", \"properties\": [\"os_distro=from-spec\", \"os_version=12\"]}}" \
    -e '{"community_images_custom_properties": ["os_distro=from-custom", "site=demo"]}')
  local rc=$?
  echo "$out"
  [ "$rc" -eq 0 ] || return 1
  id=$(glance_ids azimuth-ops-props)
  out=$(openstack image show -f json -c properties "$id")
  echo "$out"
  grep -q '"os_distro": "from-custom"' <<<"$out" && grep -q '"os_version": "12"' <<<"$out" && grep -q '"site": "demo"' <<<"$out"
}

# Checksums in every form get_url takes, through the role: each algorithm, a checksum file over
# http and as a file URL; md5 and sha1 warn; a file without the source's entry fails, naming both.
checksum_forms() {
  local f=$repo/build/fixtures url=$AZIMUTH_OPS_RELEASE_URL/fixtures specs out algo
  specs="{"
  for algo in md5 sha1 sha224 sha256 sha384 sha512; do
    specs+="\"$algo\": {\"name\": \"azimuth-ops-sum-$algo\", \"source_url\": \"$url/vmlinuz\", \"disk_format\": \"aki\",
      \"container_format\": \"aki\", \"checksum\": \"$algo:$(${algo}sum "$f/vmlinuz" | cut -d' ' -f1)\"},"
  done
  specs+="\"sums_http\": {\"name\": \"azimuth-ops-sum-file-http\", \"source_url\": \"$url/vmlinuz\", \"disk_format\": \"aki\",
    \"container_format\": \"aki\", \"checksum\": \"sha256:$url/SHA256SUMS\"},"
  specs+="\"sums_file\": {\"name\": \"azimuth-ops-sum-file-local\", \"source_url\": \"$url/vmlinuz\", \"disk_format\": \"aki\",
    \"container_format\": \"aki\", \"checksum_sha512\": \"sha512:file://$f/SHA512SUMS\"}}"
  out=$(playbook_with "$specs" 2>&1)
  local rc=$?
  echo "$out"
  out=$(flat "$out")
  [ "$rc" -eq 0 ] && grep -q "md5: checksum md5:[0-9a-f]*: md5 is weak" <<<"$out" &&
    grep -q "sha1: checksum sha1:[0-9a-f]*: sha1 is weak" <<<"$out" && ! grep -q "sha256 is weak" <<<"$out" || return 1
  out=$(playbook_with "{\"missing\": {\"name\": \"azimuth-ops-sum-missing\", \"source_url\": \"$AZIMUTH_OPS_RELEASE_URL/openhpc-RL9-260818-0723-3f645271\",
    \"checksum\": \"sha256:$url/SHA256SUMS\"}}" 2>&1)
  echo "$out"
  grep -q "lists no sha256 checksum for .*openhpc-RL9-260818-0723-3f645271" <<<"$(flat "$out")" && [ -z "$(glance_ids azimuth-ops-sum-missing)" ]
}

# community_images_share_projects on the local Keystone cloud (scripts/cloud.sh): as project
# demo, an image of visibility shared is shared with project other and accepted there with
# other's own clouds.yaml entry; project other then lists it, and a second run changes nothing.
share_projects() {
  local work rc
  work=$(mktemp -d "${TMPDIR:-/tmp}/imageops-azimuth-ops-cloud.XXXXXX")
  chmod 755 "$work" # PostgreSQL runs as the postgres user, in $work/cloud
  "$repo/scripts/cloud.sh" start "$work/cloud" && (
    # shellcheck disable=SC1091 # written by cloud.sh start
    source "$work/cloud/env"
    unset REQUESTS_CA_BUNDLE CURL_CA_BUNDLE
    share_as_demo
  )
  rc=$?
  "$repo/scripts/cloud.sh" stop "$work/cloud" >/dev/null 2>&1
  rm -rf "$work"
  return "$rc"
}
share_as_demo() {
  local other spec share out id
  other=$(openstack --os-cloud admin project show other -f value -c id) || return 1
  spec="{\"community_images\": {\"shared\": {\"name\": \"azimuth-ops-shared\", \"source_url\": \"$AZIMUTH_OPS_RELEASE_URL/fixtures/vmlinuz\",
    \"disk_format\": \"aki\", \"container_format\": \"aki\"}}}"
  share="{\"community_images_default_visibility\": \"shared\", \"community_images_share_projects\": [{\"id\": \"$other\", \"key\": \"other\"}]}"
  out=$(OS_CLOUD=demo playbook imageops.cloud.community_images -e "$spec" -e "$share")
  echo "$out"
  id=$(grep -o '"shared": "[0-9a-f-]*"' <<<"$out" | cut -d'"' -f4)
  [ -n "$id" ] || return 1
  echo "other lists: $(openstack --os-cloud other image list -f value -c ID)"
  openstack --os-cloud other image list -f value -c ID | grep -qx "$id" || return 1
  [ "$(openstack --os-cloud demo image member list -f value -c Status "$id")" = accepted ] || return 1
  out=$(OS_CLOUD=demo playbook imageops.cloud.community_images -e "$spec" -e "$share")
  echo "$out"
  grep -Eq "$unchanged" <<<"$out"
}

step demo_first_run demo_first_run
step demo_second_run demo_second_run
step capi_mgmt capi_mgmt_runs
step manifest_given manifest_given
step nothing_wanted nothing_wanted
step manifest_errors manifest_errors
step upload_image upload_image
step azimuth_ops_converted azimuth_ops_converted
step newest_of_duplicates newest_of_duplicates
step custom_properties_win custom_properties_win
step checksum_forms checksum_forms
step share_projects share_projects
suite_finish azimuth_ops
