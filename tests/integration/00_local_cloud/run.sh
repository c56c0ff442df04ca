#!/usr/bin/env bash
# The local cloud the other suites run against: scripts/glance.sh starts a
# Glance that answers and takes a public image upload, scripts/fixtures.sh
# builds images qemu-img recognises, and stopping Glance closes its port.
# Starts its own Glance in a temporary STATE_DIR and always stops it.
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
readonly repo
readonly python=/usr/bin/python3 # Debian's, a dependency of glance-api

passed=0
failed=0
pass() {
  echo "ok - $1"
  passed=$((passed + 1))
}
fail() {
  echo "not ok - $1" >&2
  failed=$((failed + 1))
}

state=$(mktemp -d "${TMPDIR:-/tmp}/imageops-local-cloud.XXXXXX")
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
  "$repo/scripts/glance.sh" stop "$state/glance" >/dev/null 2>&1 || true
  rm -rf "$state"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# json_field FIELD: FIELD of the JSON object on stdin ("" when missing or null).
json_field() {
  "$python" -c 'import json, sys
v = json.load(sys.stdin).get(sys.argv[1])
print("" if v is None else v)' "$1"
}

finish() {
  echo "local_cloud: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit
}

# 1. Glance starts and answers GET /v2/images.
if "$repo/scripts/glance.sh" start "$state/glance"; then
  # shellcheck disable=SC1091 # written by glance.sh start
  source "$state/glance/env"
  code=$(curl --noproxy '*' -s -o /dev/null -w '%{http_code}' "$IMAGEOPS_GLANCE_URL/v2/images")
  if [ "$code" = 200 ]; then
    pass "glance answers GET /v2/images at $IMAGEOPS_GLANCE_URL"
  else
    fail "GET $IMAGEOPS_GLANCE_URL/v2/images answered $code, want 200"
  fi
else
  fail "scripts/glance.sh start $state/glance"
  finish
fi

# 2. Fixtures: real images that qemu-img recognises, with matching checksums.
fixtures=$repo/build/fixtures
if "$repo/scripts/fixtures.sh" "$fixtures" >/dev/null; then
  qcow2=$(qemu-img info --output=json "$fixtures/disk.qcow2" | json_field format)
  raw=$(qemu-img info --output=json -f raw "$fixtures/disk.raw" | json_field format)
  probed=$(qemu-img info --output=json "$fixtures/disk.raw" | json_field format)
  if [ "$qcow2" = qcow2 ] && [ "$raw" = raw ] && [ "$probed" = raw ] &&
    (cd "$fixtures" && sha256sum --quiet -c SHA256SUMS && sha512sum --quiet -c SHA512SUMS); then
    pass "fixtures: disk.qcow2 is qcow2, disk.raw is raw, checksums match"
  else
    fail "fixtures: disk.qcow2 is '$qcow2', disk.raw is '$probed', or a checksum differs"
  fi
else
  fail "scripts/fixtures.sh $fixtures"
fi

# 3. A public image: create, upload, active with Glance's sha512 of the data.
file=$fixtures/disk.qcow2
[ -s "$file" ] || file=/usr/share/common-licenses/GPL-3
image=$(curl --noproxy '*' -s -X POST "$IMAGEOPS_GLANCE_URL/v2/images" -H 'Content-Type: application/json' \
  -d '{"name": "local-cloud-test", "disk_format": "qcow2", "container_format": "bare", "visibility": "public"}')
id=$(json_field id <<<"$image" 2>/dev/null)
if [ -z "$id" ]; then
  fail "creating a public image: $image"
else
  code=$(curl --noproxy '*' -s -o /dev/null -w '%{http_code}' -X PUT "$IMAGEOPS_GLANCE_URL/v2/images/$id/file" \
    -H 'Content-Type: application/octet-stream' --data-binary "@$file")
  image=$(curl --noproxy '*' -s "$IMAGEOPS_GLANCE_URL/v2/images/$id")
  status=$(json_field status <<<"$image")
  visibility=$(json_field visibility <<<"$image")
  algo=$(json_field os_hash_algo <<<"$image")
  hash=$(json_field os_hash_value <<<"$image")
  want=$(sha512sum "$file" | cut -d' ' -f1)
  if [ "$code" = 204 ] && [ "$status" = active ] && [ "$visibility" = public ] &&
    [ "$algo" = sha512 ] && [ "$hash" = "$want" ]; then
    pass "public image $id uploaded: active, os_hash_value is the sha512 of $(basename "$file")"
  else
    fail "upload answered $code; image is $status, $visibility, $algo:$hash (want active, public, sha512:$want)"
  fi

  # 4. The clouds.yaml works for the openstack CLI (the benchmarks' baseline),
  #    and deleting the image removes it.
  listed=$(openstack image list -f value -c ID 2>&1)
  deleted=$(curl --noproxy '*' -s -o /dev/null -w '%{http_code}' -X DELETE "$IMAGEOPS_GLANCE_URL/v2/images/$id")
  gone=$(curl --noproxy '*' -s -o /dev/null -w '%{http_code}' "$IMAGEOPS_GLANCE_URL/v2/images/$id")
  if [ "$listed" = "$id" ] && [ "$deleted" = 204 ] && [ "$gone" = 404 ]; then
    pass "openstack --os-cloud $OS_CLOUD lists the image; DELETE removes it"
  else
    fail "openstack image list said '$listed'; DELETE answered $deleted, GET afterwards $gone (want $id, 204, 404)"
  fi
fi

# 5. Stopping Glance closes its port.
port=${IMAGEOPS_GLANCE_URL##*:}
"$repo/scripts/glance.sh" stop "$state/glance" >/dev/null
if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
  fail "port $port still accepts connections after glance.sh stop"
elif ! "$repo/scripts/glance.sh" stop "$state/glance" >/dev/null; then
  fail "a second glance.sh stop failed"
else
  pass "glance.sh stop closed port $port (and stopping again is fine)"
fi

finish
