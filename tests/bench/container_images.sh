#!/usr/bin/env bash
# Benchmark: mirror the same image set from one local registry to another
# three ways, then run each again (nothing to copy):
#   crane   Atmosphere's way: one `crane copy` process per name, in sequence
#           (a bash loop: Ansible's per-item overhead is not counted);
#   skopeo  one `skopeo copy --all` per name, in sequence;
#   mirror  the mirror_images module binary, once for the whole set (jobs=4).
# The set: BENCH_NAMES names (default 32) over BENCH_DISTINCT distinct images
# (default 20), BENCH_MULTI of them three-platform indexes (default 6), built
# from real files. crane is built from the Go module proxy into build/bench-bin.
# Prints each timing and the ratios baseline/mirror; stops what it started.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
NAMES=${BENCH_NAMES:-32} DISTINCT=${BENCH_DISTINCT:-20} MULTI=${BENCH_MULTI:-6}
STATE=$(mktemp -d "${TMPDIR:-/tmp}/imageops-bench-images.XXXXXX")
REGISTRIES=(src crane skopeo mirror)
cleanup() {
  for r in "${REGISTRIES[@]}"; do scripts/registry.sh stop "$STATE/$r" >/dev/null 2>&1 || true; done
  rm -rf "$STATE"
}
trap cleanup EXIT

BIN="$ROOT/build/bench-bin"
mkdir -p "$BIN"
if [ ! -x "$BIN/crane" ]; then
  echo "building crane v0.22.1 (benchmark baseline only) into build/bench-bin"
  GOBIN="$BIN" go install github.com/google/go-containerregistry/cmd/crane@v0.22.1
fi
# The module binary as `make build` makes it, built here so that the run measures this checkout.
MIRROR="$STATE/mirror_images"
CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$MIRROR" ./gomodules/cmd/mirror_images

SRC=$(scripts/registry.sh start "$STATE/src")
declare -A DST
for r in crane skopeo mirror; do DST[$r]=$(scripts/registry.sh start "$STATE/$r"); done
go run ./gomodules/mirror/mirrortest/seed -registry "$SRC" -distinct "$DISTINCT" -multi "$MULTI" \
  -names "$NAMES" -pinned 2 -var images > "$STATE/images.yml"
mapfile -t REFS < <(python3 -c 'import sys, yaml; [print(v) for v in yaml.safe_load(open(sys.argv[1]))["images"].values()]' "$STATE/images.yml")
echo "image set: ${#REFS[@]} names over $DISTINCT distinct images ($MULTI three-platform), source $SRC"

# flatten target of a reference, as Atmosphere writes it: <registry>/<last segment>:<tag>.
target() { local base=${2%@*}; echo "$1/openstack/${base##*/}"; }
now() { date +%s.%N; }
declare -A T

run_crane() {
  for ref in "${REFS[@]}"; do "$BIN/crane" copy --insecure "$ref" "$(target "${DST[crane]}" "$ref")" 2>/dev/null; done
}
run_skopeo() {
  local src
  for ref in "${REFS[@]}"; do
    src=$ref
    # skopeo takes a tag or a digest, not both: copy by digest, push the tag.
    [[ $ref == *@* ]] && src="$(echo "${ref%@*}" | sed -E 's/:[^:/]+$//')@${ref#*@}"
    skopeo copy --all --quiet --src-tls-verify=false --dest-tls-verify=false \
      "docker://$src" "docker://$(target "${DST[skopeo]}" "$ref")"
  done
}
# The module's args are written before timing: only the module run is timed.
python3 - "$STATE/images.yml" "${DST[mirror]}/openstack" > "$STATE/args.json" <<'PY'
import json, sys, yaml
print(json.dumps({"images": yaml.safe_load(open(sys.argv[1]))["images"], "registry": sys.argv[2]}))
PY
run_mirror() { "$MIRROR" "$STATE/args.json" > "$STATE/mirror-$pass.json" || [ -s "$STATE/mirror-$pass.json" ]; }

for pass in first rerun; do
  for way in crane skopeo mirror; do
    start=$(now)
    "run_$way"
    T[$way.$pass]=$(python3 -c "print(f'{$(now) - $start:.2f}')")
    printf '%-7s %-6s %6ss\n' "$way" "$pass" "${T[$way.$pass]}"
  done
done
for pass in first rerun; do
  python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
if d.get("failed"):
    sys.exit("mirror_images failed: " + d["msg"])
print("mirror %s: copied %d, skipped %d" % (sys.argv[2], len(d["copied_images"]), len(d["skipped_images"])))' "$STATE/mirror-$pass.json" "$pass"
done

ratio() { python3 -c "print(f'{$1 / $2:.1f}x')"; }
echo "container_images bench: names=${#REFS[@]} distinct=$DISTINCT multi=$MULTI"
for pass in first rerun; do
  echo "  $pass: crane/mirror $(ratio "${T[crane.$pass]}" "${T[mirror.$pass]}"), skopeo/mirror $(ratio "${T[skopeo.$pass]}" "${T[mirror.$pass]}")"
done
