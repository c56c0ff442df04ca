#!/usr/bin/env bash
# Builds the image files the tests, the demo and the benchmarks upload, from
# real data on this machine (Debian's netboot kernel and initrd, documentation
# files). Safe to run again: a file is rebuilt only when it is missing or older
# than what it is made from, and each is written under a temporary name first.
#
#   scripts/fixtures.sh [DIR]     (DIR defaults to build/fixtures in this checkout)
#
# DIR then holds:
#   vmlinuz, initrd.gz     the kernel and initrd of debian-installer-12-netboot-amd64
#   disk.raw               a 64 MiB ext4 filesystem holding vmlinuz and documentation
#   disk.qcow2             disk.raw converted by qemu-img
#   disk.qcow2.{gz,xz,zst,bz2}, disk.raw.xz   compressed copies
#   not-an-image.txt       plain text, for tests of bad input
#   SHA256SUMS, SHA512SUMS checksums of all of the above (`sha256sum -c` format)
#
# disk.raw deliberately leaves out the 40 MB initrd: it is already compressed,
# so each of the six converted and compressed copies would carry it again and
# the directory would grow to about 400 MB. With the kernel and ~8 MiB of text
# it stays under 200 MB and builds in seconds.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly repo
readonly netboot_pkg=debian-installer-12-netboot-amd64
readonly disk_size=64M
readonly doc_budget=$((8 * 1024 * 1024)) # bytes of /usr/share/doc text in disk.raw

dir=$(realpath -m -- "${1:-$repo/build/fixtures}")
readonly dir

log() { echo "fixtures: $*"; }
die() {
  echo "fixtures: $*" >&2
  exit 1
}

# stale TARGET SOURCE...: TARGET is missing or older than one of the sources.
stale() {
  local target=$1 src
  shift
  [ -s "$target" ] || return 0
  for src in "$@"; do
    [ "$src" -nt "$target" ] && return 0
  done
  return 1
}

# tmp_for TARGET: a fresh temporary name next to TARGET (same filesystem, so
# the final mv is an atomic rename).
tmp_for() {
  mktemp "$dir/.$(basename "$1").XXXXXX"
}

# netboot_file NAME: the path of NAME in the text-mode netboot image.
netboot_file() {
  local path
  path=$(dpkg -L "$netboot_pkg" 2>/dev/null | grep -m1 -E "/text/debian-installer/amd64/$1\$") ||
    die "$netboot_pkg has no $1; install it (scripts/install-deps.sh)"
  echo "$path"
}

copy_file() {
  local src=$1 target=$2 tmp
  stale "$target" "$src" || return 0
  tmp=$(tmp_for "$target")
  cp -p "$src" "$tmp"
  chmod 644 "$tmp"
  mv -f "$tmp" "$target"
  log "copied $src to $(basename "$target")"
}

build_disk_raw() {
  local target=$dir/disk.raw tmp root
  stale "$target" "$dir/vmlinuz" || return 0
  root=$(mktemp -d "$dir/.disk-root.XXXXXX")
  mkdir -p "$root/boot" "$root/usr/share/doc"
  cp -p "$dir/vmlinuz" "$root/boot/vmlinuz"
  # Uncompressed documentation files, in name order, up to the budget.
  (cd /usr/share/doc && find . -type f ! -name '*.gz' -printf '%s %P\n' | LC_ALL=C sort -k2 |
    awk -v budget="$doc_budget" '{ total += $1 } total <= budget { sub(/^[0-9]+ /, ""); print }' |
    tr '\n' '\0' | xargs -0 -r cp -p --parents -t "$root/usr/share/doc")
  tmp=$(tmp_for "$target")
  rm -f "$tmp"
  # mkfs.ext4 copies ctimes from the staged files, so the image differs from
  # run to run; SHA256SUMS and SHA512SUMS describe this directory's copy.
  if ! mkfs.ext4 -q -F -L imageops-fixture -d "$root" "$tmp" "$disk_size" >/dev/null; then
    rm -rf "$root" "$tmp"
    die "mkfs.ext4 failed to build $target"
  fi
  rm -rf "$root"
  chmod 644 "$tmp"
  mv -f "$tmp" "$target"
  log "built disk.raw ($disk_size ext4)"
}

