#!/usr/bin/env bash
# The community_images role as a drop-in for azimuth-ops', through ansible-playbook, against a
# real local Glance: an azimuth-images release (manifest.json and real qcow2 images) served on
# loopback, and sites configured as azimuth-config's documentation and environments configure
# them (config/environments: base, demo, capi-mgmt, the site's own mirror URLs, and custom:
# the documentation's properties and extra image), run as they are. The controller's OS_CLOUD
# and OS_CLIENT_CONFIG_FILE name the cloud, as azimuth-config's activate script exports them.
# Then, on the local Keystone cloud (scripts/cloud.sh, projects demo and other): sharing, the
# role on a remote host over SSH (lib.sh's sshd), other projects' trusted community images,
# and an image azimuth-ops converted to raw.
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
  sshd_stop "$state/ssh"
  if [ -s "$state/cloud_dir" ]; then
    "$repo/scripts/cloud.sh" stop "$(cat "$state/cloud_dir")/cloud" >/dev/null 2>&1
    rm -rf "$(cat "$state/cloud_dir")" "$state/cloud_dir"
  fi
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
# A site's additions as azimuth-config's documentation writes them (environments/custom):
# community_images_custom_properties on every image, community_images_extra's debian_11
# beside the default set, and an ID used elsewhere. The images that exist get the
# properties (none is uploaded again); a second run changes nothing.
site_additions() {
  local out keys props
  keys='{"expected_keys": ["kube_1_34", "kube_1_35", "repo2docker", "workstation", "rstudio", "openhpc", "debian_11"]}'
  props='{"expected_properties": {"prop1": "value1", "prop2": "value2"}}'
  out=$(site_playbook demo -i "$envs/custom/inventory" "$here/consumers.yml" -e "$keys" -e "$props" \
    -e ids_file="$state/custom_ids.json") || { echo "$out"; return 1; }
  echo "$out"
  python3 - "$state/demo_ids.json" "$state/custom_ids.json" <<'EOF' || return 1
import json, sys
before, after = (json.load(open(path)) for path in sys.argv[1:])
print("before:", before, "\nafter:", after)
assert {k: v for k, v in after.items() if k != "debian_11"} == before, "the default images' IDs changed"
EOF
  out=$(site_playbook demo -i "$envs/custom/inventory" "$here/consumers.yml" -e "$keys" -e "$props")
  local rc=$?
  echo "$out"
  [ "$rc" -eq 0 ] && grep -Eq "$unchanged" <<<"$out"
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

step demo_first_run demo_first_run
step demo_second_run demo_second_run
step capi_mgmt capi_mgmt_runs
step manifest_given manifest_given
step nothing_wanted nothing_wanted
step manifest_errors manifest_errors
step site_additions site_additions
step upload_image upload_image
step newest_of_duplicates newest_of_duplicates
step custom_properties_win custom_properties_win
step checksum_forms checksum_forms

# --- the local Keystone cloud (scripts/cloud.sh): projects demo and other, TLS, real credentials ---
cloud_start() {
  local dir
  dir=$(mktemp -d "${TMPDIR:-/tmp}/imageops-azimuth-ops-cloud.XXXXXX") && echo "$dir" >"$state/cloud_dir" || return 1
  chmod 755 "$dir" # PostgreSQL runs as the postgres user, in $dir/cloud
  # Tokens outlive a step: the consumers' own reads of Glance use one.
  IMAGEOPS_CLOUD_TOKEN_TTL=900 "$repo/scripts/cloud.sh" start "$dir/cloud"
}
step cloud_start cloud_start
# shellcheck disable=SC1091 # written by cloud.sh start; OS_CLOUD is demo
source "$(cat "$state/cloud_dir")/cloud/env" || { suite_finish azimuth_ops; exit 1; }
unset REQUESTS_CA_BUNDLE CURL_CA_BUNDLE

# cloud_images NAME: "ID visibility project" of every image of that name, in every project.
cloud_images() { openstack --os-cloud admin image list --all --long --name "$1" -f value -c ID -c Project -c Visibility; }
project_id() { openstack --os-cloud admin project show "$1" -f value -c id; }
# The recap of a run on HOST that changed nothing and did not fail.
unchanged_on() { echo "$1 +: ok=[0-9]+ +changed=0 +unreachable=0 +failed=0"; }

# community_images_share_projects: as project demo, an image of visibility shared is shared
# with project other and accepted there with other's own clouds.yaml entry; project other
# then lists it, and a second run changes nothing.
share_projects() {
  local other spec share out id
  other=$(project_id other) || return 1
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

# The role on a remote host, as azimuth-ops runs it on the seed (hosts: k3s, facts gathered):
# over SSH to a real sshd on 127.0.0.1 whose sessions have their own HOME, with the
# application credential that the controller's OS_CLOUD and OS_CLIENT_CONFIG_FILE name, as
# azimuth-config's activate script exports them. The controller's clouds.yaml is copied to
# ~/.config/openstack/clouds.yaml there (mode 0600); the manifest is read, and the images
# downloaded and uploaded, by the module on that host, under that file; the consumers find
# every key; no secret of the clouds.yaml (nor the test's token) is in the output at -vvv
# --diff; a second run changes nothing.
remote_playbook() { # ansible-playbook arguments
  OS_CLOUD=appcred IMAGEOPS_GLANCE_URL=$IMAGEOPS_CLOUD_GLANCE_URL IMAGEOPS_GLANCE_TOKEN=$remote_token \
    site_playbook demo -i "$state/ssh/inventory.yml" --limit seed "$here/consumers.yml" -e "$demo_keys" "$@"
}
remote_host() {
  local home=$state/ssh/home copied out rc secret demo
  copied=$home/.config/openstack/clouds.yaml
  sshd_start "$state/ssh" || return 1
  printf 'all:\n  children:\n    k3s:\n      hosts:\n        seed:\n%s\n' \
    "$(sshd_host_vars "$state/ssh" | sed 's/^/          /')" >"$state/ssh/inventory.yml"
  remote_token=$(openstack --os-cloud appcred token issue -f value -c id) && demo=$(project_id demo) || return 1
  out=$(remote_playbook -e ids_file="$state/remote_ids.json" -vvv --diff 2>&1)
  rc=$?
  echo "$out"
  [ "$rc" -eq 0 ] && grep -Eq 'seed +: ok=[0-9]+ +changed=[1-9][0-9]* +unreachable=0 +failed=0' <<<"$out" || return 1
  # The copy: the controller's file, mode 0600, in the remote HOME.
  echo "copied: $(stat -c '%a %n' "$copied")"
  [ "$(stat -c %a "$copied")" = 600 ] && cmp "$OS_CLIENT_CONFIG_FILE" "$copied" || return 1
  # The module ran over SSH on the seed, told to read the copy, from the binary kept in the
  # seed's cache (the plugin runs the cached copy in one command with the args on stdin; with
  # become or async, Ansible's own way, from a link in the task's directory).
  grep -Eo "OS_CLIENT_CONFIG_FILE=$copied (\"\\\$f\" /dev/stdin|[^ ]*/AnsiballZ_imageops_linux_[a-z0-9]+ )" <<<"$out" | sort -u
  grep -Eq "OS_CLIENT_CONFIG_FILE=$copied (\"\\\$f\" /dev/stdin|[^ ]*/AnsiballZ_imageops_linux_[a-z0-9]+ )" <<<"$out" &&
    ls "$home"/.ansible/tmp/imageops.cloud-cache/imageops-* || return 1
  # Every image is demo's (the application credential's project); the work directory is empty.
  python3 -c 'import json, sys; print("\n".join(json.load(open(sys.argv[1])).values()))' "$state/remote_ids.json" >"$state/remote_ids" &&
    [ "$(wc -l <"$state/remote_ids")" -eq 6 ] || return 1
  while read -r id; do
    [ "$(openstack --os-cloud admin image show -f value -c owner "$id")" = "$demo" ] || { echo "$id is not demo's"; return 1; }
  done <"$state/remote_ids"
  [ -d "$home/images" ] && [ -z "$(ls -A "$home/images")" ] || { echo "work directory: $(ls -A "$home/images")"; return 1; }
  # No secret of the clouds.yaml, nor the token, anywhere in the output.
  while read -r secret; do
    if grep -qF -- "$secret" <<<"$out"; then echo "a secret of the clouds.yaml is in the output"; return 1; fi
  done < <(python3 -c 'import sys, yaml
for cloud in yaml.safe_load(open(sys.argv[1]))["clouds"].values():
    for key in ("password", "application_credential_secret"):
        if cloud.get("auth", {}).get(key):
            print(cloud["auth"][key])' "$OS_CLIENT_CONFIG_FILE"; echo "$remote_token")
  out=$(remote_playbook 2>&1)
  echo "$out"
  grep -Eq "$(unchanged_on seed)" <<<"$out"
}

# community_images_use_existing_trusted_community_images with another project's community
# image of the same data (as project other's own azimuth-ops uploaded it: openstack image
# create, qcow2 as it came). True (the default): project demo uses it read only, its ID is
# handed back, nothing changes (it, or in demo). False: demo uploads its own. Then demo's
# own image wins over other's.
trusted_community_images() {
  local name=azimuth-ops-trusted theirs before out ours demo other spec
  demo=$(project_id demo) && other=$(project_id other) || return 1
  theirs=$(openstack --os-cloud other image create -f value -c id --community --container-format bare \
    --disk-format qcow2 --file "$repo/build/fixtures/disk.qcow2" "$name") || return 1
  before=$(openstack --os-cloud admin image show -f json "$theirs")
  spec="{\"community_images\": {\"trusted\": {\"name\": \"$name\", \"source_url\": \"$AZIMUTH_OPS_RELEASE_URL/fixtures/disk.qcow2\",
    \"checksum\": \"sha256:$(sha256sum "$repo/build/fixtures/disk.qcow2" | cut -d' ' -f1)\",
    \"checksum_sha512\": \"sha512:$AZIMUTH_OPS_QCOW2_SHA512\", \"source_disk_format\": \"qcow2\", \"container_format\": \"bare\"}}}"
  out=$(OS_CLOUD=demo playbook imageops.cloud.community_images -e "$spec" 2>&1)
  echo "$out"
  grep -q "\"trusted\": \"$theirs\"" <<<"$out" && grep -Eq "$unchanged" <<<"$out" &&
    grep -q "of project $other (visibility community) read only" <<<"$(flat "$out")" || return 1
  echo "images named $name: $(cloud_images "$name")"
  [ "$(cloud_images "$name")" = "$theirs community $other" ] &&
    [ "$(openstack --os-cloud admin image show -f json "$theirs")" = "$before" ] || return 1
  out=$(OS_CLOUD=demo playbook imageops.cloud.community_images -e "$spec" -e community_images_use_existing_trusted_community_images=false)
  echo "$out"
  ours=$(grep -o '"trusted": "[0-9a-f-]*"' <<<"$out" | cut -d'"' -f4)
  echo "images named $name: $(cloud_images "$name")"
  [ -n "$ours" ] && [ "$ours" != "$theirs" ] && grep -qx "$ours community $demo" <<<"$(cloud_images "$name")" &&
    [ "$(openstack --os-cloud admin image show -f json "$theirs")" = "$before" ] || return 1
  out=$(OS_CLOUD=demo playbook imageops.cloud.community_images -e "$spec")
  echo "$out"
  grep -q "\"trusted\": \"$ours\"" <<<"$out" && grep -Eq "$unchanged" <<<"$out"
}

# As azimuth-ops uploads an image to a cloud that wants raw, in project demo: curl, qemu-img
# convert, openstack image create, then its default visibility (community). The role, as
# demo, says why it cannot verify it (community_images_insecure_skip_glance_verify false), and
# adopts it (same ID, nothing uploaded) when it is true. Project other, trusting verified
# community images, does not take it (nothing verifies it): it uploads its own.
azimuth_ops_converted() {
  local name=azimuth-ops-converted-raw work="$state/azimuth-ops-work" id out spec demo other theirs
  demo=$(project_id demo) && other=$(project_id other) || return 1
  mkdir -p "$work"
  curl -fsS -o "$work/$name.download" "$AZIMUTH_OPS_RELEASE_URL/fixtures/disk.qcow2" &&
    qemu-img convert -f qcow2 -O raw "$work/$name.download" "$work/$name.convert" &&
    id=$(openstack --os-cloud demo image create -f value -c id --container-format bare --disk-format raw \
      --file "$work/$name.convert" "$name") &&
    openstack --os-cloud demo image set --community "$id" || return 1
  rm -rf "$work"
  spec="{\"conv\": {\"name\": \"$name\", \"source_url\": \"$AZIMUTH_OPS_RELEASE_URL/fixtures/disk.qcow2\",
    \"checksum\": \"sha256:$(sha256sum "$repo/build/fixtures/disk.qcow2" | cut -d' ' -f1)\",
    \"checksum_sha512\": \"sha512:$AZIMUTH_OPS_QCOW2_SHA512\", \"source_disk_format\": \"qcow2\",
    \"container_format\": \"bare\"}}"
  out=$(OS_CLOUD=demo playbook_with "$spec" -e community_images_disk_format=raw -e community_images_default_visibility=community 2>&1)
  echo "$out"
  out=$(flat "$out")
  grep -q "carries no imageops_source_sha512 property, so it was uploaded by another tool" <<<"$out" &&
    grep -q "set insecure_skip_glance_verify: true (community_images_insecure_skip_glance_verify)" <<<"$out" || return 1
  out=$(OS_CLOUD=demo playbook_with "$spec" -e community_images_disk_format=raw -e community_images_default_visibility=community \
    -e community_images_insecure_skip_glance_verify=true)
  echo "$out"
  echo "images named $name: $(cloud_images "$name")"
  grep -q "\"conv\": \"$id\"" <<<"$out" && [ "$(cloud_images "$name")" = "$id community $demo" ] || return 1
  out=$(OS_CLOUD=other playbook_with "$spec" -e community_images_disk_format=raw -e community_images_default_visibility=community)
  echo "$out"
  theirs=$(grep -o '"conv": "[0-9a-f-]*"' <<<"$out" | cut -d'"' -f4)
  echo "images named $name: $(cloud_images "$name")"
  [ -n "$theirs" ] && [ "$theirs" != "$id" ] && grep -qx "$theirs [a-z]* $other" <<<"$(cloud_images "$name")"
}

step share_projects share_projects
step remote_host remote_host
step trusted_community_images trusted_community_images
step azimuth_ops_converted azimuth_ops_converted
suite_finish azimuth_ops
