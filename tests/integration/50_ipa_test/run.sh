#!/usr/bin/env bash
# ipa_test against a real Ironic: Debian's Ironic (scripts/ironic.sh: noauth, sqlite, loopback,
# manual-management nodes with fake power, pxe boot and the direct deploy) on a real local Glance
# (scripts/glance.sh). The deploy ramdisk is the Debian installer's real kernel and initrd,
# uploaded as Chameleon's deployer uploads IPA pairs (build-ipa kernel/initramfs); Ironic
# downloads them from Glance into its TFTP root and the instance image into its HTTP root. The
# booted agent is gomodules/internal/ipastub, a STUB of IPA's API (no machine boots here): it
# "boots" what Ironic wrote, records the SHA-256 of the kernel and ramdisk it found, looks the
# node up, heartbeats and answers Ironic's commands (write_image fetches and verifies the image).
#
# Steps: check mode; a pass (the exact previous pair back, a key that was absent absent again);
# a kernel missing from Glance; no agent callback (timeout); a failing agent step; nodes in
# maintenance (before the run, and during the deploy); the module killed mid-deploy and run
# again; push (the tested node with automated cleaning, so the undeploy cleans it through the
# agent), then push again (nothing to do). Each step checks the nodes' provision state,
# driver_info, extra and allocations exactly; the node of another type is checked untouched at
# the end. Stops everything it started.
set -uo pipefail
repo=$(cd "$(dirname "$0")/../../.." && pwd)
here="$repo/tests/integration/50_ipa_test"
state="$repo/build/ipa-test-suite"
log="$state/logs"
export ANSIBLE_COLLECTIONS_PATH="$repo/build/collections"
source "$repo/tests/integration/lib.sh"

stub_pid=
stop_stub() {
  if [ -n "$stub_pid" ]; then
    kill "$stub_pid" 2>/dev/null
    wait "$stub_pid" 2>/dev/null
    stub_pid=
  fi
}
cleanup() {
  stop_stub
  "$repo/scripts/ironic.sh" stop "$state/ironic" >/dev/null 2>&1 || true
  "$repo/scripts/glance.sh" stop "$state/glance" >/dev/null 2>&1 || true
}
rm -rf "$state"
mkdir -p "$state"
suite_init "$log"
trap cleanup EXIT

"$repo/scripts/glance.sh" start "$state/glance" >"$log/glance.log" 2>&1 || { cat "$log/glance.log"; exit 1; }
# shellcheck disable=SC1091
source "$state/glance/env"
"$repo/scripts/ironic.sh" start "$state/ironic" >"$log/ironic.log" 2>&1 || { cat "$log/ironic.log"; exit 1; }
# shellcheck disable=SC1091
source "$state/ironic/env"
go build -o "$state/ipastub" "$repo/gomodules/internal/ipastub/serve" || exit 1
G=$IMAGEOPS_GLANCE_URL
I=$IMAGEOPS_IRONIC_URL

# ironic METHOD PATH [BODY]: one Bare Metal API call.
ironic() {
  curl --noproxy '*' -sf -X "$1" -H 'X-OpenStack-Ironic-API-Version: 1.52' \
    -H 'Content-Type: application/json' "$I/v1/$2" ${3:+-d "$3"}
}
# py EXPR: evaluates EXPR with d = the JSON document on stdin.
py() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# upload NAME FILE DISK_FORMAT CONTAINER_FORMAT PROPERTIES_JSON: a public image; prints its ID.
upload() {
  local id
  id=$(curl --noproxy '*' -sf -X POST "$G/v2/images" -H 'Content-Type: application/json' \
    -d "$(python3 -c 'import json,sys; p=json.loads(sys.argv[5]); p.update(name=sys.argv[1], disk_format=sys.argv[3], container_format=sys.argv[4], visibility="public"); print(json.dumps(p))' "$@")" | py 'd["id"]')
  curl --noproxy '*' -sf -X PUT "$G/v2/images/$id/file" -H 'Content-Type: application/octet-stream' \
    --data-binary "@$2" >/dev/null || return 1
  echo "$id"
}

