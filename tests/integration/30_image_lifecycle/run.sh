#!/usr/bin/env bash
# image_cleaner, image_deployer and image_timers through real ansible-playbook, against a real
# local Glance. Nova cannot run here: the cleaner's in-use check talks to the Nova STUB of
# gomodules/cleaner/novastub (Nova's "List Servers Detailed", paged; see its doc). Ages are set
# with the cleaner's now option, moved forward from the images' real created_at. The timers'
# units are rendered into a temporary root and checked with `systemd-analyze verify`; they are
# not started (no systemd runs here). Stops everything it started.
set -uo pipefail
# shellcheck source=../lib.sh
source "$(dirname "$0")/../lib.sh"
here="$repo/tests/integration/30_image_lifecycle"
state="$repo/build/lifecycle-suite"
log="$state/logs"

glance() { curl --noproxy '*' -sf "$@"; }
field() { python3 -c 'import json,sys; print(json.load(sys.stdin).get(sys.argv[1]))' "$1"; }

nova_pid=
# shellcheck disable=SC2317 # run on exit by suite_with_glance's trap
suite_stop() { [ -n "$nova_pid" ] && kill "$nova_pid" 2>/dev/null; }
suite_with_glance "$state"
mkdir -p "$state/catalog"
run="suite-$$"

# image NAME: an active 1 KiB raw image of this run; prints its ID.
image() {
  local id
  id=$(glance -X POST "$G/v2/images" -H 'Content-Type: application/json' \
    -d "{\"name\": \"$1\", \"disk_format\": \"raw\", \"container_format\": \"bare\", \"visibility\": \"public\", \"imageops_suite\": \"$run\"}" | field id)
  head -c 1024 /dev/zero | glance -X PUT "$G/v2/images/$id/file" -H 'Content-Type: application/octet-stream' --data-binary @- >/dev/null
  echo "$id"
}
visibility() { glance "$G/v2/images/$1" | field visibility; }
gone() { [ "$(curl --noproxy '*' -s -o /dev/null -w '%{http_code}' "$G/v2/images/$1")" = 404 ]; }

old=$(image suite-old)
used=$(image suite-used)
later() { date -u -d "+$1 months +1 day" +%Y-%m-%dT%H:%M:%SZ; }

# The Nova STUB: one server of another project, shut off, uses suite-used.
go build -o "$state/nova-stub" ./gomodules/cleaner/novastub/serve 2>"$log/nova-stub-build.log" || { cat "$log/nova-stub-build.log"; exit 1; }
echo "[{\"id\": \"srv-1\", \"name\": \"vm\", \"status\": \"SHUTOFF\", \"tenant_id\": \"other-project\", \"image_id\": \"$used\"}]" >"$state/servers.json"
"$state/nova-stub" -servers "$state/servers.json" >"$state/nova-url" 2>"$log/nova-stub.log" &
nova_pid=$!
wait_for 60 "the Nova stub's URL" test -s "$state/nova-url" || { cat "$log/nova-stub.log"; exit 1; }
nova=$(head -n 1 "$state/nova-url")
clean() { echo "-e suite_run=$run -e suite_now=$1 -e nova_url=$nova"; }

cleaner_check_mode() { # reports the hide and the diff, writes nothing
  # shellcheck disable=SC2046
  ran_with '"visibility": "private"' "$here/cleaner.yml" --check --diff $(clean "$(later 13)") &&
    [ "$(visibility "$old")" = public ]
}
cleaner_hides() { # hides the old image, skips the one the stub's server uses
  # shellcheck disable=SC2046
  ran_with 'hidden=suite-old deleted= skipped=suite-used' "$here/cleaner.yml" $(clean "$(later 13)") &&
    [ "$(visibility "$old")" = private ] && [ "$(visibility "$used")" = public ]
}
cleaner_idempotent() {
  # shellcheck disable=SC2046
  ran_with "$unchanged" "$here/cleaner.yml" $(clean "$(later 13)")
}
cleaner_deletes_hidden() { # the private image is found again and deleted
  # shellcheck disable=SC2046
  ran_with 'deleted=suite-old skipped=suite-used' "$here/cleaner.yml" $(clean "$(later 19)") &&
    gone "$old" && [ "$(visibility "$used")" = public ]
}
cleaner_bad_input() {
  local out
  # shellcheck disable=SC2046
  out=$(playbook "$here/cleaner.yml" $(clean "$(later 19)") -e hide_months=18 -e delete_months=12)
  echo "$out"
  grep -q 'delete_after_months is 12; expected more than hide_after_months (18)' <<<"$out" && ! gone "$used"
}

# The deployer: an azimuth-images manifest and a real qcow2 served on loopback.
catalog_dir="$state/catalog"
qemu-img create -q -f qcow2 "$catalog_dir/r1.qcow2" 16M
qemu-img create -q -f qcow2 -o cluster_size=4096 "$catalog_dir/r2.qcow2" 16M
catalog_url=$(suite_serve "$catalog_dir") || exit 1
manifest() { # VERSION FILE
  printf '{"suite-ubuntu": {"name": "%s", "url": "%s/%s", "checksum": "sha256:%s"}}\n' \
    "$1" "$catalog_url" "$2" "$( [ -f "$catalog_dir/$2" ] && sha256sum "$catalog_dir/$2" | cut -d' ' -f1 || echo 0000000000000000000000000000000000000000000000000000000000000000)" \
    >"$catalog_dir/manifest.json"
}
# shellcheck disable=SC2120 # extra ansible-playbook arguments are optional
deploy() { playbook imageops.cloud.image_deployer -e "image_deployer_catalog_url=$catalog_url/manifest.json" "$@"; }
production() { glance "$G/v2/images?name=suite-ubuntu&visibility=all" | python3 -c 'import json,sys; i=json.load(sys.stdin)["images"]; print(len(i), i[0]["id"] if i else "", i[0].get("imageops_release", "") if i else "")'; }

