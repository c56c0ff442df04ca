# The modules against the real Keystone + Glance of run.sh (sourced by it,
# after the cloud checks): every kind of credentials, the failures each with
# a clear message, owner scoping (an admin never changes another project's
# image), other projects' images used read only once verified, a member's
# public image refused, secrets never in -vvv output, a token that expires
# during a batch or before an upload reaches Glance, image_cleaner and
# image_deployer scoped to their project (or owner), Glance's import
# (web-download, glance-direct, failures, import_timeout, a sha256 checksum).
# shellcheck shell=bash
# shellcheck disable=SC2154 # repo, work, python, here: set by run.sh, which sources this file

export ANSIBLE_COLLECTIONS_PATH="$repo/build/collections"
images_dir=$work/serve
mkdir -p "$images_dir"
head -c 3145728 /dev/urandom >"$images_dir/a.raw"
head -c 2097152 /dev/urandom >"$images_dir/b.raw"
serve_url=$("$repo/scripts/serve.sh" start "$images_dir")
sha512_a=$(sha512sum "$images_dir/a.raw" | cut -d' ' -f1)
sha512_b=$(sha512sum "$images_dir/b.raw" | cut -d' ' -f1)
sha256_a=$(sha256sum "$images_dir/a.raw" | cut -d' ' -f1)

# source_start SECONDS: source_server.py on a port it picks, serving images_dir,
# each answer spread over SECONDS; sets source_pid, and source_url once it listens.
source_start() {
  local out=$work/source-server.out
  : >"$out"
  "$python" "$here/source_server.py" 0 "$images_dir" "$1" >"$out" 2>&1 &
  source_pid=$!
  wait_for 60 "source_server.py listening" source_listening "$out" || { cat "$out"; kill "$source_pid"; return 1; }
  source_url=$(sed -n 's/^listening on //p' "$out")
  [ -n "$source_url" ] || { echo "source_server.py exited: $(cat "$out")"; return 1; }
}
source_listening() { grep -q '^listening on ' "$1" || ! kill -0 "$source_pid" 2>/dev/null; }

# module NAME ARGS_JSON [ansible args...]: runs an imageops.cloud module on
# localhost with the JSON callback; prints the task's result as JSON.
module() {
  local name=$1 args=$2
  shift 2
  ANSIBLE_STDOUT_CALLBACK=json ANSIBLE_LOAD_CALLBACK_PLUGINS=1 \
    ansible localhost -c local -m "imageops.cloud.$name" -a "$args" "$@" 2>&1 |
    "$python" -c 'import json, sys
text = sys.stdin.read()
try:
    doc = json.loads(text[text.index("{"):])
    print(json.dumps(doc["plays"][0]["tasks"][0]["hosts"]["localhost"]))
except Exception:
    print(text)
    sys.exit(1)'
}