# enroll NAME RESOURCE_CLASS MAC DRIVER_INFO_JSON: an available node, as an operator makes one.
enroll() {
  local uuid
  uuid=$(ironic POST nodes "{\"name\": \"$1\", \"driver\": \"manual-management\", \"resource_class\": \"$2\",
    \"boot_interface\": \"pxe\", \"deploy_interface\": \"direct\", \"driver_info\": $4}" | py 'd["uuid"]') || return 1
  ironic POST ports "{\"node_uuid\": \"$uuid\", \"address\": \"$3\"}" >/dev/null || return 1
  ironic PUT "nodes/$uuid/states/power" '{"target": "power off"}' || return 1
  wait_state "$1" enroll
  ironic PUT "nodes/$uuid/states/provision" '{"target": "manage"}' || return 1
  wait_state "$1" manageable
  ironic PUT "nodes/$uuid/states/provision" '{"target": "provide"}' || return 1
  wait_state "$1" available
}

# node_in NODE STATE: NODE is in STATE, with no target and no lock (powered off); "wait
# call-back": in that state at all.
node_in() {
  if [ "$2" = "wait call-back" ]; then
    [ "$(ironic GET "nodes/$1" | py 'd["provision_state"]')" = "wait call-back" ]
  else
    [ "$(ironic GET "nodes/$1" | py '"%s/%s/%s/%s" % (d["provision_state"], d["target_provision_state"], d["reservation"], d["power_state"])')" = "$2/None/None/power off" ]
  fi
}
# wait_state NODE STATE: waits until NODE is in STATE (node_in): 180 s at most, Ironic's
# conductor is slow on a loaded machine.
wait_state() {
  wait_for 180 "node $1 reaching $2" node_in "$1" "$2" && return 0
  echo "node $1 did not reach $2: $(ironic GET "nodes/$1" | py '(d["provision_state"], d["target_provision_state"], d["last_error"])')" >&2
  return 1
}

# node_is NODE STATE DRIVER_INFO_JSON MAINTENANCE: the node is exactly so, with no allocation,
# no instance, an empty extra and an empty instance_info.
node_is() {
  ironic GET "nodes/$1" | python3 -c '
import json, sys
d = json.load(sys.stdin)
want = {"provision_state": sys.argv[1], "target_provision_state": None, "driver_info": json.loads(sys.argv[2]),
        "maintenance": sys.argv[3] == "true", "allocation_uuid": None, "instance_uuid": None, "extra": {},
        "instance_info": {}}
got = {k: d[k] for k in want}
if got != want:
    sys.exit("node %s is %s\n           expected %s" % (d["name"], got, want))
' "$2" "$3" "$4"
}

no_allocations() {
  local list
  list=$(ironic GET allocations | py 'd["allocations"]')
  [ "$list" = "[]" ] || { echo "allocations left: $list" >&2; return 1; }
}

# start_stub [FLAGS...]: (re)starts the agent stub with FLAGS.
start_stub() {
  stop_stub
  "$state/ipastub" -tftp-root "$IMAGEOPS_IRONIC_TFTP_ROOT" -state "$state/stub" -heartbeat 1s "$@" \
    >>"$log/ipastub.log" 2>&1 &
  stub_pid=$!
}

# ipa NAME VARS...: runs ipa.yml, its result in $state/NAME.json.
ipa() {
  local name=$1
  shift
  playbook "$here/ipa.yml" -e "result_file=$state/$name.json" "$@"
}
# result NAME EXPR: EXPR of the result of run NAME.
result() { py "$2" <"$state/$1.json"; }
# expect NAME EXPR WANT: the result's EXPR is WANT.
expect() {
  local got
  got=$(result "$1" "$2")
  [ "$got" = "$3" ] || { echo "$1: $2 is '$got', expected '$3'" >&2; return 1; }
}

