#!/usr/bin/env bash
# Integration suite for image_build's ISO, legacy BIOS boot, reproducibility and
# build_* properties: builds a minimal Debian bookworm spec with formats qcow2, raw and
# iso twice (the role and playbook, then the same spec into another output_dir with the
# binary run by hand), and checks that every output has the same SHA-256 both times.
# Then, at the same time: the ISO boots under TCG with OVMF (UEFI, El Torito, root from
# the squashfs), the raw disk boots under TCG with SeaBIOS (legacy BIOS, GRUB's core.img
# in the BIOS boot partition), each with a NoCloud seed whose runcmd writes a random
# marker to the serial console; and community_image uploads the qcow2 from its path to a
# local Glance (scripts/glance.sh), which must show the build record's build_* facts.
# Boots are bounded (IMAGE_BUILD_BOOT_TIMEOUT, 1800 s: both VMs share the CPU; IMAGE_BUILD_BOOT_STALL,
# 600 s without console output); on failure the console's end is
# printed. Prints "image_build_iso: N passed, N failed" last; exits non-zero on failure;
# stops what it started (by PID) and removes what it made.
set -uo pipefail
# shellcheck source=../lib.sh
source "$(dirname "$0")/../lib.sh"
cd "$repo" || exit 1
STATE=$(mktemp -d "${TMPDIR:-/tmp}/imageops-ci-iso.XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  scripts/glance.sh stop "$STATE/glance" >/dev/null 2>&1
  rm -rf "$STATE"
}
trap cleanup EXIT
finish() { suite_finish image_build_iso; exit; }

arch=$(module_arch)
suite_make "$STATE/make.log" build || finish
suite_ansible_temp "$STATE"
MIRROR=$(apt_mirror)
NAME=debian-12-live
FIRST="$STATE/first" SECOND="$STATE/second"

cat >"$STATE/spec.yml" <<YAML
name: $NAME
mirror: $MIRROR
size: 2G
formats: [qcow2, raw, iso]
source_date_epoch: 1700000000
YAML

# Bad size: fails before anything is downloaded, saying how much is needed.
printf 'name: small\noutput_dir: %s\nsize: 1G\n' "$STATE/small" >"$STATE/small.yml"
"$repo/build/bin/image_build_linux_$arch" "$STATE/small.yml" >"$STATE/small.json" 2>&1
check "a size too small for the base system fails before any download, saying how much is needed: $(pyq "$STATE/small.json" 'd["msg"]' | cut -c1-160)..." \
  grep -q 'size 1073741824 (from task): too small: .* at least 1347 MiB' "$STATE/small.json"
check "... and makes nothing" test ! -e "$STATE/small"

start=$SECONDS
if playbook imageops.cloud.image_build -e image_build_output_dir="$FIRST" \
  -e "{\"image_build_var_files\": [\"$STATE/spec.yml\"]}" >"$STATE/first.log" 2>&1; then
  suite_pass "first build: qcow2, raw and iso ($((SECONDS - start)) s)"
else
  suite_fail "first build"; tail -n 40 "$STATE/first.log"; finish
fi
printf 'output_dir: %s\nvar_files: [%s]\n' "$SECOND" "$STATE/spec.yml" >"$STATE/second.yml"
start=$SECONDS
if "$repo/build/bin/image_build_linux_$arch" "$STATE/second.yml" >"$STATE/second.json" 2>"$STATE/second.log"; then
  suite_pass "second build of the same spec into another directory ($((SECONDS - start)) s)"
else
  suite_fail "second build: $(head -c 2000 "$STATE/second.json")"; finish
fi
for format in qcow2 raw iso; do
  one=$(sha256sum "$FIRST/$NAME.$format" | cut -d' ' -f1) two=$(sha256sum "$SECOND/$NAME.$format" | cut -d' ' -f1)
  check "reproducible: the $format has the same SHA-256 both times ($one)" test "$one" = "$two"
  check "... which each build record holds" test "$(pyq "$FIRST/$NAME.build.json" "d['outputs']['$format']['sha256']")" = "$one" -a \
    "$(pyq "$SECOND/$NAME.build.json" "d['outputs']['$format']['sha256']")" = "$two"
done
RECORD="$FIRST/$NAME.build.json"
check "the record lists live-boot among the packages (the ISO's initramfs)" test -n "$(pyq "$RECORD" 'd["packages"].get("live-boot", "")')"
check "the record names the host tools of the ISO and BIOS boot" \
  test "$(pyq "$RECORD" '" ".join(sorted(k for k in d["host_tools"] if k in ("grub-mkimage", "mksquashfs", "xorriso")))')" = "grub-mkimage mksquashfs xorriso"
check "the ISO is an ISO 9660 with an El Torito EFI boot image" \
  bash -c "xorriso -indev '$FIRST/$NAME.iso' -report_el_torito plain 2>/dev/null | grep -q 'El Torito boot img :   1  UEFI'"
check "the raw disk has GRUB's boot code in its MBR and a BIOS boot partition" \
  bash -c "cmp -s -n 92 '$FIRST/$NAME.raw' /usr/lib/grub/i386-pc/boot.img && sfdisk -d '$FIRST/$NAME.raw' | grep -q 21686148-6449-6E6F-744E-656564454649"
rm -rf "$SECOND"

