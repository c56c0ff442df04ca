#!/usr/bin/env bash
# Benchmark: image_build (the binary run by hand) building the minimal bookworm image
# (the base packages, qcow2 and raw) against mmdebstrap alone making the same root
# filesystem in a folder (the floor: everything image_build adds is the ESP, the
# root filesystem image, the GPT, the conversion and the digests). Both use the apt
# mirror of this machine's sources (BENCH_MIRROR to change it), one after the other.
# Reported: wall time of each, image_build's stages, the size of mmdebstrap's root folder
# (the floor), and the qcow2's size against the raw image's (apparent and allocated) and
# against the floor. Measured here, never asserted: the script fails
# only when a run fails.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
STATE=$(mktemp -d "${TMPDIR:-/tmp}/imageops-bench-build.XXXXXX")
trap 'rm -rf "$STATE"' EXIT
arch=$(go env GOARCH)
BUILD="$ROOT/build/bin/image_build_linux_$arch"
[ -x "$BUILD" ] || make -s -C "$ROOT" build
MIRROR=${BENCH_MIRROR:-$(grep -hoE '^(URIs:|deb) +[^ ]*https?://[^ ]+' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null \
  | grep -v security | head -n1 | grep -oE 'https?://[^ ]+' || true)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
# The base packages image_build installs, read from its documentation.
PACKAGES=linux-image-amd64,initramfs-tools,systemd-sysv,udev,cloud-init,ifupdown,systemd-boot-efi,live-boot

ms() { echo $(($(date +%s%N) / 1000000)); }
secs() { awk -v a="$1" 'BEGIN { printf "%.1f", a / 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
start=$(ms)
mmdebstrap --variant=minbase --components=main --include="$PACKAGES" bookworm "$STATE/root" "$MIRROR" >"$STATE/mmdebstrap.log" 2>&1
floor=$(($(ms) - start))
floor_bytes=$(du -sb "$STATE/root" | cut -f1)
rm -rf "$STATE/root"

cat >"$STATE/args.yml" <<YAML
name: bench
output_dir: $STATE/out
mirror: $MIRROR
size: 2G
formats: [qcow2, raw]
YAML
start=$(ms)
"$BUILD" "$STATE/args.yml" >"$STATE/result.json" 2>"$STATE/progress.log"
built=$(($(ms) - start))

q=$(stat -c %s "$STATE/out/bench.qcow2")
r=$(stat -c %s "$STATE/out/bench.raw")
ra=$(($(stat -c %b "$STATE/out/bench.raw") * $(stat -c %B "$STATE/out/bench.raw")))
printf '%-44s %10s\n' "minimal bookworm image" "seconds"
printf '%-44s %10s\n' "mmdebstrap alone (floor)" "$(secs "$floor")" "image_build (qcow2 + raw, record)" "$(secs "$built")"
printf '%-44s %10s\n' "ratio image_build / mmdebstrap" "$(ratio "$built" "$floor")"
python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["build"]["seconds"]; [print("  stage %-38s %10.1f" % (k, v)) for k, v in s.items()]' "$STATE/result.json"
printf '%-44s %10d MiB\n' "root folder of mmdebstrap alone (floor)" $((floor_bytes >> 20)) \
  "raw image, apparent size" $((r >> 20)) "raw image, allocated" $((ra >> 20)) "qcow2 image" $((q >> 20))
printf '%-44s %10s\n' "qcow2 / raw allocated" "$(ratio "$q" "$ra")" "qcow2 / root folder" "$(ratio "$q" "$floor_bytes")" \
  "raw allocated / root folder" "$(ratio "$ra" "$floor_bytes")"
