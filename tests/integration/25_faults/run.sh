#!/usr/bin/env bash
# Faults, races and crashes, through real ansible-playbook and the bare module binaries, against
# a real local Glance (with a fault-injecting proxy in front of it where a fault is needed):
# - two and three runs of the community_images role at once on the same images, and of the
#   image_deployer (a first release, then a new one): one image per name, the same IDs everywhere;
# - an image named "in:..." (Glance reads that as a filter) is found again: changed=0;
# - Glance failing one request in five (500s, lost answers, connection resets) for a whole run:
#   the run still converges, once, and a second run changes nothing;
# - Glance SIGKILLed mid-upload and restarted: the "saving" image it leaves is recognised as
#   stale (upload_stale_after) and the re-run converges;
# - the module SIGKILLed mid-conversion (qcow2 to raw: compressed, through qemu-nbd; not, from the
#   file): its qemu-nbd (image_convert: its qemu-img) dies with it, the re-run converges and leaves no file in the workdir; image_convert's temporary file likewise.
# Stops everything it started, by PID.
set -uo pipefail
# shellcheck source=../lib.sh
source "$(dirname "$0")/../lib.sh"
here="$repo/tests/integration/25_faults"
state="$repo/build/faults-suite"
log="$state/logs"
cd "$repo" || exit 1

arch=$(dpkg --print-architecture 2>/dev/null || echo amd64)
bin() { echo "$repo/build/bin/$1_linux_$arch"; } # the module by hand (make build links it)
proxy_pid=
# shellcheck disable=SC2317 # run on exit by suite_with_glance's trap
suite_stop() { [ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null; }
suite_with_glance "$state"
mkdir -p "$state/www" "$state/work" "$state/ids"
run="faults-$$"

# The sources: a raw disk of random data (so that conversions take a while) and its qcow2.
head -c 256M /dev/urandom >"$state/www/disk.raw"
qemu-img convert -f raw -O qcow2 "$state/www/disk.raw" "$state/www/disk.qcow2"
# Compressed clusters (of text; random data is stored uncompressed) are read through qemu-nbd.
{ head -c 192M "$state/www/disk.raw" && yes imageops | head -c 64M; } >"$state/disk-mixed.raw"
qemu-img convert -c -f raw -O qcow2 "$state/disk-mixed.raw" "$state/www/disk-compressed.qcow2" && rm "$state/disk-mixed.raw"
head -c 1M /dev/urandom >"$state/www/small.raw"
www=$(suite_serve "$state/www") || exit 1

# named NAME: the IDs and statuses of every image named NAME, one "id status" per line.
named() {
  curl --noproxy '*' -sf -G "$G/v2/images" --data-urlencode "name=in:\"$1\"" --data-urlencode visibility=all |
    python3 -c 'import json,sys; [print(i["id"], i["status"]) for i in json.load(sys.stdin)["images"] if i["name"] == sys.argv[1]]' "$1"
}
# one_active NAME: exactly one image is named NAME, and it is active.
one_active() { local got; got=$(named "$1"); echo "$1: ${got:-none}"; [ "$(wc -l <<<"$got")" = 1 ] && grep -q ' active$' <<<"$got"; }

images_vars() { # the suite's images, as group_vars would give them: a stream, a conversion, an in: name
  cat <<JSON
{"community_images_default": {},
 "community_images_extra": {
   "streamed": {"name": "$run-streamed", "source_url": "$www/disk.qcow2"},
   "converted": {"name": "$run-converted", "source_url": "$www/small.raw", "source_disk_format": "raw"},
   "filter_name": {"name": "in:$run,$run-streamed", "source_url": "$www/disk.qcow2"}},
 "community_images_auth_type": "none", "community_images_image_endpoint_override": "${1:-$G}",
 "community_images_workdir": "$state/work", "community_images_api_retry_delay": 0.2,
 "community_images_upload_stale_after": 20}
JSON
}
all_names=("$run-streamed" "$run-converted" "in:$run,$run-streamed")

concurrent_role_runs() { # N runs at once: all succeed, the same IDs, one image per name
  local n=$1 pids=() i ok=0 name
  for i in $(seq "$n"); do
    playbook "$here/images.yml" -e "$(images_vars)" -e "ids_file=$state/ids/run$n-$i.json" >"$log/role-$n-$i.log" 2>&1 &
    pids+=($!)
  done
  for i in "${!pids[@]}"; do wait "${pids[$i]}" || { echo "run $((i + 1)) of $n failed:"; tail -n 20 "$log/role-$n-$((i + 1)).log"; ok=1; }; done
  cat "$state"/ids/run"$n"-*.json
  echo
  [ "$ok" = 0 ] && [ "$(cat "$state"/ids/run"$n"-*.json | sort -u | wc -l)" = 1 ] || return 1
  for name in "${all_names[@]}"; do one_active "$name" || return 1; done
}
in_name_idempotent() { ran_with "$unchanged" "$here/images.yml" -e "$(images_vars)" -e "ids_file=$state/ids/run3-1.json"; }

faulty_glance() { # one request in five fails for the whole run: it converges at once; again: changed=0
  local url name
  go build -o "$state/faultproxy" ./gomodules/internal/testenv/faultproxy || return 1
  "$state/faultproxy" -target "$G" -one-in 5 -seed 5 -url-file "$state/proxy.url" 2>"$log/faultproxy.log" >/dev/null &
  proxy_pid=$!
  for _ in $(seq 50); do [ -s "$state/proxy.url" ] && break; sleep 0.1; done
  url=$(head -n 1 "$state/proxy.url")
  run="$run-faulty"
  all_names=("$run-streamed" "$run-converted" "in:$run,$run-streamed")
  playbook "$here/images.yml" -e "$(images_vars "$url")" -e "ids_file=$state/ids/faulty.json" || return 1
  for name in "${all_names[@]}"; do one_active "$name" || return 1; done
  ran_with "$unchanged" "$here/images.yml" -e "$(images_vars "$url")" -e "ids_file=$state/ids/faulty.json" || return 1
  cat "$log/faultproxy.log"
  for fault in 500 lost-answer reset; do grep -q "injected $fault" "$log/faultproxy.log" || { echo "no $fault injected"; return 1; }; done
  kill "$proxy_pid"
  proxy_pid=
}

# caught_uploading NAME SOURCE WHEN [extra JSON]: starts community_image on SOURCE and waits
# until WHEN holds ("saving": Glance shows the image saving; "nbd": the image exists in Glance
# and the module's own qemu-nbd runs, which is then the upload's: the one that checks the
# disk's first bytes runs before the image is created). The upload can end before a poll on
# a loaded machine sees it: then it tries again under a new name, three times at most. Sets
# module (its PID, still running), name and args; fails when no attempt was caught.
running() { [ -r "/proc/$1/stat" ] && ! grep -q '^[0-9]* (.*) Z' "/proc/$1/stat"; } # PID: alive, not a zombie
caught_uploading() {
  local base=$1 source=$2 when=$3 extra=${4:-} attempt
  for attempt in 1 2 3; do
    name="$base-$attempt"
    args=$(module_args "$name" "$www/$source" "$extra")
    "$(bin community_image)" "$args" >"$log/killed-$name.json" 2>&1 &
    module=$!
    local deadline=$((SECONDS + 300))
    while running "$module" && [ "$SECONDS" -lt "$deadline" ]; do
      case $when in
        saving) named "$name" | grep -q ' saving$' && return 0 ;;
        nbd) pgrep -P "$module" -x qemu-nbd >/dev/null && [ -n "$(named "$name")" ] &&
          pgrep -P "$module" -x qemu-nbd >/dev/null && return 0 ;;
      esac
      sleep 0.02
    done
    kill "$module" 2>/dev/null
    wait "$module"
    echo "attempt $attempt: the module ended (or ran 300 s) before it was seen uploading ($when): $(cat "$log/killed-$name.json")"
  done
  return 1
}

