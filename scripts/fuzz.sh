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
retry_time=$fuzz_time # a second try's time: four times fuzz_time when it is in seconds
[[ $fuzz_time =~ ^[0-9]+s$ ]] && retry_time="$((${fuzz_time%s} * 4))s"
# package:target: the args file, the argument spec (a spec of every type, and community_image's own
# options as Ensure normalises them), checksums, URLs (redaction), image references, image_build var files.
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
  imagebuild:FuzzVarFile
)
[ $# -gt 0 ] && targets=("$@")
failed=()
for target in "${targets[@]}"; do
  pkg=${target%%:*} name=${target#*:}
  echo "-- fuzz $pkg $name ($fuzz_time)"
  out=$(go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzz_time" "./gomodules/$pkg" 2>&1)
  rc=$?
  # Go's fuzzer fails with a bare "context deadline exceeded" when its time ends before the
  # workers have replayed the corpus (a busy machine, a big test binary): no input failed, so
  # give that target a second try. A real failure names its input.
  if [ "$rc" -ne 0 ] && grep -q 'context deadline exceeded' <<<"$out" && ! grep -q 'Failing input written' <<<"$out"; then
    echo "   (the fuzzer's time ended before it started; again for $retry_time)"
    out=$(go test -run '^$' -fuzz "^${name}\$" -fuzztime "$retry_time" "./gomodules/$pkg" 2>&1)
    rc=$?
  fi
  grep -v '^fuzz: elapsed' <<<"$out"
  [ "$rc" -eq 0 ] || failed+=("$target")
done
if [ ${#failed[@]} -gt 0 ]; then
  printf 'fuzz: failed: %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "fuzz: ${#targets[@]} targets passed"
