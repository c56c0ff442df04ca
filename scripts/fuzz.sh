#!/usr/bin/env bash
# Runs every Go fuzz target for a bounded time (make test runs it after the Go tests).
# Each target first replays its committed seed corpus (gomodules/<pkg>/testdata/fuzz/<Target>/),
# then fuzzes for FUZZ_TIME (default 6s; about 2 minutes for all with the builds). A failing input is written under that testdata
# directory: commit it with the fix, and it is replayed by every `go test` from then on.
#   scripts/fuzz.sh                  every target
#   FUZZ_TIME=5m scripts/fuzz.sh ansible:FuzzParseArgs   one target, longer
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo" || exit 1
fuzz_time=${FUZZ_TIME:-6s}
# package:target: the args file, the argument spec (a spec of every type, and community_image's own
# options as Ensure normalises them), checksums, URLs (redaction), image references.
targets=(
  ansible:FuzzParseArgs
  ansible:FuzzSpecValidation
  fetch:FuzzParseChecksum
  fetch:FuzzParseChecksums
  redact:FuzzURL
  redact:FuzzURLCredentials
  imageref:FuzzParse
  imageref:FuzzRewrite
  ingest:FuzzImageOptions
)
[ $# -gt 0 ] && targets=("$@")
failed=()
for target in "${targets[@]}"; do
  pkg=${target%%:*} name=${target#*:}
  echo "-- fuzz $pkg $name ($fuzz_time)"
  out=$(go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzz_time" "./gomodules/$pkg" 2>&1)
  rc=$?
  grep -v '^fuzz: elapsed' <<<"$out"
  [ "$rc" -eq 0 ] || failed+=("$target")
done
if [ ${#failed[@]} -gt 0 ]; then
  printf 'fuzz: failed: %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "fuzz: ${#targets[@]} targets passed"