# A NoCloud seed (a vfat labelled cidata, made with mtools) whose runcmd writes a marker.
MARKER="imageops-image-build-$RANDOM$RANDOM"
# shellcheck disable=SC2016 # $(findmnt) runs in the booted system
printf '#cloud-config\nruncmd:\n  - [sh, -c, "echo %s root $(findmnt -no FSTYPE /) > /dev/ttyS0"]\n' "$MARKER" >"$STATE/user-data"
printf 'instance-id: iid-%s\nlocal-hostname: live\n' "$MARKER" >"$STATE/meta-data"
mkfs.vfat -C -n CIDATA "$STATE/seed.img" 2048 >/dev/null
MTOOLS_SKIP_CHECK=1 mcopy -i "$STATE/seed.img" "$STATE/user-data" "$STATE/meta-data" ::/
cp /usr/share/OVMF/OVMF_VARS_4M.fd "$STATE/vars.fd"

# boot NAME QEMU-ARGS...: starts a TCG VM with the seed, its console in $STATE/NAME.serial.
boot() {
  local name=$1; shift
  qemu-system-x86_64 -machine q35 -accel tcg -m 1024 -smp 1 -display none -no-reboot -nic none "$@" \
    -drive file="$STATE/seed.img",format=raw,if=virtio,readonly=on \
    -serial file:"$STATE/$name.serial" >"$STATE/$name.qemu" 2>&1 &
  pids+=($!)
  eval "${name}_pid=$!"
}
boot iso -drive if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd \
  -drive if=pflash,format=raw,file="$STATE/vars.fd" -cdrom "$FIRST/$NAME.iso"
boot bios -drive file="$FIRST/$NAME.raw",format=raw,if=virtio,snapshot=on
boot_start=$SECONDS

# Meanwhile: community_image uploads the qcow2 from its path; the record beside it
# gives the build_* properties.
if scripts/glance.sh start "$STATE/glance" >"$STATE/glance.log" 2>&1; then
  # shellcheck source=/dev/null
  . "$STATE/glance/env"
  cat >"$STATE/upload.yml" <<YAML
- hosts: localhost
  gather_facts: false
  tasks:
    - imageops.cloud.community_image:
        name: $NAME
        source_url: file://$FIRST/$NAME.qcow2
        disk_format: qcow2
        workdir: $STATE
      register: uploaded
    - ansible.builtin.copy:
        content: "{{ uploaded.image | to_json }}"
        dest: $STATE/uploaded.json
        mode: "0600"
YAML
  if playbook "$STATE/upload.yml" >"$STATE/upload.log" 2>&1; then
    check "community_image: the image carries build_spec_sha256 from the record" \
      test "$(pyq "$STATE/uploaded.json" 'd.get("build_spec_sha256")')" = "$(pyq "$RECORD" 'd["spec_sha256"]')"
    facts=$(pyq "$STATE/uploaded.json" 'd.get("build_release"), d.get("build_kernel"), d.get("build_cloud_init")')
    check "... build_release, build_kernel and build_cloud_init from the record: $facts" \
      test "$facts" = "bookworm $(pyq "$RECORD" 'd["kernel"], d["packages"]["cloud-init"]')"
  else
    suite_fail "community_image uploads the built qcow2"; tail -n 30 "$STATE/upload.log"
  fi
else
  suite_fail "start a local Glance"; tail -n 20 "$STATE/glance.log"
fi

# Both VMs: the marker, then cloud-init's closing line naming DataSourceNoCloud.
booted() { grep -q "^$MARKER" "$STATE/$1.serial" && grep -q "finished at.*DataSourceNoCloud" "$STATE/$1.serial"; } 2>/dev/null
for vm in iso bios; do
  pid_var="${vm}_pid"
  until booted "$vm"; do
    if ! kill -0 "${!pid_var}" 2>/dev/null || [ $((SECONDS - boot_start)) -ge "$BOOT_TIMEOUT" ] || stalled "$STATE/$vm.serial"; then break; fi
    sleep 2
  done
  kill "${!pid_var}" 2>/dev/null
  what=$([ "$vm" = iso ] && echo "the ISO boots under UEFI (OVMF, TCG) from its squashfs" || echo "the raw disk boots under legacy BIOS (SeaBIOS, TCG)")
  if booted "$vm"; then
    suite_pass "$what: cloud-init ran the NoCloud seed's runcmd (by $((SECONDS - boot_start)) s): $(grep -m1 -o "finished at.*DataSourceNoCloud[^ ]*" "$STATE/$vm.serial")"
  else
    suite_fail "$what: no marker and NoCloud line on the serial console after $((SECONDS - boot_start)) s (bounds: $BOOT_TIMEOUT s, $BOOT_STALL s without output); the console:"
    cat "$STATE/$vm.qemu"; tail -n 60 "$STATE/$vm.serial"
  fi
done
check "the ISO's root is an overlay (live-boot's, over the squashfs): $(grep -m1 "^$MARKER" "$STATE/iso.serial")" \
  grep -q "^$MARKER root overlay" "$STATE/iso.serial"
check "the BIOS-booted disk's root is its ext4: $(grep -m1 "^$MARKER" "$STATE/bios.serial")" grep -q "^$MARKER root ext4" "$STATE/bios.serial"
finish