# field JSON EXPR: a Python expression over the result r.
field() { "$python" -c 'import json, sys; r = json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"; }

image_args() { # NAME FILE SHA512 [extra JSON members]
  printf '{"name": "%s", "source_url": "%s/%s", "checksum_sha512": "%s", "disk_format": "raw", "visibility": "community"%s}' \
    "$1" "$serve_url" "$2" "$3" "${4:+, $4}"
}

every_kind_of_credentials() {
  local demo_pw r id first=
  demo_pw=$(cloud_field demo password)
  for cloud_args in '"cloud": "demo"' \
    "\"cloud\": \"demo-noauth\", \"auth\": {\"password\": \"$demo_pw\"}" \
    '"cloud": "appcred"' \
    TOKEN; do
    # Tokens live IMAGEOPS_CLOUD_TOKEN_TTL seconds: a fresh one for its run.
    [ "$cloud_args" = TOKEN ] && cloud_args="\"cloud\": \"keystone\", \"auth_type\": \"token\", \"auth\": {\"token\": \"$(keystone_token demo | cut -d' ' -f1)\", \"project_name\": \"demo\", \"project_domain_name\": \"Default\"}"
    r=$(module community_image "$(image_args creds a.raw "$sha512_a" "$cloud_args")") || { echo "$r"; return 1; }
    id=$(field "$r" 'r.get("id", "")')
    echo "${cloud_args%%,*}: changed $(field "$r" 'r.get("changed")') id $id failed $(field "$r" 'r.get("failed", False)')"
    [ "$(field "$r" 'r.get("failed", False)')" = False ] && [ -n "$id" ] || { echo "$r"; return 1; }
    # The first uploads; the others find the same image in demo's project.
    if [ -z "$first" ]; then first=$id; else [ "$id" = "$first" ] && [ "$(field "$r" 'r["changed"]')" = False ] || return 1; fi
  done
}
step every_kind_of_credentials every_kind_of_credentials

# fails_with ARGS_JSON TEXT...: the module fails and its msg holds every TEXT.
fails_with() {
  local r msg text
  r=$(module community_image "$1")
  shift
  msg=$(field "$r" 'r.get("msg", "")')
  echo "msg: $msg"
  [ "$(field "$r" 'r.get("failed", False)')" = True ] || return 1
  for text in "$@"; do grep -qF -- "$text" <<<"$msg" || { echo "missing: $text"; return 1; }; done
}

failures_are_clear() {
  local args
  args=$(image_args failing a.raw "$sha512_a" '"cloud": "demo", "auth": {"password": "wrong-password-4711"}')
  fails_with "$args" 'authenticating to cloud "demo"' 'Keystone refused the credentials (401' || return 1
  fails_with "$(image_args failing a.raw "$sha512_a" '"cloud": "nosuchcloud"')" 'cloud "nosuchcloud" not found in' || return 1
  fails_with "$(image_args failing a.raw "$sha512_a" '"cloud": "demo", "auth": {"auth_url": "https://127.0.0.1:9/v3"}')" \
    'authenticating to cloud "demo"' 'Keystone does not answer' || return 1
  fails_with "$(image_args failing a.raw "$sha512_a" '"cloud": "demo", "region_name": "RegionTwo"')" \
    'image endpoint of cloud "demo"' 'no image endpoint with interface public in region "RegionTwo"' \
    "the catalog offers image endpoints: public in RegionOne ($IMAGEOPS_CLOUD_GLANCE_URL)" || return 1
  fails_with "$(image_args failing a.raw "$sha512_a" '"cloud": "demo", "interface": "internal"')" \
    'no image endpoint with interface internal in region "RegionOne"' "public in RegionOne" || return 1
  fails_with "$(image_args failing a.raw "$sha512_a" "\"cloud\": \"demo\", \"ca_cert\": \"/etc/ssl/certs/ca-certificates.crt\"")" \
    'TLS certificate is not signed by a trusted CA' || return 1
  local r
  r=$(module community_image "$(image_args creds a.raw "$sha512_a" '"cloud": "demo", "ca_cert": "/etc/ssl/certs/ca-certificates.crt", "validate_certs": false')")
  echo "validate_certs false: $r"
  [ "$(field "$r" 'r.get("failed", False)')" = False ] && [ "$(field "$r" 'r["changed"]')" = False ]
}
step failures_are_clear failures_are_clear

member_cannot_publicize() {
  fails_with "$(image_args member-public a.raw "$sha512_a" '"cloud": "demo", "visibility": "public"')" \
    'You are not authorized to complete publicize_image action' 'Forbidden' '[cloud "demo"' \
    'Glance lets only admins make an image public' || return 1
  local left
  left=$(openstack --os-cloud demo image list --name member-public -f value -c ID)
  echo "left in Glance: '$left'"
  [ -z "$left" ]
}
step member_cannot_publicize member_cannot_publicize

