#!/usr/bin/env bash
# Integration suite for image_build: builds a minimal Debian bookworm image
# with the role and playbook (real ansible-playbook, packages from the apt
# mirror this machine uses), checks its build record, that a second run builds
# nothing and that bad specs fail before anything is downloaded, then boots
# the image with qemu-system-x86_64 under TCG with OVMF (UEFI) and a NoCloud
# seed (a vfat labelled cidata, made with mtools) whose runcmd writes a random
# marker to the serial console: the suite passes when the marker shows.
# The boot is bounded (IMAGE_BUILD_BOOT_TIMEOUT, 420 s); on failure the serial
# console is printed. Prints "image_build: N passed, N failed" last; exits
# non-zero on failure; stops what it started and removes what it made.
# build is called with and without arguments (--check goes through check).
# shellcheck disable=SC2119,SC2120
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$ROOT" || exit 1
STATE=$(mktemp -d "${TMPDIR:-/tmp}/imageops-ci-build.XXXXXX")
qemu_pid=
cleanup() {
  [ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null
  rm -rf "$STATE"
}
trap cleanup EXIT
BOOT_TIMEOUT=${IMAGE_BUILD_BOOT_TIMEOUT:-420}

passed=0 failed=0
pass() { passed=$((passed + 1)); echo "ok    $*"; }
fail() { failed=$((failed + 1)); echo "FAIL  $*"; }
check() { local what=$1; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }
finish() { echo "image_build: $passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

arch=$(uname -m); case $arch in x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; esac
make -s -C "$ROOT" "plugins/modules/imageops_linux_$arch" collection >"$STATE/make.log" 2>&1 \
  || { cat "$STATE/make.log"; fail "make the binary"; finish; }
export ANSIBLE_COLLECTIONS_PATH="$ROOT/build/collections"
export ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false ANSIBLE_NOCOLOR=1
export ANSIBLE_RETRY_FILES_ENABLED=0
export ANSIBLE_LOCAL_TEMP="$STATE/ansible-tmp" ANSIBLE_REMOTE_TEMP="$STATE/ansible-tmp"

# The apt mirror this machine reaches: the first deb URI of its sources.
MIRROR=$(grep -hoE '^(URIs:|deb) +[^ ]*https?://[^ ]+' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null \
  | grep -v security | head -n1 | grep -oE 'https?://[^ ]+')
MIRROR=${MIRROR:-http://deb.debian.org/debian}
OUT="$STATE/out"

pyq() { python3 -c "import sys, json; d = json.load(open(sys.argv[1])); print($2)" "$1"; }
playbook() { ansible-playbook -i localhost, -c local "$@" >"$STATE/play.log" 2>&1; }
recap() { grep -E '^localhost +:' "$STATE/play.log" | grep -oE "$1=[0-9]+" | cut -d= -f2; }
play_failed_with() { ! playbook "${@:2}" && grep -q -- "$1" "$STATE/play.log"; }
build() { playbook imageops.cloud.image_build -e "@$STATE/role-vars.yml" "$@"; }

# The spec: the image's variables in an image-builder-style var file, the
# role's in a second file.
cat >"$STATE/debian-12.yml" <<YAML
name: debian-12-minimal
distribution: debian
release: bookworm
mirror: $MIRROR
size: 2G
formats: [qcow2]
source_date_epoch: 1700000000
YAML
cat >"$STATE/role-vars.yml" <<YAML
image_build_var_files: [$STATE/debian-12.yml]
image_build_output_dir: $OUT
YAML

# Bad specs fail before anything is downloaded or written.
printf 'name: x\nrelease: bookworm\ndisk_size: 20480\n' >"$STATE/bad.yml"
check "an unknown key in a var file fails naming the file and line, nothing written" \
  play_failed_with "var file \\\\\"$STATE/bad.yml\\\\\" line 3: unknown variable \\\\\"disk_size\\\\\"" \
  imageops.cloud.image_build -e image_build_output_dir="$OUT" -e "{\"image_build_var_files\": [\"$STATE/bad.yml\"]}"
check "... and output_dir was not made" test ! -e "$OUT"
check "an unknown release fails naming it" play_failed_with 'release \\"buster\\" (from task)' \
  imageops.cloud.image_build -e image_build_output_dir="$OUT" -e image_build_name=x -e image_build_release=buster

# Check mode says it would build, builds nothing.
check "check mode: changed, would build" build --check
check "... reports would build" grep -q "would build: no build record" "$STATE/play.log"
check "... and writes nothing" test ! -e "$OUT"

start=$SECONDS
if build; then
  pass "build a minimal bookworm image ($((SECONDS - start)) s)"
else
  fail "build a minimal bookworm image"; tail -n 40 "$STATE/play.log"; finish
fi
IMAGE="$OUT/debian-12-minimal.qcow2" RECORD="$OUT/debian-12-minimal.build.json"
check "the build changed something" test "$(recap changed)" = 1
check "the qcow2 is a qcow2 of 2 GiB" bash -c "qemu-img info --output=json '$IMAGE' | grep -q '\"virtual-size\": 2147483648'"
check "qemu-img check finds it clean" qemu-img check -q "$IMAGE"
check "the record holds the qcow2's sha256" test "$(pyq "$RECORD" 'd["outputs"]["qcow2"]["sha256"]')" = "$(sha256sum "$IMAGE" | cut -d' ' -f1)"
check "the record holds the qcow2's sha512" test "$(pyq "$RECORD" 'd["outputs"]["qcow2"]["sha512"]')" = "$(sha512sum "$IMAGE" | cut -d' ' -f1)"
check "the record says release came from the var file" \
  test "$(pyq "$RECORD" 'd["variables"]["release"]["source"] + " " + d["variables"]["release"]["value"]')" = "$STATE/debian-12.yml bookworm"
check "the record says output_dir came from the task" test "$(pyq "$RECORD" 'd["variables"]["output_dir"]["source"]')" = task
check "the record says kernel_cmdline is the default" test "$(pyq "$RECORD" 'd["variables"]["kernel_cmdline"]["source"]')" = default
check "the record lists cloud-init's version" test -n "$(pyq "$RECORD" 'd["packages"].get("cloud-init", "")')"
check "the record names the mirror" test "$(pyq "$RECORD" 'd["mirror"]')" = "$MIRROR"
check "no working directory is left" bash -c "! ls -A '$OUT' | grep -q '^\\.image_build-'"

build
check "a second run builds nothing (changed=0)" test "$(recap changed)" = 0
check "... and leaves the image alone" test "$(pyq "$RECORD" 'd["outputs"]["qcow2"]["sha256"]')" = "$(sha256sum "$IMAGE" | cut -d' ' -f1)"

# Boot: OVMF, TCG, the image (snapshot: the file is not written) and a NoCloud seed.
MARKER="imageops-image-build-$RANDOM$RANDOM"
cat >"$STATE/user-data" <<YAML
#cloud-config
runcmd:
  - [sh, -c, "echo $MARKER > /dev/ttyS0"]
YAML
printf 'instance-id: iid-%s\nlocal-hostname: built\n' "$MARKER" >"$STATE/meta-data"
mkfs.vfat -C -n CIDATA "$STATE/seed.img" 2048 >/dev/null
MTOOLS_SKIP_CHECK=1 mcopy -i "$STATE/seed.img" "$STATE/user-data" "$STATE/meta-data" ::/
cp /usr/share/OVMF/OVMF_VARS_4M.fd "$STATE/vars.fd"
qemu-system-x86_64 -machine q35 -accel tcg -m 1024 -smp 1 -display none -no-reboot -nic none \
  -drive if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd \
  -drive if=pflash,format=raw,file="$STATE/vars.fd" \
  -drive file="$IMAGE",format=qcow2,if=virtio,snapshot=on \
  -drive file="$STATE/seed.img",format=raw,if=virtio,readonly=on \
  -serial file:"$STATE/serial.log" >"$STATE/qemu.log" 2>&1 &
qemu_pid=$!
start=$SECONDS
# cloud-init prints the datasource it used when it finishes, a moment after the marker.
booted() { grep -q "^$MARKER" "$STATE/serial.log" && grep -q "finished at.*DataSourceNoCloud" "$STATE/serial.log"; } 2>/dev/null
until booted; do
  if ! kill -0 "$qemu_pid" 2>/dev/null || [ $((SECONDS - start)) -ge "$BOOT_TIMEOUT" ]; then break; fi
  sleep 2
done
if grep -q "^$MARKER" "$STATE/serial.log" 2>/dev/null; then
  pass "UEFI boot under TCG: cloud-init ran the NoCloud seed's runcmd ($((SECONDS - start)) s): $(grep -m1 "^$MARKER" "$STATE/serial.log")"
else
  fail "UEFI boot under TCG: no marker on the serial console in $BOOT_TIMEOUT s; the console:"
  cat "$STATE/qemu.log"; tail -n 80 "$STATE/serial.log"
fi
check "cloud-init says it used the NoCloud seed: $(grep -m1 -o "finished at.*DataSourceNoCloud[^ ]*" "$STATE/serial.log")" \
  grep -q "finished at.*DataSourceNoCloud" "$STATE/serial.log"
kill "$qemu_pid" 2>/dev/null; wait "$qemu_pid" 2>/dev/null; qemu_pid=
finish