deployer_first() {
  local out
  manifest suite-ubuntu-r1 r1.qcow2
  out=$(deploy) || { echo "$out"; return 1; }
  echo "$out"
  grep -q "deployed: \['suite-ubuntu'\]" <<<"$out" && [ "$(production | cut -d' ' -f1,3)" = "1 suite-ubuntu-r1" ]
}
deployer_rerun() { ran_with "$unchanged" "$repo/playbooks/image_deployer.yml" -e "image_deployer_catalog_url=$catalog_url/manifest.json"; }
deployer_new_release() {
  local before after
  before=$(production | cut -d' ' -f2)
  manifest suite-ubuntu-r2 r2.qcow2
  deploy >/dev/null || return 1
  after=$(production)
  glance "$G/v2/images/$before" | python3 -c 'import json,sys; i=json.load(sys.stdin); print(i["name"], i["imageops_superseded"])'
  [ "$(cut -d' ' -f3 <<<"$after")" = suite-ubuntu-r2 ] && [ "$(cut -d' ' -f2 <<<"$after")" != "$before" ] &&
    glance "$G/v2/images/$before" | grep -q '"imageops_superseded": "true"' &&
    glance "$G/v2/images/$before" | grep -Eq '"name": "suite-ubuntu-[0-9]{8}T[0-9]{6}Z"'
}
deployer_failed_release() { # the download fails: the task fails, the production image stays
  local before
  before=$(production)
  manifest suite-ubuntu-r3 missing.qcow2
  ! deploy && [ "$(production)" = "$before" ] &&
    [ "$(glance "$G/v2/images?name=suite-ubuntu.imageops-incoming&visibility=all" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["images"]))')" = 0 ]
}

timers_root="$state/root"
timers() { playbook "$here/timers.yml" -e "timers_root=$timers_root" -e "suite_run=$run" -e "catalog_url=$catalog_url/manifest.json" "$@"; }
units="$timers_root/etc/systemd/system"
timers_render() { # units written, verified by systemd, idempotent
  timers -e image_deployer_enabled=true -e image_cleaner_enabled=true &&
    grep -qx 'OnCalendar=daily' "$units/imageops-image-cleaner.timer" &&
    grep -qx 'Persistent=true' "$units/imageops-image-deployer.timer" &&
    grep -qx 'Type=oneshot' "$units/imageops-image-deployer.service" &&
    [ "$(stat -c %a "$timers_root/etc/imageops/image_deployer.json")" = 600 ] &&
    [ "$(stat -c %a "$timers_root/etc/imageops/image_cleaner.env")" = 600 ] &&
    grep -qx "OS_CLOUD=\"$OS_CLOUD\"" "$timers_root/etc/imageops/image_cleaner.env" &&
    ! grep -q "$OS_CLOUD" "$units"/imageops-image-*.service && # units are world-readable: no environment values
    systemd-analyze verify "$units"/imageops-image-*.service "$units"/imageops-image-*.timer &&
    ran_with "$unchanged" "$here/timers.yml" -e "timers_root=$timers_root" -e "suite_run=$run" \
      -e "catalog_url=$catalog_url/manifest.json" -e image_deployer_enabled=true -e image_cleaner_enabled=true
}
timers_binary_by_hand() { # what the service runs, run by hand: a dry run of the cleaner
  local exec_start out
  exec_start=$(sed -n 's/^ExecStart=//p' "$units/imageops-image-cleaner.service")
  # shellcheck disable=SC2086
  out=$($exec_start) || return 1
  echo "$out"
  grep -q '"dry_run":true' <<<"$out" && grep -q '"suite-used"' <<<"$out"
}
timers_disable() {
  timers && [ ! -e "$units/imageops-image-cleaner.timer" ] && [ ! -e "$timers_root/etc/imageops/image_cleaner.json" ] &&
    [ ! -e "$timers_root/etc/imageops/image_cleaner.env" ]
}

step cleaner_check_mode cleaner_check_mode
step cleaner_hides cleaner_hides
step cleaner_idempotent cleaner_idempotent
step cleaner_deletes_hidden cleaner_deletes_hidden
step cleaner_bad_input cleaner_bad_input
step deployer_first deployer_first
step deployer_rerun deployer_rerun
step deployer_new_release deployer_new_release
step deployer_failed_release deployer_failed_release
step timers_render timers_render
step timers_binary_by_hand timers_binary_by_hand
step timers_disable timers_disable
step docs bash -c "ansible-doc imageops.cloud.image_cleaner | grep -q hide_method && ansible-doc imageops.cloud.image_deployer | grep -q catalog_format"
suite_finish image_lifecycle