admin_never_changes_another_projects_image() {
  local other_id before after r id
  # other's private image of the name, with other data.
  r=$(module community_image "$(image_args contested b.raw "$sha512_b" '"cloud": "other", "visibility": "private"')")
  other_id=$(field "$r" 'r.get("id", "")')
  [ -n "$other_id" ] || { echo "$r"; return 1; }
  before=$(openstack --os-cloud admin image show "$other_id" -f json -c visibility -c updated_at -c name)
  r=$(module community_image "$(image_args contested a.raw "$sha512_a" '"cloud": "admin"')")
  id=$(field "$r" 'r.get("id", "")')
  after=$(openstack --os-cloud admin image show "$other_id" -f json -c visibility -c updated_at -c name)
  echo "other's $other_id before $before after $after; admin's run: $r"
  [ -n "$id" ] && [ "$id" != "$other_id" ] && [ "$before" = "$after" ] && grep -q '"private"' <<<"$after" &&
    [ "$(field "$r" 'r["uploaded"]')" = True ] || return 1
  # With owner naming other, admin manages other's image (by project name).
  r=$(module community_image "$(image_args contested b.raw "$sha512_b" '"cloud": "admin", "owner": "other", "visibility": "private"')")
  echo "with owner other: $r"
  [ "$(field "$r" 'r.get("id", "")')" = "$other_id" ] && [ "$(field "$r" 'r["changed"]')" = False ]
}
step admin_never_changes_another_projects_image admin_never_changes_another_projects_image

other_projects_images_read_only() {
  local r other_id id before after
  # other publishes a community image of a.raw (both checksums: both are recorded).
  r=$(module community_image "$(image_args published a.raw "$sha512_a" "\"cloud\": \"other\", \"checksum\": \"sha256:$sha256_a\", \"properties\": {\"site\": \"other\"}")")
  other_id=$(field "$r" 'r.get("id", "")')
  before=$(openstack --os-cloud admin image show "$other_id" -f json)
  # demo asks for the same data with other properties: other's image serves, unchanged.
  r=$(module community_image "$(image_args published a.raw "$sha512_a" '"cloud": "demo", "properties": {"site": "demo"}, "visibility": "public"')")
  id=$(field "$r" 'r.get("id", "")')
  after=$(openstack --os-cloud admin image show "$other_id" -f json)
  echo "demo's run: $r"
  [ "$id" = "$other_id" ] && [ "$(field "$r" 'r["changed"]')" = False ] && [ "$before" = "$after" ] &&
    grep -q 'read only' <<<"$r" || return 1
  # With only a sha256 checksum the provenance property verifies it.
  r=$(module community_image "{\"cloud\": \"demo\", \"name\": \"published\", \"source_url\": \"$serve_url/a.raw\", \"checksum\": \"sha256:$sha256_a\", \"disk_format\": \"raw\"}")
  echo "sha256 only: $r"
  [ "$(field "$r" 'r.get("id", "")')" = "$other_id" ] || return 1
  # Other data under the name (b.raw's checksum): not verified, demo uploads its own.
  r=$(module community_image "$(image_args published b.raw "$sha512_b" '"cloud": "demo"')")
  id=$(field "$r" 'r.get("id", "")')
  echo "other data: $r"
  [ -n "$id" ] && [ "$id" != "$other_id" ] && [ "$(field "$r" 'r["uploaded"]')" = True ]
}
step other_projects_images_read_only other_projects_images_read_only

secrets_never_in_verbose_output() {
  local token demo_pw appcred_secret admin_pw out secret
  demo_pw=$(cloud_field demo password)
  admin_pw=$(cloud_field admin password)
  appcred_secret=$(cloud_field appcred application_credential_secret)
  out=$(
    module community_image "$(image_args creds a.raw "$sha512_a" "\"cloud\": \"demo-noauth\", \"auth\": {\"password\": \"$demo_pw\"}")" -vvv
    module community_image "$(image_args creds a.raw "$sha512_a" '"cloud": "appcred"')" -vvv
    module community_image "$(image_args creds a.raw "$sha512_a" '"cloud": "admin"')" -vvv
    token=$(keystone_token demo | cut -d' ' -f1)
    echo "$token" >"$work/token"
    module community_image "$(image_args creds a.raw "$sha512_a" "\"cloud\": \"keystone\", \"auth_type\": \"token\", \"auth\": {\"token\": \"$token\", \"project_name\": \"demo\", \"project_domain_name\": \"Default\"}")" -vvv
    module community_image "$(image_args creds a.raw "$sha512_a" "\"cloud\": \"demo\", \"auth\": {\"password\": \"$demo_pw-wrong\"}")" -vvv
  )
  echo "$out" | tail -n 40
  token=$(<"$work/token")
  grep -q '"changed"' <<<"$out" && [ -n "$token" ] || return 1
  for secret in "$demo_pw" "$admin_pw" "$appcred_secret" "$token"; do
    if grep -qF -- "$secret" <<<"$out"; then
      echo "a secret (${#secret} characters, starting ${secret:0:3}) is in the output"
      return 1
    fi
  done
}
step secrets_never_in_verbose_output secrets_never_in_verbose_output

