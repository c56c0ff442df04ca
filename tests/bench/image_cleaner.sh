#!/usr/bin/env bash
# Benchmark: the image_cleaner binary (run by hand, as the systemd timer runs it) over
# BENCH_SIZES images (default "250 500 1000") in a local Glance (scripts/glance.sh, in a
# temporary directory; one worker: with several, concurrent writes to its sqlite database
# fail with 500 "database is locked", a limit of this test Glance, not of MySQL-backed ones), with the Nova STUB of
# gomodules/cleaner/novastub serving BENCH_SERVERS servers (default 3000, 1000 a page, as
# Nova's max_limit), one of which uses a managed image.
#
# The images are image records without data (status queued, which the cleaner handles
# like any other): 1000 uploads would measure Glance's store, not the cleaner. Image i
# carries the tags of every size >= i, so `tags: [nN]` selects the first N images.
#
# For each size: a check-mode run that would hide every image (now = 13 months ahead),
# and a run where every image is too young (now = 1 month ahead): nothing to do. Then,
# for the largest size: a real run hiding every image, the same run again (nothing left
# to do), and a real run deleting them all (now = 19 months ahead), which also cleans up.
#
# Reported per run: wall time of the binary, and the API calls it made, counted on the
# servers' side: request lines in glance-api's log (by method) and in the stub's log.
# The cost must grow linearly with the image count, with no call for an image left alone:
# reads are list pages, writes one per image changed. Measured here, never asserted: the
# script fails only when a run fails.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
read -r -a SIZES <<<"${BENCH_SIZES:-250 500 1000}"
SERVERS=${BENCH_SERVERS:-3000}
STATE=$(mktemp -d "${TMPDIR:-/tmp}/imageops-bench-cleaner.XXXXXX")
nova_pid=
cleanup() {
  if [ -n "$nova_pid" ]; then kill "$nova_pid" 2>/dev/null || true; fi
  scripts/glance.sh stop "$STATE/glance" >/dev/null 2>&1 || true
  rm -rf "$STATE"
}
trap cleanup EXIT

arch=$(go env GOARCH)
CLEANER="$ROOT/build/bin/image_cleaner_linux_$arch"
[ -x "$CLEANER" ] || make -s -C "$ROOT" build
go build -o "$STATE/nova-stub" ./gomodules/cleaner/novastub/serve

IMAGEOPS_GLANCE_WORKERS=1 scripts/glance.sh start "$STATE/glance" >/dev/null
# shellcheck disable=SC1091
source "$STATE/glance/env"
GLANCE_LOG="$STATE/glance/glance-api.log"
largest=${SIZES[-1]}

echo "creating $largest image records in Glance at $IMAGEOPS_GLANCE_URL"
python3 - "$IMAGEOPS_GLANCE_URL" "$largest" "${SIZES[*]}" "$STATE/servers.json" "$SERVERS" <<'PY'
import concurrent.futures, json, os, sys, urllib.request
url, largest, sizes, servers_file, servers = sys.argv[1], int(sys.argv[2]), [int(s) for s in sys.argv[3].split()], sys.argv[4], int(sys.argv[5])
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
def create(i):
    body = {"name": "bench-%04d" % i, "disk_format": "raw", "container_format": "bare", "visibility": "public",
            "imageops_bench": "cleaner", "tags": ["n%d" % s for s in sizes if i < s]}
    req = urllib.request.Request(url + "/v2/images", data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with opener.open(req) as resp:
        return json.load(resp)["id"]
with concurrent.futures.ThreadPoolExecutor(16) as pool:
    ids = list(pool.map(create, range(largest)))
# The stub's servers: every project, any status; the first one uses the first image.
listed = [{"id": "srv-%05d" % n, "name": "vm-%d" % n, "status": ["ACTIVE", "SHUTOFF", "ERROR"][n % 3],
           "tenant_id": "project-%d" % (n % 50), "image_id": ids[0] if n == 0 else ("other-image-%d" % n if n % 4 else "")}
          for n in range(servers)]
json.dump(listed, open(servers_file, "w"))
PY

"$STATE/nova-stub" -servers "$STATE/servers.json" >"$STATE/nova-url" 2>"$STATE/nova.log" &
nova_pid=$!
for _ in $(seq 100); do [ -s "$STATE/nova-url" ] && break; sleep 0.1; done
NOVA=$(head -n 1 "$STATE/nova-url")

later() { date -u -d "+$1 months +1 day" +%Y-%m-%dT%H:%M:%SZ; }
# run LABEL SIZE MONTHS [--check]: one run of the binary; prints a table row.
run() {
  local label=$1 size=$2 months=$3 flag=${4:-} g0 n0 t0 t1
  cat >"$STATE/args.yml" <<EOF
tags: [n$size]
filters: {imageops_bench: cleaner}
now: "$(later "$months")"
compute_endpoint_override: $NOVA
EOF
  g0=$(wc -l <"$GLANCE_LOG")
  n0=$(wc -l <"$STATE/nova.log")
  t0=$(date +%s.%N)
  # shellcheck disable=SC2086
  "$CLEANER" $flag "$STATE/args.yml" >"$STATE/out.json" || { head -c 2000 "$STATE/out.json"; exit 1; }
  t1=$(date +%s.%N)
  python3 - "$label" "$size" "$t0" "$t1" "$STATE/out.json" "$GLANCE_LOG" "$g0" "$STATE/nova.log" "$n0" <<'PY'
import json, re, sys
label, size, t0, t1, out, glog, g0, nlog, n0 = sys.argv[1:]
report = json.load(open(out))
lines = open(glog).read().splitlines()[int(g0):]
calls = {}
for line in lines:
    m = re.search(r'"(GET|POST|PUT|PATCH|DELETE) /v2/', line)
    if m:
        calls[m.group(1)] = calls.get(m.group(1), 0) + 1
nova = len(open(nlog).read().splitlines()[int(n0):])
glance = sum(calls.values())
print("%-22s %5s %7.2fs  glance %5d (%s)  nova %d  hidden %d deleted %d kept %d skipped %d" % (
    label, size, float(t1) - float(t0), glance, " ".join("%s %d" % kv for kv in sorted(calls.items())) or "-", nova,
    len(report["hidden"]), len(report["deleted"]), len(report["kept"]), len(report["skipped_images"])))
PY
}

echo "run                     size    time   API calls (server side)                 report"
for size in "${SIZES[@]}"; do
  run "check mode, all old" "$size" 13 --check
  run "all too young" "$size" 1
done
run "hide all" "$largest" 13
run "again: nothing to do" "$largest" 13
run "delete all" "$largest" 19
echo "image_cleaner bench: sizes ${SIZES[*]}, $SERVERS servers in the Nova stub"