# The pairs: the new one, the Debian installer's real kernel and initrd (text), uploaded as
# Chameleon's image deployer uploads IPA images; an older pair (gtk) with the same property,
# which the default choice must pass over; the test image, a qcow2 Ubuntu base image.
di=/usr/lib/debian-installer/images/12/amd64
head -c 1M /dev/urandom >"$state/test-data.raw"
qemu-img convert -q -f raw -O qcow2 "$state/test-data.raw" "$state/test.qcow2"
old_kernel=$(upload ipa-old.kernel "$di/gtk/debian-installer/amd64/linux" aki aki '{"build-ipa": "kernel"}') || exit 1
old_ramdisk=$(upload ipa-old.initramfs "$di/gtk/debian-installer/amd64/initrd.gz" ari ari '{"build-ipa": "initramfs"}') || exit 1
sleep 1 # a later created_at
kernel=$(upload ipa-new.kernel "$di/text/debian-installer/amd64/linux" aki aki '{"build-ipa": "kernel"}') || exit 1
ramdisk=$(upload ipa-new.initramfs "$di/text/debian-installer/amd64/initrd.gz" ari ari '{"build-ipa": "initramfs"}') || exit 1
test_image=$(upload CC-Ubuntu22.04 "$state/test.qcow2" qcow2 bare '{"build-distro": "ubuntu", "build-variant": "base"}') || exit 1
kernel_sha=$(sha256sum <"$di/text/debian-installer/amd64/linux" | cut -d' ' -f1)
ramdisk_sha=$(sha256sum <"$di/text/debian-installer/amd64/initrd.gz" | cut -d' ' -f1)

# gpu nodes: g1 has only a kernel (its ramdisk key is absent), g2 and g3 the old pair; the cpu
# node c1 is of another type; the solo node s1 is the only one of its type.
old_pair="{\"deploy_kernel\": \"$old_kernel\", \"deploy_ramdisk\": \"$old_ramdisk\"}"
g1_info="{\"deploy_kernel\": \"$old_kernel\"}"
enroll g1 gpu 52:54:00:50:00:01 "$g1_info" || exit 1
enroll g2 gpu 52:54:00:50:00:02 "$old_pair" || exit 1
enroll g3 gpu 52:54:00:50:00:03 "$old_pair" || exit 1
enroll c1 cpu 52:54:00:50:00:11 "$old_pair" || exit 1
enroll s1 solo 52:54:00:50:00:21 "$old_pair" || exit 1
c1_before=$(ironic GET nodes/c1 | py 'json.dumps({k: d[k] for k in ("driver_info", "extra", "provision_state", "instance_info", "allocation_uuid", "updated_at")}, sort_keys=True)')
start_stub

check_mode() {
  local out
  out=$(ran_with '"node": "g1"' "$repo/playbooks/ipa_test.yml" --check --diff -v \
    -e ipa_test_node_type=gpu -e ipa_test_cloud=imageops-ironic -e ipa_test_push=true) || { echo "$out"; return 1; }
  echo "$out"
  # Push would change the nodes' pairs: the task is changed, so Ansible prints the diff.
  grep -q '^changed: \[localhost\]' <<<"$out" && grep -Eq '^\+ +"?deploy_kernel"?: ' <<<"$out" ||
    { echo "check mode with push: not changed, or no diff printed" >&2; return 1; }
  # Nothing written.
  node_is g1 available "$g1_info" false && node_is g2 available "$old_pair" false && no_allocations
}
step check_mode check_mode

pass() {
  # The real playbook, default images: the newest pair and the newest Ubuntu base image.
  ran_with 'passed on node g1; its previous pair is back' "$repo/playbooks/ipa_test.yml" \
    -e ipa_test_node_type=gpu -e ipa_test_cloud=imageops-ironic -e ipa_test_timeout=600 || return 1
  # g1 has exactly its kernel again, and no ramdisk key.
  node_is g1 available "$g1_info" false && node_is g2 available "$old_pair" false && no_allocations || return 1
  # The node booted the chosen kernel and ramdisk, which Ironic downloaded from Glance, and the
  # agent wrote the test image.
  local boot=$state/stub/52-54-00-50-00-01.boot.json
  [ "$(py 'd["kernel_sha256"]' <"$boot")" = "$kernel_sha" ] && [ "$(py 'd["ramdisk_sha256"]' <"$boot")" = "$ramdisk_sha" ] || {
    echo "g1 booted $(cat "$boot"); expected kernel $kernel_sha, ramdisk $ramdisk_sha" >&2
    return 1
  }
  qemu-img convert -O raw "$state/test.qcow2" "$state/test.raw" || return 1
  [ "$(sha256sum <"$state/test.raw")" = "$(sha256sum <"$state/stub/52-54-00-50-00-01.disk")" ] || {
    echo "the disk the agent wrote is not the test image" >&2
    return 1
  }
}
step pass pass

