#!/usr/bin/env bash
# `make bench`: every benchmark in tests/bench/*.sh, in name order. Each measures our
# modules side by side with the tools operators use today (the openstack CLI, crane,
# skopeo) on the same local services in one run, and prints the ratios.
# Speed is measured here, never asserted in tests.
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo" || exit 1
export ANSIBLE_COLLECTIONS_PATH="$repo/build/collections"
status=0
for bench in tests/bench/*.sh; do
  [ -e "$bench" ] || continue
  echo "== $bench"
  bash "$bench" || { echo "bench: $bench failed" >&2; status=1; }
done
exit "$status"
