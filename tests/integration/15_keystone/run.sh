#!/usr/bin/env bash
# The local authenticated cloud (scripts/cloud.sh): PostgreSQL, Keystone and
# Glance behind TLS. Checks the cloud itself (every clouds.yaml entry
# authenticates, TLS needs the script's CA, the catalog, token lifetime,
# project isolation, web-download from loopback), then the modules against it
# (cloud_modules.sh). Starts one cloud for the whole suite and always stops it.
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
readonly repo
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly here
readonly python=/usr/bin/python3 # Debian's: yaml and requests are there
# shellcheck source=../lib.sh
source "$repo/tests/integration/lib.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/imageops-keystone.XXXXXX")
chmod 755 "$work" # PostgreSQL runs as the postgres user, in $work/cloud
suite_init "$work/logs"
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
  "$repo/scripts/cloud.sh" stop "$work/cloud" >/dev/null 2>&1 || true
  "$repo/scripts/serve.sh" stop "$work/serve" >/dev/null 2>&1 || true
  [ -n "${KEEP_LOGS:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Tokens of 60 s: the batch below outlives one. Not shorter: at a load of 30 on 2 cores
# Glance checked a token with Keystone over 20 s after Keystone issued it, and refused
# it as expired.
if ! IMAGEOPS_CLOUD_TOKEN_TTL=${IMAGEOPS_CLOUD_TOKEN_TTL:-60} "$repo/scripts/cloud.sh" start "$work/cloud" >"$work/start.log" 2>&1; then
  cat "$work/start.log" >&2
  echo "keystone: scripts/cloud.sh start failed"
  exit 1
fi
echo "ok   cloud started: $(tail -n 2 "$work/start.log" | head -n 1)"
# shellcheck disable=SC1091 # written by cloud.sh start
source "$work/cloud/env"
# REQUESTS_CA_BUNDLE and friends would make the CLI ignore the cloud's cacert.
unset REQUESTS_CA_BUNDLE CURL_CA_BUNDLE

# cloud_field CLOUD KEY: a value of CLOUD's auth in clouds.yaml.
cloud_field() {
  "$python" -c 'import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))["clouds"][sys.argv[2]]
print(c["auth"].get(sys.argv[3], ""))' "$OS_CLIENT_CONFIG_FILE" "$1" "$2"
}

# keystone_token CLOUD: prints "TOKEN PROJECT_ID" for a password cloud.
keystone_token() {
  local user password project
  user=$(cloud_field "$1" username)
  password=$(cloud_field "$1" password)
  project=$(cloud_field "$1" project_name)
  curl -s -i --cacert "$IMAGEOPS_CLOUD_CA" -H 'Content-Type: application/json' \
    "$IMAGEOPS_CLOUD_KEYSTONE_URL/auth/tokens" -d @- <<EOF | "$python" -c 'import json, sys
head, body = sys.stdin.read().split("\r\n\r\n", 1)
token = [l.split(":", 1)[1].strip() for l in head.split("\r\n") if l.lower().startswith("x-subject-token:")][0]
print(token, json.loads(body)["token"]["project"]["id"])'
{"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "$user",
 "domain": {"id": "default"}, "password": "$password"}}},
 "scope": {"project": {"name": "$project", "domain": {"id": "default"}}}}}
EOF
}

every_cloud_authenticates() {
  local cloud project want projects
  projects=$(openstack --os-cloud admin project list -f value -c ID -c Name) || return 1
  for cloud in admin demo other appcred; do
    project=$(openstack --os-cloud "$cloud" token issue -f value -c project_id) || return 1
    want=$(awk -v name="${cloud/appcred/demo}" '$2 == name {print $1}' <<<"$projects")
    echo "$cloud: project $project (want $want)"
    [ -n "$project" ] && [ "$project" = "$want" ] || return 1
  done
}
step every_cloud_authenticates every_cloud_authenticates

tls_needs_the_ca() {
  local url
  for url in "$IMAGEOPS_CLOUD_KEYSTONE_URL" "$IMAGEOPS_CLOUD_GLANCE_URL/versions"; do
    if curl -s -o /dev/null --cacert /etc/ssl/certs/ca-certificates.crt "$url"; then
      echo "$url accepted without the cloud's CA"
      return 1
    fi
    curl -sf -o /dev/null --cacert "$IMAGEOPS_CLOUD_CA" "$url" || return 1
    case $url in http://*) return 1 ;; esac
  done
}
step tls_needs_the_ca tls_needs_the_ca

catalog_has_public_image_endpoint_only() {
  local endpoints
  endpoints=$(openstack --os-cloud admin endpoint list --service image -f value -c Region -c Interface -c URL)
  echo "$endpoints"
  [ "$endpoints" = "RegionOne public $IMAGEOPS_CLOUD_GLANCE_URL" ] &&
    openstack --os-cloud admin region show RegionTwo >/dev/null
}
step catalog_has_public_image_endpoint_only catalog_has_public_image_endpoint_only