kernel_missing() {
  ipa kernel_missing -e node_type=gpu -e kernel_image=00000000-0000-4000-8000-000000000000 || return 1
  expect kernel_missing 'd["failed"]' True && expect kernel_missing 'd["failed_step"]' images &&
    expect kernel_missing '"no such image in Glance" in d["msg"]' True &&
    expect kernel_missing 'd["tested"]' False || return 1
  node_is g1 available "$g1_info" false && node_is g2 available "$old_pair" false && no_allocations
}
step kernel_missing kernel_missing

no_callback() {
  start_stub -no-callback
  # The timeout runs from the deploy request; it must end with the node in "wait call-back",
  # which Ironic reached 11 s after the request at a load of 28 on 2 cores: 45 s.
  ipa no_callback -e node_type=gpu -e deploy_timeout=45 || return 1
  expect no_callback 'd["failed_step"]' deploy && expect no_callback 'd["node"]' g1 &&
    expect no_callback '"no callback from the agent" in d["msg"]' True &&
    expect no_callback 'd["restored"]' True || return 1
  node_is g1 available "$g1_info" false && no_allocations
}
step no_callback no_callback

failing_step() {
  start_stub -fail-step write_image -fail-message "disk /dev/sda vanished (suite)"
  ipa failing_step -e node_type=gpu || return 1
  expect failing_step 'd["failed_step"]' deploy && expect failing_step 'd["restored"]' True &&
    expect failing_step '"write_image" in d["last_error"] and "disk /dev/sda vanished (suite)" in d["last_error"]' True || return 1
  node_is g1 available "$g1_info" false && no_allocations
}
step failing_step failing_step

maintenance() {
  start_stub
  # Before the run: the only node of its type is in maintenance; nothing is touched.
  ironic PUT nodes/s1/maintenance '{"reason": "suite: fan failure"}' || return 1
  ipa maintenance_solo -e node_type=solo || return 1
  expect maintenance_solo 'd["failed_step"]' reserve && expect maintenance_solo '"s1 is in maintenance (suite: fan failure)" in d["msg"]' True || return 1
  node_is s1 available "$old_pair" true || return 1
  # g1 in maintenance: the test would use g2 (check mode: the choice is the same, and quick).
  ironic PUT nodes/g1/maintenance '{"reason": "suite: g1 out"}' || return 1
  ipa maintenance_skip -e node_type=gpu --check || return 1
  expect maintenance_skip 'd["node"]' g2 && expect maintenance_skip 'd["tested"]' False || return 1
  node_is g1 available "$g1_info" true && node_is g2 available "$old_pair" false || return 1
  ironic DELETE nodes/g1/maintenance || return 1
  # During the deploy (the agent does not call back, so the deploy waits): g1 goes into
  # maintenance; the run fails, undeploys and restores it, and leaves the maintenance flag.
  start_stub -no-callback
  ipa maintenance_during -e node_type=gpu -e deploy_timeout=300 &
  local run=$!
  wait_state g1 "wait call-back" || { wait "$run"; return 1; }
  ironic PUT nodes/g1/maintenance '{"reason": "suite: disk failure"}'
  wait "$run" || return 1
  expect maintenance_during 'd["failed_step"]' deploy && expect maintenance_during '"went into maintenance" in d["msg"]' True &&
    expect maintenance_during '"suite: disk failure" in d["last_error"]' True || return 1
  node_is g1 available "$g1_info" true && no_allocations || return 1
  ironic DELETE nodes/g1/maintenance
}
step maintenance maintenance