build_qcow2() {
  local target=$dir/disk.qcow2 tmp
  stale "$target" "$dir/disk.raw" || return 0
  tmp=$(tmp_for "$target")
  qemu-img convert -f raw -O qcow2 "$dir/disk.raw" "$tmp"
  chmod 644 "$tmp"
  mv -f "$tmp" "$target"
  log "converted disk.raw to disk.qcow2"
}

# compress SOURCE EXT COMMAND...: SOURCE.EXT is COMMAND's output for SOURCE on stdin.
compress() {
  local src=$1 ext=$2 target tmp
  shift 2
  target=$src.$ext
  stale "$target" "$src" || return 0
  tmp=$(tmp_for "$target")
  if ! "$@" <"$src" >"$tmp"; then
    rm -f "$tmp"
    die "compressing $(basename "$src") with $1 failed"
  fi
  chmod 644 "$tmp"
  mv -f "$tmp" "$target"
  log "compressed $(basename "$src") to $(basename "$target")"
}

build_text() {
  local target=$dir/not-an-image.txt tmp
  [ -s "$target" ] && return 0
  tmp=$(tmp_for "$target")
  cat >"$tmp" <<'EOF'
This is not a disk image.

It is a plain text file that tests hand to the image modules where an image
is expected: uploads, conversions and checksum checks must reject it with a
clear error instead of storing it.
EOF
  chmod 644 "$tmp"
  mv -f "$tmp" "$target"
  log "wrote not-an-image.txt"
}

# build_sums FILE TOOL NAMES...: FILE lists TOOL's checksums of NAMES.
build_sums() {
  local name=$1 tool=$2 tmp
  shift 2
  (cd "$dir" && stale "$name" "$@") || return 0
  local target=$dir/$name
  tmp=$(tmp_for "$target")
  (cd "$dir" && "$tool" -- "$@") >"$tmp"
  chmod 644 "$tmp"
  mv -f "$tmp" "$target"
  log "wrote $name"
}

main() {
  local t0 pids=() pid failed=0
  t0=$SECONDS
  mkdir -p "$dir"
  # One build at a time per directory; a second caller waits and finds it done.
  exec 9>"$dir/.lock"
  flock -w 600 9 || die "timed out waiting for $dir/.lock"
  # Leftovers of an interrupted run.
  rm -rf "$dir"/.disk-root.* "$dir"/.*.??????

  copy_file "$(netboot_file linux)" "$dir/vmlinuz"
  copy_file "$(netboot_file initrd.gz)" "$dir/initrd.gz"
  build_text
  build_disk_raw
  build_qcow2

  # The compressions are independent: run them side by side.
  compress "$dir/disk.qcow2" gz gzip -n -6 & pids+=($!)
  compress "$dir/disk.qcow2" xz xz -T0 -1 & pids+=($!)
  compress "$dir/disk.qcow2" zst zstd -q -T0 -10 & pids+=($!)
  compress "$dir/disk.qcow2" bz2 bzip2 -6 & pids+=($!)
  compress "$dir/disk.raw" xz xz -T0 -1 & pids+=($!)
  for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
  [ "$failed" = 0 ] || die "a compression failed"

  local files=(vmlinuz initrd.gz disk.raw disk.qcow2 disk.qcow2.gz disk.qcow2.xz
    disk.qcow2.zst disk.qcow2.bz2 disk.raw.xz not-an-image.txt)
  build_sums SHA256SUMS sha256sum "${files[@]}"
  build_sums SHA512SUMS sha512sum "${files[@]}"
  log "$dir ready ($(du -sh --apparent-size "$dir" | cut -f1), $((SECONDS - t0)) s)"
}

main "$@"