tokens_are_short_lived() {
  "$python" - "$IMAGEOPS_CLOUD_TOKEN_TTL" <<EOF
import datetime, json, subprocess, sys
out = subprocess.run(["openstack", "--os-cloud", "demo", "token", "issue", "-f", "json"],
                     check=True, capture_output=True, text=True).stdout
expires = datetime.datetime.fromisoformat(json.loads(out)["expires"].replace("Z", "+00:00"))
left = (expires - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
print(f"token expires in {left:.0f} s, TTL {sys.argv[1]} s")
sys.exit(0 if 0 < left <= int(sys.argv[1]) else 1)
EOF
}
step tokens_are_short_lived tokens_are_short_lived

# glance_call CLOUD METHOD PATH [curl args]: Glance's answer, with a token of CLOUD.
glance_call() {
  local token
  token=$(keystone_token "$1" | cut -d' ' -f1)
  curl -s --cacert "$IMAGEOPS_CLOUD_CA" -H "X-Auth-Token: $token" -X "$2" "$IMAGEOPS_CLOUD_GLANCE_URL$3" "${@:4}"
}

projects_are_isolated() {
  local demo_project id image seen
  demo_project=$(keystone_token demo | cut -d' ' -f2)
  image=$(glance_call demo POST /v2/images -H 'Content-Type: application/json' \
    -d '{"name": "isolation", "disk_format": "raw", "container_format": "bare"}')
  id=$("$python" -c 'import json, sys; print(json.load(sys.stdin)["id"])' <<<"$image") || return 1
  glance_call demo PUT "/v2/images/$id/file" -H 'Content-Type: application/octet-stream' --data-binary @/etc/os-release
  image=$(glance_call demo GET "/v2/images/$id")
  echo "$image"
  "$python" -c 'import json, sys
i = json.load(sys.stdin)
sys.exit(0 if i["owner"] == sys.argv[1] and i["status"] == "active" and i["visibility"] == "shared" else 1)' "$demo_project" <<<"$image" || return 1
  seen=$(glance_call other GET "/v2/images/$id" -o /dev/null -w '%{http_code}')
  echo "other project GET: $seen"
  [ "$seen" = 404 ]
}
step projects_are_isolated projects_are_isolated

web_download_from_loopback() {
  local url id image want
  mkdir -p "$work/serve"
  head -c 1048576 /dev/urandom >"$work/serve/blob.raw"
  url=$("$repo/scripts/serve.sh" start "$work/serve") || return 1
  image=$(glance_call demo POST /v2/images -H 'Content-Type: application/json' \
    -d '{"name": "web-download", "disk_format": "raw", "container_format": "bare"}')
  id=$("$python" -c 'import json, sys; print(json.load(sys.stdin)["id"])' <<<"$image") || return 1
  glance_call demo POST "/v2/images/$id/import" -H 'Content-Type: application/json' \
    -d "{\"method\": {\"name\": \"web-download\", \"uri\": \"$url/blob.raw\"}}" -f || return 1
  want=$(sha512sum "$work/serve/blob.raw" | cut -d' ' -f1)
  # Glance's import runs in the background: generous, for a loaded machine.
  wait_for 300 "image $id active" image_active "$id"
  image=$(glance_call demo GET "/v2/images/$id")
  echo "$image"
  grep -q "\"os_hash_value\": \"$want\"" <<<"$image"
}
image_active() {
  local image
  image=$(glance_call demo GET "/v2/images/$1")
  grep -q '"status": "active"' <<<"$image"
}
step web_download_from_loopback web_download_from_loopback

if [ -f "$here/cloud_modules.sh" ]; then
  # shellcheck source=/dev/null # optional, and not always there
  source "$here/cloud_modules.sh"
fi

stop_closes_every_port() {
  local ports port
  ports=$(grep -ho '127.0.0.1:[0-9]*' "$work/cloud/etc/nginx.conf" | cut -d: -f2 | sort -u)
  ports="$ports $(grep -o '@127.0.0.1:[0-9]*' "$work/cloud/etc/keystone.conf" | cut -d: -f2)"
  "$repo/scripts/cloud.sh" stop "$work/cloud" || return 1
  for port in $ports; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "port $port still open"
      return 1
    fi
  done
  echo "closed: $ports"
  "$repo/scripts/cloud.sh" stop "$work/cloud" && { "$repo/scripts/cloud.sh" status "$work/cloud"; [ $? = 3 ]; }
}
step stop_closes_every_port stop_closes_every_port

suite_finish keystone