# module_tokens: how many tokens the modules asked Keystone for (by their
# User-Agent: Glance's own middleware asks too).
module_tokens() { grep 'POST /v3/auth/tokens' "$work/cloud/log/nginx-access.log" | grep -c 'imageops.cloud' || true; }

# A batch that outlives its token: two images from a source that drips its
# bytes, one at a time; the token (IMAGEOPS_CLOUD_TOKEN_TTL) expires between.
token_expires_during_a_batch() {
  local r before after wait=$((IMAGEOPS_CLOUD_TOKEN_TTL * 6 / 10))
  source_start "$wait" || return 1
  before=$(module_tokens)
  r=$(module community_image_batch "{\"cloud\": \"demo\", \"jobs\": 1, \"disk_format\": \"raw\", \"images\": {
    \"slow1\": {\"name\": \"slow-1\", \"source_url\": \"$source_url/a.raw\", \"checksum_sha512\": \"$sha512_a\"},
    \"slow2\": {\"name\": \"slow-2\", \"source_url\": \"$source_url/b.raw\", \"checksum_sha512\": \"$sha512_b\"},
    \"slow3\": {\"name\": \"slow-3\", \"source_url\": \"$source_url/a.raw\", \"checksum_sha512\": \"$sha512_a\"}}}")
  after=$(module_tokens)
  kill "$source_pid"
  echo "batch: $r"
  echo "tokens made during the batch: $((after - before)) (TTL ${IMAGEOPS_CLOUD_TOKEN_TTL}s, each image takes ${wait}s)"
  [ "$(field "$r" 'r.get("failed", False)')" = False ] && [ "$(field "$r" 'len(r["image_ids"])')" = 3 ] &&
    [ $((after - before)) -ge 2 ]
}
step token_expires_during_a_batch token_expires_during_a_batch

# Glance's interoperable import.
no_image_named() { # NAME CLOUD: Glance holds no image of that name in CLOUD's project
  local left
  left=$(openstack --os-cloud "$2" image list --name "$1" -f value -c ID)
  echo "images named $1: '$left'"
  [ -z "$left" ]
}

web_download_and_glance_direct() {
  local method name r id
  for method in web-download glance-direct; do
    name=imported-$method
    r=$(module community_image "$(image_args "$name" a.raw "$sha512_a" "\"cloud\": \"demo\", \"import_method\": \"$method\"")")
    id=$(field "$r" 'r.get("id", "")')
    echo "$method: $r"
    [ -n "$id" ] && [ "$(field "$r" 'r["changed"]')" = True ] || return 1
    r=$(openstack --os-cloud demo image show "$id" -f json)
    grep -q '"status": "active"' <<<"$r" && grep -q "$sha512_a" <<<"$r" || { echo "$r"; return 1; }
    r=$(module community_image "$(image_args "$name" a.raw "$sha512_a" "\"cloud\": \"demo\", \"import_method\": \"$method\"")")
    [ "$(field "$r" 'r["changed"]')" = False ] && [ "$(field "$r" 'r["id"]')" = "$id" ] || { echo "again: $r"; return 1; }
  done
}
step web_download_and_glance_direct web_download_and_glance_direct