killed() {
  # The module itself (the binary Ansible runs), killed while the node waits for its agent.
  start_stub -no-callback
  printf '{"cloud": "imageops-ironic", "node_type": "gpu", "timeout": 300}\n' >"$state/killed-args.json"
  "$repo/bin/imageops_linux_amd64" ipa_test "$state/killed-args.json" >"$log/killed-module.out" 2>&1 &
  local module=$!
  wait_state g1 "wait call-back" || { kill -9 "$module"; return 1; }
  kill -9 "$module"
  wait "$module" 2>/dev/null
  # What it left: the new pair, its record, the allocation.
  ironic GET nodes/g1 | py '(d["provision_state"], d["driver_info"], sorted(d["extra"]["imageops_ipa_test"]["previous"].items()), d["allocation_uuid"] is not None)' >"$state/killed-left.txt"
  grep -q "'wait call-back', {'deploy_kernel': '$kernel', 'deploy_ramdisk': '$ramdisk'}, \[('deploy_kernel', '$old_kernel')\], True" "$state/killed-left.txt" ||
    { echo "after the kill: $(cat "$state/killed-left.txt")" >&2; return 1; }
  # Check mode says it would undo it and test g1 again, and changes nothing.
  ipa killed_check -e node_type=gpu --check || return 1
  expect killed_check 'd["node"]' g1 && expect killed_check 'any(c.startswith("undo the killed run") for c in d["changes"])' True &&
    expect killed_check 'd["changed"]' True || return 1
  ironic GET nodes/g1 | py 'd["provision_state"]' | grep -qx 'wait call-back' || return 1
  # The next run undoes it, then tests.
  start_stub
  ipa killed_rerun -e node_type=gpu --diff || return 1
  expect killed_rerun 'd["recovered"]' "['g1']" && expect killed_rerun 'd["passed"]' True &&
    expect killed_rerun 'd["test_image"]' "$test_image" &&
    expect killed_rerun 'd["diff"]["before"]["g1"]["deploy_kernel"] == "'"$kernel"'" and d["diff"]["after"]["g1"] == '"$g1_info"'' True &&
    expect killed_rerun 'd["changed"]' True || return 1
  node_is g1 available "$g1_info" false && no_allocations
}
step killed killed

push() {
  # g1 (the node tested) is cleaned when undeployed: Ironic boots the agent again for cleaning.
  ironic PATCH nodes/g1 '[{"op": "replace", "path": "/automated_clean", "value": true}]' >/dev/null || return 1
  ipa push -e node_type=gpu -e push=true || return 1
  grep -q '52:54:00:50:00:01: command clean.get_clean_steps' "$log/ipastub.log" ||
    { echo "g1 was not cleaned through its agent" >&2; return 1; }
  expect push 'd["passed"]' True && expect push 'd["pushed"]' "['g1', 'g2', 'g3']" && expect push 'd["changed"]' True || return 1
  local new_pair="{\"deploy_kernel\": \"$kernel\", \"deploy_ramdisk\": \"$ramdisk\"}"
  node_is g1 available "$new_pair" false && node_is g2 available "$new_pair" false &&
    node_is g3 available "$new_pair" false && no_allocations || return 1
  # Again: every node has the pair, nothing to test, nothing changes.
  ran_with "$unchanged" "$repo/playbooks/ipa_test.yml" -e ipa_test_node_type=gpu -e ipa_test_cloud=imageops-ironic -e ipa_test_push=true || return 1
  # The node of another type was never touched.
  local c1_after
  c1_after=$(ironic GET nodes/c1 | py 'json.dumps({k: d[k] for k in ("driver_info", "extra", "provision_state", "instance_info", "allocation_uuid", "updated_at")}, sort_keys=True)')
  [ "$c1_after" = "$c1_before" ] || { echo "c1 changed: $c1_before -> $c1_after" >&2; return 1; }
}
step push push

suite_finish 50_ipa_test