module_args() { # NAME SOURCE [extra JSON]: community_image's args file
  cat >"$state/args-$1.json" <<JSON
{"name": "$1", "source_url": "$2", "auth_type": "none", "image_endpoint_override": "$G",
 "workdir": "$state/work", "api_retries": 1, "api_retry_delay": 0.2, "upload_stale_after": 5 ${3:-}}
JSON
  echo "$state/args-$1.json"
}

glance_killed_mid_upload() { # the saving image left behind is stale once it shows no progress; the re-run converges
  local name args module pid children
  caught_uploading "$run-glance-killed" disk.qcow2 saving || return 1
  pid=$(<"$state/glance/glance-api.pid")
  children=$(pgrep -P "$pid" || true)
  # shellcheck disable=SC2086
  kill -KILL "$pid" $children
  wait "$module"
  echo "the module, with Glance killed: $(cat "$log/killed-$name.json")"
  "$repo/scripts/glance.sh" start --keep "$state/glance" >>"$log/glance.log" 2>&1 || return 1
  named "$name"
  named "$name" | grep -q ' saving$' || { echo "Glance left no saving image"; return 1; }
  "$(bin community_image)" "$args" >"$log/upload-rerun.json" 2>&1 || { cat "$log/upload-rerun.json"; return 1; }
  cat "$log/upload-rerun.json"
  grep -q '"changed": *true' "$log/upload-rerun.json" && one_active "$name"
}