import_refused_before_any_write() {
  gzip -c "$images_dir/a.raw" >"$images_dir/a.raw.gz"
  fails_with "$(image_args refused-gz a.raw.gz "$sha512_a" '"cloud": "demo", "import_method": "web-download"')" \
    'import_method web-download cannot be used' 'gzip-compressed' 'use import_method upload' || return 1
  no_image_named refused-gz demo || return 1
  qemu-img convert -f raw -O qcow2 "$images_dir/b.raw" "$images_dir/b.qcow2" || return 1
  fails_with "$(image_args refused-convert b.qcow2 "$(sha512sum "$images_dir/b.qcow2" | cut -d' ' -f1)" '"cloud": "demo", "import_method": "glance-direct"')" \
    'the source is qcow2 and disk_format is raw: it needs converting' || return 1
  no_image_named refused-convert demo || return 1
  fails_with "{\"cloud\": \"demo\", \"name\": \"refused-creds\", \"source_url\": \"http://u:secretpw@127.0.0.1:9/a.raw\", \"import_method\": \"web-download\", \"disk_format\": \"raw\"}" \
    'would give Glance the credentials in source_url' || return 1
}
step import_refused_before_any_write import_refused_before_any_write

failing_import_leaves_nothing() {
  local ok=0
  source_start 0 || return 1
  # Glance's own download gets a 404 (the server answers a path under /once/ once).
  fails_with "{\"cloud\": \"demo\", \"name\": \"import-fails\", \"source_url\": \"$source_url/once/a.raw\", \"checksum_sha512\": \"$sha512_a\", \"disk_format\": \"raw\", \"import_method\": \"web-download\"}" \
    "Glance's import task failed: " || ok=1
  no_image_named import-fails demo || ok=1
  # Glance's data does not match checksum_sha512: deleted, and said.
  fails_with "$(image_args import-mismatch a.raw "$sha512_b" '"cloud": "demo", "import_method": "web-download"')" \
    "Glance's import stored data with sha512 $sha512_a, but its sha512 checksum is $sha512_b" || ok=1
  no_image_named import-mismatch demo || ok=1
  kill "$source_pid"
  return $ok
}
step failing_import_leaves_nothing failing_import_leaves_nothing

# image_cleaner and image_deployer act on their project's images only (or
# owner's): an admin, whom Glance shows every project's images, leaves
# other's images alone unless the task names other.
image_state() { openstack --os-cloud admin image show "$1" -f json -c name -c visibility -c updated_at -c properties 2>&1; }

cleaner_acts_on_its_project_only() {
  local r mine theirs before after hide_at delete_at
  r=$(module community_image "$(image_args scope-old a.raw "$sha512_a" '"cloud": "other"')")
  theirs=$(field "$r" 'r.get("id", "")')
  # Other data: with a's, admin's run would use other's community image read only.
  r=$(module community_image "$(image_args scope-old b.raw "$sha512_b" '"cloud": "admin"')")
  mine=$(field "$r" 'r.get("id", "")')
  [ -n "$theirs" ] && [ -n "$mine" ] && [ "$theirs" != "$mine" ] || { echo "$r"; return 1; }
  hide_at=$(date -u -d '+13 months' +%Y-%m-%dT%H:%M:%SZ)
  delete_at=$(date -u -d '+19 months' +%Y-%m-%dT%H:%M:%SZ)
  before=$(image_state "$theirs")
  # Both images are old enough to hide: admin's run hides its own only.
  r=$(module image_cleaner "{\"cloud\": \"admin\", \"name_pattern\": \"^scope-old$\", \"now\": \"$hide_at\", \"skip_in_use\": false}")
  echo "admin hides: $r"
  [ "$(field "$r" '[i["id"] for i in r["hidden"]]')" = "['$mine']" ] || return 1
  # ... and deletes its own only, once old enough.
  r=$(module image_cleaner "{\"cloud\": \"admin\", \"name_pattern\": \"^scope-old$\", \"now\": \"$delete_at\", \"skip_in_use\": false}")
  echo "admin deletes: $r"
  [ "$(field "$r" '[i["id"] for i in r["deleted"]]')" = "['$mine']" ] || return 1
  after=$(image_state "$theirs")
  echo "other's image before: $before"
  echo "other's image after:  $after"
  [ "$before" = "$after" ] && grep -q '"community"' <<<"$after" || return 1
  # Naming other with owner (by name), admin's run acts on other's image.
  r=$(module image_cleaner "{\"cloud\": \"admin\", \"owner\": \"other\", \"name_pattern\": \"^scope-old$\", \"now\": \"$hide_at\", \"skip_in_use\": false}")
  echo "admin with owner other: $r"
  [ "$(field "$r" '[i["id"] for i in r["hidden"]]')" = "['$theirs']" ] &&
    grep -q '"private"' <<<"$(image_state "$theirs")"
}
step cleaner_acts_on_its_project_only cleaner_acts_on_its_project_only

# scope_manifest VERSION FILE: an azimuth-images manifest of one release,
# production name scope-ubuntu.
scope_manifest() {
  printf '{"scope-ubuntu": {"name": "%s", "url": "%s/%s", "checksum": "sha256:%s"}}\n' \
    "$1" "$serve_url" "$2" "$(sha256sum "$images_dir/$2" | cut -d' ' -f1)" >"$images_dir/scope-manifest.json"
}

# images_of PROJECT NAME: the IDs of PROJECT's images named NAME.
images_of() {
  glance_call admin GET "/v2/images?name=$2&visibility=all" |
    "$python" -c 'import json, sys; print(" ".join(i["id"] for i in json.load(sys.stdin)["images"] if i["owner"] == sys.argv[1]))' "$1"
}

deployer_acts_on_its_project_only() {
  local r theirs before after mine superseded
  qemu-img create -q -f qcow2 "$images_dir/r1.qcow2" 8M && qemu-img create -q -f qcow2 -o cluster_size=4096 "$images_dir/r2.qcow2" 8M || return 1
  scope_manifest scope-ubuntu-r1 r1.qcow2
  r=$(module image_deployer "{\"cloud\": \"other\", \"catalog_url\": \"$serve_url/scope-manifest.json\", \"visibility\": \"community\"}")
  echo "other deploys r1: $r"
  theirs=$(field "$r" 'r["deployed"][0]["id"]') || return 1
  before=$(image_state "$theirs")
  # A new release: admin's run deploys it into admin's project, and neither
  # renames nor supersedes other's production image of the name.
  scope_manifest scope-ubuntu-r2 r2.qcow2
  r=$(module image_deployer "{\"cloud\": \"admin\", \"catalog_url\": \"$serve_url/scope-manifest.json\"}")
  echo "admin deploys r2: $r"
  mine=$(field "$r" 'r["deployed"][0]["id"]') || return 1
  after=$(image_state "$theirs")
  echo "other's image before: $before"
  echo "other's image after:  $after"
  [ "$mine" != "$theirs" ] && [ "$before" = "$after" ] || return 1
  # With owner other, admin's run supersedes other's release with r2, in other's project.
  r=$(module image_deployer "{\"cloud\": \"admin\", \"owner\": \"other\", \"catalog_url\": \"$serve_url/scope-manifest.json\", \"visibility\": \"community\"}")
  echo "admin deploys r2 for other: $r"
  superseded=$(image_state "$theirs")
  echo "other's r1 now: $superseded"
  grep -q "imageops_superseded" <<<"$superseded" && grep -Eq '"name": "scope-ubuntu-[0-9]{8}T[0-9]{6}Z"' <<<"$superseded" || return 1
  r=$(field "$r" 'r["deployed"][0]["id"]') || return 1
  [ "$(images_of "$(openstack --os-cloud other token issue -f value -c project_id)" scope-ubuntu)" = "$r" ] &&
    [ "$(images_of "$(openstack --os-cloud admin token issue -f value -c project_id)" scope-ubuntu)" = "$mine" ]
}
step deployer_acts_on_its_project_only deployer_acts_on_its_project_only

# A token that expires (or is revoked) before an upload reaches Glance: a
# proxy in front of Glance holds the first data upload (PUT .../file, or
# .../stage for glance-direct) until its token has expired, and Glance
# refuses it (401) after the module has sent data it cannot send again. The
# module renews the token and uploads again from the source's start, into a
# new image: one image of the name, holding the source's bytes.
refused_uploads() { grep -cE "\"PUT /v2/images/[^ ]*/(file|stage) HTTP/1.1\" 401" "$work/cloud/log/nginx-access.log" || true; }