module_killed_mid_conversion() { # SOURCE: qemu-nbd, if any, dies with the module; the re-run converges and leaves no file
  local source=$1 name args module nbd_dirs=
  # qcow2 to raw: the disk is read while it is uploaded (convert.StreamRaw): a compressed
  # qcow2 through qemu-nbd, an uncompressed one from the file itself.
  if [ "$source" = disk-compressed.qcow2 ]; then
    caught_uploading "$run-module-killed-${source%.qcow2}" "$source" nbd ', "disk_format": "raw"' || return 1
    pgrep -a -P "$module" -x qemu-nbd
    # The socket directory of the killed run's qemu-nbd.
    nbd_dirs=$(pgrep -a -P "$module" -x qemu-nbd | grep -o -- '--socket=[^ ]*' | sed 's#^--socket=##; s#/sock$##')
  else
    caught_uploading "$run-module-killed-${source%.qcow2}" "$source" saving ', "disk_format": "raw"' || return 1
  fi
  named "$name"
  kill -KILL "$module"
  wait "$module"
  for _ in $(seq 50); do pgrep -f "qemu-(nbd|img) .*$state/work" >/dev/null || break; sleep 0.1; done
  if pgrep -af "qemu-(nbd|img) .*$state/work"; then echo "qemu-nbd outlived the module"; return 1; fi
  ls -a "$state/work"
  compgen -G "$state/work/.imageops-community-image-*" >/dev/null || { echo "the killed run left no working directory to clean"; return 1; }
  "$(bin community_image)" "$args" >"$log/convert-rerun-$source.json" 2>&1 || { cat "$log/convert-rerun-$source.json"; return 1; }
  cat "$log/convert-rerun-$source.json"
  grep -q 'the working directory of an earlier run that was killed' "$log/convert-rerun-$source.json" &&
    one_active "$name" && [ -z "$(ls -A "$state/work")" ] || return 1
  for dir in $nbd_dirs; do [ ! -e "$dir" ] || { echo "qemu-nbd's socket directory $dir is left"; return 1; }; done
}

image_convert_killed() { # image_convert's temporary file beside dest is removed by the next run
  local dest="$state/convert/disk.qcow2" module
  mkdir -p "$state/convert"
  # compress: zlib over random data keeps qemu-img busy for seconds, long enough to be seen
  # (an uncompressed conversion of it can end between two pgrep calls on a loaded machine).
  echo "{\"src\": \"$state/www/disk.raw\", \"dest\": \"$dest\", \"dest_format\": \"qcow2\", \"compress\": true}" >"$state/args-convert.json"
  "$(bin image_convert)" "$state/args-convert.json" >"$log/image-convert-killed.json" 2>&1 &
  module=$!
  for _ in $(seq 600); do pgrep -f "qemu-img convert .*$state/convert" >/dev/null && break; sleep 0.02; done
  pgrep -af "qemu-img convert .*$state/convert" || { echo "never saw qemu-img convert"; return 1; }
  kill -KILL "$module"
  wait "$module"
  for _ in $(seq 50); do pgrep -f "qemu-img .*$state/convert" >/dev/null || break; sleep 0.1; done
  if pgrep -af "qemu-img .*$state/convert"; then echo "qemu-img outlived the module"; return 1; fi
  ls -a "$state/convert"
  compgen -G "$state/convert/.disk.qcow2.*.tmp" >/dev/null || { echo "no temporary file left to clean"; return 1; }
  "$(bin image_convert)" "$state/args-convert.json" >"$log/image-convert-rerun.json" 2>&1 || { cat "$log/image-convert-rerun.json"; return 1; }
  ls -A "$state/convert"
  [ "$(ls -A "$state/convert")" = disk.qcow2 ]
}

deployer_vars() { # CATALOG
  echo "{\"image_deployer_catalog_url\": \"$1\", \"image_deployer_connection\": {\"auth_type\": \"none\",
    \"image_endpoint_override\": \"$G\", \"api_retry_delay\": 0.2, \"upload_stale_after\": 20},
    \"image_deployer_workdir\": \"$state/work\"}"
}
concurrent_deployers() { # three runs at once, a first release then a new one: one public production image
  local release pids i ok=0 name="$run-deployed"
  for release in v1 v2; do
    echo "{\"$name\": {\"name\": \"$release\", \"url\": \"$www/$([ $release = v1 ] && echo small.raw || echo disk.qcow2)\"}}" >"$state/www/manifest.json"
    pids=()
    for i in 1 2 3; do
      playbook imageops.cloud.image_deployer -e "$(deployer_vars "$www/manifest.json")" >"$log/deployer-$release-$i.log" 2>&1 &
      pids+=($!)
    done
    for i in "${!pids[@]}"; do wait "${pids[$i]}" || { echo "deployer run $((i + 1)) ($release) failed:"; tail -n 20 "$log/deployer-$release-$((i + 1)).log"; ok=1; }; done
    [ "$ok" = 0 ] || return 1
    curl --noproxy '*' -sf -G "$G/v2/images" --data-urlencode "name=$name" --data-urlencode visibility=all |
      python3 -c '
import json, sys
found = json.load(sys.stdin)["images"]
print([(i["id"], i["visibility"], i.get("imageops_release")) for i in found])
assert len(found) == 1 and found[0]["visibility"] == "public" and found[0]["imageops_release"] == sys.argv[1]' "$release" || return 1
  done
}

step concurrent_role_runs_2 concurrent_role_runs 2
step concurrent_role_runs_3 concurrent_role_runs 3
step in_name_idempotent in_name_idempotent
step concurrent_deployers concurrent_deployers
step faulty_glance faulty_glance
step module_killed_mid_nbd_stream module_killed_mid_conversion disk-compressed.qcow2
step module_killed_mid_mapped_stream module_killed_mid_conversion disk.qcow2
step image_convert_killed image_convert_killed
step glance_killed_mid_upload glance_killed_mid_upload
suite_finish faults