token_expires_before_the_upload_arrives() {
  local method pid r id ids before after ok=0
  (cd "$repo" && go build -o "$work/faultproxy" ./gomodules/internal/testenv/faultproxy) || return 1
  for method in upload glance-direct; do
    rm -f "$work/proxy.url"
    "$work/faultproxy" -target "$IMAGEOPS_CLOUD_GLANCE_URL" -ca "$IMAGEOPS_CLOUD_CA" -url-file "$work/proxy.url" \
      -hold-upload-until-token-expires "$IMAGEOPS_CLOUD_KEYSTONE_URL" >/dev/null 2>"$work/faultproxy-$method.log" &
    pid=$!
    wait_for 60 "faultproxy's URL file" test -s "$work/proxy.url" || { kill "$pid"; cat "$work/faultproxy-$method.log"; return 1; }
    before=$(refused_uploads)
    r=$(module community_image "$(image_args "late-token-$method" a.raw "$sha512_a" "\"cloud\": \"demo\", \"import_method\": \"$method\", \"image_endpoint_override\": \"$(<"$work/proxy.url")\"")")
    after=$(refused_uploads)
    kill "$pid"
    wait "$pid" 2>/dev/null
    cat "$work/faultproxy-$method.log"
    echo "$method: $r"
    id=$(field "$r" 'r.get("id", "")')
    ids=$(images_of "$(keystone_token demo | cut -d' ' -f2)" "late-token-$method")
    echo "$method: uploads Glance refused with 401: $((after - before)); demo's images of the name: $ids"
    grep -q "holding PUT" "$work/faultproxy-$method.log" && [ $((after - before)) -ge 1 ] &&
      [ -n "$id" ] && [ "$ids" = "$id" ] && [ "$(field "$r" 'r["image"]["os_hash_value"]')" = "$sha512_a" ] || ok=1
  done
  return $ok
}
step token_expires_before_the_upload_arrives token_expires_before_the_upload_arrives

# An import that does not end within import_timeout (Glance downloads from a
# source that drips its bytes over a minute) fails, saying so, and leaves no image.
import_timeout_leaves_nothing() {
  local ok=0
  source_start 60 || return 1
  fails_with "{\"cloud\": \"demo\", \"name\": \"import-slow\", \"source_url\": \"$source_url/a.raw\", \"checksum_sha512\": \"$sha512_a\", \"disk_format\": \"raw\", \"import_method\": \"web-download\", \"import_timeout\": 5}" \
    'the import did not end in time: still importing after 5s' 'raise import_timeout' || ok=1
  no_image_named import-slow demo || ok=1
  kill "$source_pid"
  return $ok
}
step import_timeout_leaves_nothing import_timeout_leaves_nothing

# web-download with only a sha256 checksum: the source is verified here
# while Glance downloads it, and Glance's sha512 compared with its own; a
# wrong sha256 fails and leaves nothing.
web_download_verifies_sha256() {
  local r id wrong
  r=$(module community_image "{\"cloud\": \"demo\", \"name\": \"imported-sha256\", \"source_url\": \"$serve_url/a.raw\", \"checksum\": \"sha256:$sha256_a\", \"disk_format\": \"raw\", \"import_method\": \"web-download\"}")
  echo "sha256 only: $r"
  id=$(field "$r" 'r.get("id", "")')
  [ -n "$id" ] && [ "$(field "$r" 'r["image"]["imageops_source_sha256"]')" = "$sha256_a" ] &&
    [ "$(field "$r" 'r["image"]["os_hash_value"]')" = "$sha512_a" ] || return 1
  wrong=$(sha256sum "$images_dir/b.raw" | cut -d' ' -f1)
  fails_with "{\"cloud\": \"demo\", \"name\": \"imported-wrong-sha256\", \"source_url\": \"$serve_url/a.raw\", \"checksum\": \"sha256:$wrong\", \"disk_format\": \"raw\", \"import_method\": \"web-download\"}" \
    "sha256 checksum mismatch: expected $wrong, got $sha256_a" || return 1
  no_image_named imported-wrong-sha256 demo
}
step web_download_verifies_sha256 web_download_verifies_sha256
