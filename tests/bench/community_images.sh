#!/usr/bin/env bash
# Benchmark: community images into Glance, azimuth-ops' way against ours, side by side
# in one run, on one local Glance (scripts/glance.sh, in build/bench-glance) and the
# same images served over HTTP on loopback (scripts/serve.sh):
#
#   convert  a fresh upload that needs a conversion, raw -> qcow2 and qcow2 -> raw:
#            baseline  azimuth-ops' role, step by step: `curl -o` (for get_url),
#                      `qemu-img convert -f SRC -O DEST IN OUT` (no -m, no -W),
#                      `openstack image create -f json --container-format bare
#                      --disk-format DEST --file OUT NAME`, then removing the files;
#            playbook  imageops.cloud.community_image through ansible-playbook;
#            binary    build/bin/community_image_linux_<arch> ARGS.json by hand:
#                      the module's own cost, without Ansible's.
#            On fixtures' disk.raw (64 MiB, raw -> qcow2), on a bigger real raw image (an
#            ext4 filesystem of /usr/share files, BENCH_BIG_MIB, default 512) and on a
#            huge one (BENCH_HUGE_MIB, default 2048; BENCH_HUGE_REPEAT runs, default 1),
#            each both ways.
#   stream   a fresh upload that needs no conversion (qcow2 -> qcow2): `curl -o` then
#            `openstack image create --file`, against the module (it streams, no temp file).
#   floor    beside every upload: Glance's own time to take the bytes the upload stores,
#            a bare `curl -T FILE` PUT of the converted image (made beforehand, not
#            timed) into an image created beforehand: no tool can upload faster.
#   rerun    BENCH_IMAGES images (default 20) already in Glance: azimuth's existence
#            check, one `openstack image list -f json --name NAME` per image in sequence,
#            against the role (ansible-playbook imageops.cloud.community_images), which
#            must report changed=0. (azimuth-ops runs more per image: a second list with
#            --community, and `image show` twice; one list is the baseline's lower bound.)
#
# Every uploaded image is checked (active, disk_format, virtual size, for streams the
# SHA-512 of the source) and deleted before the next repetition, so that every upload is
# fresh. Each measurement runs BENCH_REPEAT times (default 3), the ways in rotating
# order; the table shows medians of the wall time, ratio baseline/ours, the line count
# of what was timed (the baseline's shell script; our playbook, vars or args file), and
# the client-side CPU seconds (user+sys of the timed processes; Glance's own work is not
# in it), and Glance's CPU seconds (its API processes' user+sys during the run). A second
# table shows the physical limits per case: the floor beside the baseline, Glance's CPU in
# the floor and what its two hashes of the stored bytes (md5 checksum, sha512
# os_hash_value, hashlib in 64 KiB updates as glance_store) cost of it, and the least client
# CPU a verified upload through ansible-playbook takes (one SHA-512 of the stored bytes and
# Ansible's fixed cost). Speed is measured here, never asserted: the script fails only when
# a step fails.
set -Eeuo pipefail
export LC_ALL=C.UTF-8 # a dot in EPOCHREALTIME; Ansible wants UTF-8

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
REPEAT=${BENCH_REPEAT:-3}
NIMAGES=${BENCH_IMAGES:-20}
BIG_MIB=${BENCH_BIG_MIB:-512}
HUGE_MIB=${BENCH_HUGE_MIB:-2048}
HUGE_REPEAT=${BENCH_HUGE_REPEAT:-1}
# BENCH_CASES: the cases to run, by name (convert convert-big to-raw-big stream-big stream
# convert-huge to-raw-huge rerun); empty: all.
CASES_WANTED=" ${BENCH_CASES:-} "
GLANCE_DIR=$ROOT/build/bench-glance
FIXTURES=$ROOT/build/fixtures
export ANSIBLE_COLLECTIONS_PATH=${ANSIBLE_COLLECTIONS_PATH:-$ROOT/build/collections}
export ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_LOCALHOST_WARNING=0
# Everything talks to 127.0.0.1: no proxy, whatever the environment says.
export no_proxy=127.0.0.1,localhost NO_PROXY=127.0.0.1,localhost

die() {
  echo "bench community_images: $*" >&2
  exit 1
}
# wanted CASE: whether BENCH_CASES names CASE (or is empty).
wanted() { [ "$CASES_WANTED" = "  " ] || [[ $CASES_WANTED == *" $1 "* ]]; }

# -E: also for failures inside functions; reported once, by the main shell.
trap '[ "$BASHPID" != $$ ] || echo "bench community_images: failed at line $LINENO: $BASH_COMMAND" >&2' ERR

[[ $REPEAT =~ ^[1-9][0-9]*$ ]] || die "BENCH_REPEAT must be a positive number, not $REPEAT"
[[ $NIMAGES =~ ^[1-9][0-9]*$ ]] || die "BENCH_IMAGES must be a positive number, not $NIMAGES"
[[ $BIG_MIB =~ ^[0-9]+$ ]] || die "BENCH_BIG_MIB must be a number of MiB (0: no big image), not $BIG_MIB"
[ "$BIG_MIB" = 0 ] || [ "$BIG_MIB" -ge 64 ] || die "BENCH_BIG_MIB must be 0 or at least 64"
[[ $HUGE_MIB =~ ^[0-9]+$ ]] || die "BENCH_HUGE_MIB must be a number of MiB (0: no huge image), not $HUGE_MIB"
[ "$HUGE_MIB" = 0 ] || [ "$HUGE_MIB" -ge 64 ] || die "BENCH_HUGE_MIB must be 0 or at least 64"
[[ $HUGE_REPEAT =~ ^[1-9][0-9]*$ ]] || die "BENCH_HUGE_REPEAT must be a positive number, not $HUGE_REPEAT"

# Debian's python3 for the checks: a version manager's shim in PATH can cost a second a call.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
for tool in curl qemu-img openstack ansible-playbook glance-api mkfs.ext4 python3 sha512sum flock; do
  command -v "$tool" >/dev/null || die "$tool is missing; run \`make deps\` (scripts/install-deps.sh)"
done
case $(uname -m) in
x86_64 | amd64) arch=amd64 ;;
aarch64 | arm64) arch=arm64 ;;
*) die "no module build for $(uname -m)" ;;
esac
BINARY=$ROOT/build/bin/community_image_linux_$arch
[ -x "$BINARY" ] || die "$BINARY is missing; run \`make build\`"
[ -e "$ANSIBLE_COLLECTIONS_PATH/ansible_collections/imageops/cloud/galaxy.yml" ] ||
  die "imageops.cloud is not in $ANSIBLE_COLLECTIONS_PATH; run \`make build\`"

# One run of this benchmark at a time: it owns build/bench-glance. The lock is this
# script's own file (no lock file to leave behind); fd 7 is closed for the servers.
exec 7<"${BASH_SOURCE[0]}"
flock -w 900 7 || die "another run of ${BASH_SOURCE[0]} is still running"
mkdir -p "$ROOT/build"

STATE=$(mktemp -d "$ROOT/build/bench-community-images.XXXXXX")
WWW=$STATE/www     # what the file server serves: ours alone, so that stopping it stops no one else's
WORK=$STATE/work   # downloads and conversions, of the baseline and of the module alike
RUNS=$STATE/runs   # what each timed run printed
mkdir -p "$WWW" "$WORK" "$RUNS" "$STATE/timed"
GLANCE_STARTED=0

cleanup() {
  local rc=$?
  set +e
  trap - ERR
  if [ "$GLANCE_STARTED" = 1 ]; then
    "$PY" "$STATE/check.py" delete-all "$GLANCE_URL" ||
      echo "bench community_images: could not delete every image; $GLANCE_DIR is removed below anyway" >&2
    if [ "$rc" != 0 ] && [ -f "$GLANCE_DIR/glance-api.log" ]; then
      echo "bench community_images: last lines of glance-api.log:" >&2
      tail -n 15 "$GLANCE_DIR/glance-api.log" >&2
    fi
  fi
  scripts/serve.sh stop "$WWW" >/dev/null 2>&1 &&
    rm -f "$ROOT/build/serve/www-$(realpath -m "$WWW" | tr -d '\n' | sha256sum | cut -c1-12).log" # serve.sh's log of it
  scripts/glance.sh stop "$GLANCE_DIR" >/dev/null 2>&1 && rm -rf "$GLANCE_DIR"
  rm -rf "$STATE"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# check.py: the verifications, never timed. Each subcommand exits non-zero, saying why,
# when what it checks is not so.
cat >"$STATE/check.py" <<'PY'
import json, re, sys, urllib.request

opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

def fail(msg):
    sys.exit("check: " + msg)

def http(method, url):
    req = urllib.request.Request(url, method=method, headers={"Accept": "application/json"})
    with opener.open(req, timeout=60) as resp:
        body = resp.read()
        return resp.status, json.loads(body) if body else None

def last_json(text, marker):
    """The JSON object after the last occurrence of marker in text."""
    at = text.rfind(marker)
    if at < 0:
        fail("no %r in the output" % marker)
    return json.JSONDecoder().raw_decode(text[text.index("{", at):])[0]

def module_result(path, changed, converted):
    """The binary's JSON, or ansible-playbook's minimal callback ("localhost | CHANGED => {...}")."""
    text = open(path).read()
    result = last_json(text, "=> {") if "=> {" in text else json.loads(text)
    if result.get("failed"):
        fail("the module failed: %s" % result.get("msg"))
    if result.get("changed") is not (changed == "true"):
        fail("changed is %s, expected %s" % (result.get("changed"), changed))
    if result.get("converted") is not (converted == "true"):
        fail("converted is %s, expected %s" % (result.get("converted"), converted))
    if (result.get("image") or {}).get("status") != "active":
        fail("the image is %s, not active" % (result.get("image") or {}).get("status"))
    print(result["id"])

def create_result(path):
    """openstack image create -f json's output: the image as created, before the upload
    (status queued); `image` below checks that it is active now."""
    result = json.load(open(path))
    if not re.fullmatch(r"[0-9a-f-]{36}", result.get("id") or ""):
        fail("openstack image create printed no image ID: %r" % result)
    print(result["id"])

def image(url, image_id, disk_format, virtual_size, sha512):
    """The image in Glance: active, in disk_format, of virtual_size bytes, holding sha512 ('-': any)."""
    _, img = http("GET", "%s/v2/images/%s" % (url, image_id))
    want = {"status": "active", "disk_format": disk_format, "virtual_size": int(virtual_size)}
    if sha512 != "-":
        want["os_hash_value"] = sha512
    for key, value in want.items():
        if img.get(key) != value:
            fail("image %s (%s): %s is %r, expected %r" % (img.get("name"), image_id, key, img.get(key), value))
    print(img["size"])

def create(url, name, disk_format):
    """A new image record, queued, for the floor's bare PUT; prints its ID."""
    body = json.dumps({"name": name, "disk_format": disk_format, "container_format": "bare"}).encode()
    req = urllib.request.Request("%s/v2/images" % url, data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
    with opener.open(req, timeout=60) as resp:
        print(json.loads(resp.read())["id"])

def timings(path):
    """The module's timings, as one line for the log ('' when there are none)."""
    text = open(path).read()
    result = last_json(text, "=> {") if "=> {" in text else json.loads(text)
    t = result.get("timings") or {}
    if t:
        print("  [" + " ".join("%s %.2f" % (k, t[k]) for k in ("download", "verify", "convert", "upload", "read_back") if k in t) + "]")

def delete(url, image_id):
    status, _ = http("DELETE", "%s/v2/images/%s" % (url, image_id))
    if status != 204:
        fail("DELETE image %s answered %d" % (image_id, status))

def delete_all(url):
    _, listing = http("GET", "%s/v2/images?visibility=all&limit=1000" % url)
    for img in listing["images"]:
        delete(url, img["id"])

def names_listed(directory, count):
    """The baseline's re-run: each of the count `image list` outputs shows one active image."""
    for i in range(1, int(count) + 1):
        listed = json.load(open("%s/%02d.json" % (directory, i)))
        if len(listed) != 1 or listed[0].get("Status") != "active":
            fail("openstack image list for image %d found %r, expected one active image" % (i, listed))

def role_run(path, changed, count):
    """ansible-playbook imageops.cloud.community_images: the recap, and count image IDs."""
    text = open(path).read()
    recap = re.search(r"localhost\s+: ok=\d+\s+changed=(\d+)\s+unreachable=0\s+failed=0", text)
    if not recap:
        fail("no successful PLAY RECAP for localhost")
    if changed == "0" and recap.group(1) != "0":
        fail("the re-run reported changed=%s, expected changed=0" % recap.group(1))
    if changed != "0" and recap.group(1) == "0":
        fail("the first run reported changed=0, expected uploads")
    ids = last_json(text, '"community_images_image_ids": {')
    ids = ids.get("community_images_image_ids", ids)
    if len(ids) != int(count) or not all(re.fullmatch(r"[0-9a-f-]{36}", v) for v in ids.values()):
        fail("community_images_image_ids holds %r, expected %s image IDs" % (ids, count))

def glance_hashes(path):
    """CPU ms of what Glance computes over every byte it stores: the md5 checksum and the
    sha512 os_hash_value, with hashlib in glance_store's 64 KiB chunks."""
    import hashlib, time
    md5, sha512 = hashlib.md5(), hashlib.sha512()
    start = time.process_time()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(65536), b""):
            md5.update(chunk)
            sha512.update(chunk)
    print(int((time.process_time() - start) * 1000))

commands = {"glance-hashes": glance_hashes, "module-result": module_result, "create-result": create_result, "image": image, "create": create, "timings": timings,
            "delete": delete, "delete-all": delete_all, "names-listed": names_listed, "role-run": role_run}
commands[sys.argv[1]](*sys.argv[2:])
PY

# --- Glance and the images ---------------------------------------------------------
t_setup=$SECONDS
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
scripts/glance.sh stop "$GLANCE_DIR" >/dev/null # start from an empty Glance
scripts/glance.sh start "$GLANCE_DIR" 7>&-
GLANCE_STARTED=1
# shellcheck disable=SC1091 # written by glance.sh start
source "$GLANCE_DIR/env" # OS_CLIENT_CONFIG_FILE, OS_CLOUD (the baseline's), IMAGEOPS_GLANCE_URL
GLANCE_URL=$IMAGEOPS_GLANCE_URL
scripts/fixtures.sh "$FIXTURES" 7>&-
# Hard links where possible: the fixtures may be rebuilt (renamed over) meanwhile.
for f in disk.raw disk.qcow2; do ln -f "$FIXTURES/$f" "$WWW/$f" 2>/dev/null || cp "$FIXTURES/$f" "$WWW/$f"; done

# build_big NAME MIB: NAME.raw, an ext4 filesystem of MIB MiB, up to three quarters of
# it real files from /usr/share in name order; NAME.qcow2: the same converted (not timed).
build_big() {
  local name=$1 mib=$2 root=$STATE/big-root budget=$(($2 * 1024 * 1024 * 3 / 4)) t0=$SECONDS
  mkdir -p "$root"
  "$PY" - "$budget" >"$STATE/big-files" <<'PY'
import os, sys
budget, total = int(sys.argv[1]), 0
for top, dirs, files in os.walk("/usr/share"):
    dirs.sort()
    for name in sorted(files):
        path = os.path.join(top, name)
        if not os.path.isfile(path) or os.path.islink(path):
            continue
        total += os.path.getsize(path)
        if total > budget:
            sys.exit(0)
        sys.stdout.write(os.path.relpath(path, "/usr/share") + "\0")
PY
  (cd /usr/share && xargs -0 -r cp -p --parents -t "$root" -- <"$STATE/big-files")
  mkfs.ext4 -q -F -L imageops-bench -d "$root" "$WWW/$name.raw" "${mib}M" >/dev/null
  rm -rf "$root" "$STATE/big-files"
  qemu-img convert -f raw -O qcow2 "$WWW/$name.raw" "$WWW/$name.qcow2"
  echo "built $name.raw ($mib MiB ext4 of /usr/share files) and $name.qcow2 ($(($(stat -c %s "$WWW/$name.qcow2") / 1048576)) MiB) in $((SECONDS - t0)) s"
}
[ "$BIG_MIB" = 0 ] || ! { wanted convert-big || wanted to-raw-big || wanted stream-big; } || build_big big "$BIG_MIB"
[ "$HUGE_MIB" = 0 ] || ! { wanted convert-huge || wanted to-raw-huge; } || build_big huge "$HUGE_MIB"
SRC_URL=$(scripts/serve.sh start "$WWW" 7>&- | tail -n 1)
echo "serving $WWW at $SRC_URL"

# --- timing ------------------------------------------------------------------------
# children_cpu: CHILD_MS = user+sys ms of the children this shell has waited for so far.
# It must run in this shell, not in $(...): a subshell starts with no children's times.
children_cpu() {
  local user sys
  times >"$STATE/times"
  { read -r _ _ && read -r user sys; } <"$STATE/times" # second line: children, "1m2.345s 0m0.123s"
  CHILD_MS=$(($(ms_of "$user") + $(ms_of "$sys")))
}
ms_of() { # 1m2.345s -> 62345 (bash's times prints three decimals)
  local s=${1#*m}
  s=${s%s}
  echo $((${1%%m*} * 60000 + 10#${s/./}))
}
# glance_cpu: GLANCE_CPU_MS = user+sys ms so far of this benchmark's glance-api processes
# (the parent and its workers).
CLK_TCK=$(getconf CLK_TCK)
glance_cpu() {
  local ticks=0 pid stat parent
  GLANCE_CPU_MS=0
  [ "$GLANCE_STARTED" = 1 ] && [ -r "$GLANCE_DIR/glance-api.pid" ] || return 0
  parent=$(cat "$GLANCE_DIR/glance-api.pid")
  for pid in "$parent" $(pgrep -P "$parent" || true); do
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
    stat=${stat##*) } # after the command's name: state is field 3, utime 14, stime 15
    read -r -a fields <<<"$stat"
    ticks=$((ticks + fields[11] + fields[12]))
  done
  GLANCE_CPU_MS=$((ticks * 1000 / CLK_TCK))
}
# run_timed NAME CMD...: runs CMD (an external command, so that set -e holds inside it),
# its output in RUNS/NAME.{out,err}; sets WALL_MS and CPU_MS (user+sys of CMD and of all
# it waited for), and GLANCE_MS (Glance's CPU meanwhile). A failing CMD fails the benchmark.
run_timed() {
  local name=$1 t0 t1 c0 g0
  shift
  children_cpu
  c0=$CHILD_MS
  glance_cpu
  g0=$GLANCE_CPU_MS
  t0=${EPOCHREALTIME/./}
  if ! "$@" >"$RUNS/$name.out" 2>"$RUNS/$name.err"; then
    echo "bench community_images: $name failed: $*" >&2
    tail -n 20 "$RUNS/$name.out" "$RUNS/$name.err" >&2
    exit 1
  fi
  t1=${EPOCHREALTIME/./}
  children_cpu
  glance_cpu
  WALL_MS=$(((t1 - t0) / 1000))
  CPU_MS=$((CHILD_MS - c0))
  GLANCE_MS=$((GLANCE_CPU_MS - g0))
}
secs() { printf '%d.%02d' $(($1 / 1000)) $((($1 % 1000) / 10)); }
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
lines() { grep -cvE '^[[:space:]]*(#|$)' "$@" | awk -F: '{ n += $NF } END { print n }'; }
workdir_empty() { [ -z "$(ls -A "$WORK")" ] || die "$1 left files in the working directory: $(ls -A "$WORK")"; }

declare -A WALL CPU GCPU LINES # key: CASE.WAY; values: space-separated milliseconds per repetition
declare -A HASH_CPU            # key: CASE; CPU ms of one SHA-512 of the stored bytes (openssl dgst)
declare -A GLANCE_HASH_CPU     # key: CASE; CPU ms of Glance's md5 + sha512 of them (hashlib)
declare -A STORED_MIB          # key: CASE; MiB of the stored bytes
declare -A LABEL          # key: CASE; the table's name for it
CASES=()

# --- fresh uploads: convert and stream ---------------------------------------------
# measured_files CASE SOURCE SRC_FORMAT DEST_FORMAT: writes the files timed for CASE.
measured_files() {
  local case=$1 source=$2 format=$3 dest=$4 name=bench-$1 in out
  in="$WORK/$name.download" out="$WORK/$name.convert"
  {
    echo "# azimuth-ops' community_images role, one task a line"
    echo "curl -fsS -o '$in' '$SRC_URL/$source'"
    if [ "$format" != "$dest" ]; then
      echo "qemu-img convert -f $format -O $dest '$in' '$out'"
      echo "openstack image create -f json --container-format bare --disk-format $dest --file '$out' '$name-baseline'"
    else
      echo "openstack image create -f json --container-format bare --disk-format $dest --file '$in' '$name-baseline'"
    fi
    echo "rm -f '$in' '$out'"
  } >"$STATE/timed/$case.baseline.sh"
  cat >"$STATE/timed/$case.playbook.yml" <<YAML
- hosts: localhost
  gather_facts: false
  tasks:
    - imageops.cloud.community_image:
        name: $name-playbook
        source_url: $SRC_URL/$source
        source_disk_format: $format
        disk_format: $dest
        container_format: bare
        workdir: $WORK
        cloud: $OS_CLOUD
YAML
  cat >"$STATE/timed/$case.binary.json" <<JSON
{
  "name": "$name-binary",
  "source_url": "$SRC_URL/$source",
  "source_disk_format": "$format",
  "disk_format": "$dest",
  "container_format": "bare",
  "workdir": "$WORK",
  "cloud": "$OS_CLOUD"
}
JSON
  echo "curl -fsS -X PUT -H 'Content-Type: application/octet-stream' -T FILE $GLANCE_URL/v2/images/ID/file" \
    >"$STATE/timed/$case.floor.sh"
  LINES[$case.baseline]=$(lines "$STATE/timed/$case.baseline.sh")
  LINES[$case.playbook]=$(lines "$STATE/timed/$case.playbook.yml")
  LINES[$case.binary]=$(lines "$STATE/timed/$case.binary.json")
}

# stored_bytes SOURCE SRC_FORMAT DEST_FORMAT: prints the path of the bytes an upload of
# SOURCE in DEST_FORMAT stores, as qemu-img convert writes them (made once, not timed):
# the floor's data.
stored_bytes() {
  local source=$1 format=$2 dest=$3 out
  if [ "$format" = "$dest" ]; then
    echo "$WWW/$source"
    return
  fi
  out=$STATE/stored/$source.$dest
  mkdir -p "$STATE/stored"
  [ -e "$out" ] || qemu-img convert -f "$format" -O "$dest" "$WWW/$source" "$out"
  echo "$out"
}

# upload_case CASE SOURCE SRC_FORMAT DEST_FORMAT RUNS: RUNS fresh uploads of SOURCE each
# way, and the floor, each checked in Glance and deleted.
upload_case() {
  local case=$1 source=$2 format=$3 dest=$4 runs=$5 r i way run id size converted=false virtual sha=- floor_data
  local ways=(baseline playbook binary floor)
  wanted "$case" || return 0
  [ "$format" != "$dest" ] && converted=true
  CASES+=("$case")
  LABEL[$case]="$source -> $dest ($(($(stat -c %s "$WWW/$source") / 1048576)) MiB)"
  [ "$converted" = false ] && LABEL[$case]="$source stream ($(($(stat -c %s "$WWW/$source") / 1048576)) MiB)"
  virtual=$(qemu-img info --output=json "$WWW/$source" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["virtual-size"])')
  floor_data=$(stored_bytes "$source" "$format" "$dest")
  # A stream stores the source's bytes, a conversion to raw the disk's: both known.
  [ "$dest" = raw ] || [ "$converted" = false ] && sha=$(sha512sum "$floor_data" | cut -d' ' -f1)
  measured_files "$case" "$source" "$format" "$dest"
  # What checking the stored bytes against os_hash_value costs at least: one SHA-512 of
  # them, by OpenSSL (faster than Go's crypto/sha512 here), from the page cache.
  cat "$floor_data" >/dev/null
  run_timed "$case.sha512" openssl dgst -sha512 "$floor_data"
  HASH_CPU[$case]=$CPU_MS
  GLANCE_HASH_CPU[$case]=$("$PY" "$STATE/check.py" glance-hashes "$floor_data")
  STORED_MIB[$case]=$(($(stat -c %s "$floor_data") / 1048576))
  for ((r = 0; r < runs; r++)); do
    for ((i = 0; i < ${#ways[@]}; i++)); do
      way=${ways[(i + r) % ${#ways[@]}]} # rotate the order: no way always goes first
      run=$case.$way.$r
      case $way in
      baseline)
        run_timed "$run" bash -euo pipefail "$STATE/timed/$case.baseline.sh"
        id=$("$PY" "$STATE/check.py" create-result "$RUNS/$run.out")
        ;;
      playbook)
        run_timed "$run" env ANSIBLE_STDOUT_CALLBACK=minimal \
          ansible-playbook -i localhost, -c local "$STATE/timed/$case.playbook.yml"
        id=$("$PY" "$STATE/check.py" module-result "$RUNS/$run.out" true "$converted")
        ;;
      binary)
        run_timed "$run" "$BINARY" "$STATE/timed/$case.binary.json"
        id=$("$PY" "$STATE/check.py" module-result "$RUNS/$run.out" true "$converted")
        ;;
      floor)
        id=$("$PY" "$STATE/check.py" create "$GLANCE_URL" "bench-$case-floor" "$dest")
        run_timed "$run" curl -fsS --noproxy '*' -X PUT -H 'Content-Type: application/octet-stream' \
          -T "$floor_data" "$GLANCE_URL/v2/images/$id/file"
        ;;
      esac
      workdir_empty "$run"
      size=$("$PY" "$STATE/check.py" image "$GLANCE_URL" "$id" "$dest" "$virtual" "$sha")
      "$PY" "$STATE/check.py" delete "$GLANCE_URL" "$id"
      WALL[$case.$way]+="$WALL_MS " CPU[$case.$way]+="$CPU_MS " GCPU[$case.$way]+="$GLANCE_MS "
      printf '  %-14s %-9s run %d: %6ss  (cpu %ss, glance cpu %ss, stored %d MiB)%s\n' "$case" "$way" $((r + 1)) \
        "$(secs "$WALL_MS")" "$(secs "$CPU_MS")" "$(secs "$GLANCE_MS")" $((size / 1048576)) "$(timings_of "$RUNS/$run.out" "$way")"
    done
  done
}

# timings_of OUT WAY: the module's own timings, for the log.
timings_of() {
  case $2 in
  playbook | binary) "$PY" "$STATE/check.py" timings "$1" ;;
  esac
}

# Ansible's own cost: a playbook of one task that does nothing (ansible.builtin.command true),
# what every playbook row pays before the module does any work.
cat >"$STATE/timed/ansible.playbook.yml" <<'YAML'
- hosts: localhost
  gather_facts: false
  tasks:
    - ansible.builtin.command: "true"
      changed_when: false
YAML
ansible_walls=() ansible_cpus=()
for ((r = 0; r < REPEAT; r++)); do
  run_timed "ansible.$r" env ANSIBLE_STDOUT_CALLBACK=minimal ansible-playbook -i localhost, -c local "$STATE/timed/ansible.playbook.yml"
  ansible_walls+=("$WALL_MS") ansible_cpus+=("$CPU_MS")
done
ANSIBLE_WALL=$(median "${ansible_walls[@]}") ANSIBLE_CPU=$(median "${ansible_cpus[@]}")
echo "Ansible's fixed cost (a playbook of one command task): $(secs "$ANSIBLE_WALL") s, cpu $(secs "$ANSIBLE_CPU") s"

echo "== fresh uploads, $REPEAT runs each (every image checked in Glance, then deleted)"
upload_case convert disk.raw raw qcow2 "$REPEAT"
if [ "$BIG_MIB" != 0 ]; then
  upload_case convert-big big.raw raw qcow2 "$REPEAT"
  upload_case to-raw-big big.qcow2 qcow2 raw "$REPEAT"
  upload_case stream-big big.qcow2 qcow2 qcow2 "$REPEAT"
else
  upload_case stream disk.qcow2 qcow2 qcow2 "$REPEAT"
fi
if [ "$HUGE_MIB" != 0 ]; then
  upload_case convert-huge huge.raw raw qcow2 "$HUGE_REPEAT"
  upload_case to-raw-huge huge.qcow2 qcow2 raw "$HUGE_REPEAT"
fi

# --- the idempotent re-run --------------------------------------------------------
RERUN=rerun-$NIMAGES
if wanted rerun; then
  sha=$(sha512sum "$WWW/disk.qcow2" | cut -d' ' -f1)
  {
    echo "community_images_clouds_file: $OS_CLIENT_CONFIG_FILE"
    echo "community_images_cloud: $OS_CLOUD"
    echo "community_images_workdir: $WORK"
    echo "# public: \`openstack image list\` lists public images, not community ones"
    echo "community_images_default_visibility: public"
    echo "community_images_default: {}"
    echo "community_images_extra:"
    for ((i = 1; i <= NIMAGES; i++)); do
      printf '  bench_%02d:\n    name: bench-rerun-%02d\n' "$i" "$i"
      echo "    source_url: $SRC_URL/disk.qcow2"
      echo "    checksum_sha512: sha512:$sha"
      echo "    source_disk_format: qcow2"
      echo "    container_format: bare"
    done
  } >"$STATE/timed/$RERUN.vars.yml"
  {
    echo "# azimuth-ops' existence check, one image after the other"
    for ((i = 1; i <= NIMAGES; i++)); do
      printf "openstack image list -f json --name bench-rerun-%02d >'%s/%02d.json'\n" "$i" "$RUNS/$RERUN-listed" "$i"
    done
  } >"$STATE/timed/$RERUN.baseline.sh"
  LINES[$RERUN.baseline]=$(lines "$STATE/timed/$RERUN.baseline.sh")
  LINES[$RERUN.role]=1+$(lines "$STATE/timed/$RERUN.vars.yml") # the ansible-playbook line + the specs

  echo "== re-run of $NIMAGES images already in Glance, $REPEAT runs each"
  t0=$SECONDS
  run_timed "$RERUN.first" ansible-playbook -i localhost, -c local imageops.cloud.community_images \
    -e "@$STATE/timed/$RERUN.vars.yml"
  "$PY" "$STATE/check.py" role-run "$RUNS/$RERUN.first.out" uploads "$NIMAGES"
  workdir_empty "$RERUN.first"
  echo "  first run (not timed): $NIMAGES images uploaded in $((SECONDS - t0)) s"
  for ((r = 0; r < REPEAT; r++)); do
    ways=(baseline role)
    for ((i = 0; i < 2; i++)); do
      way=${ways[(i + r) % 2]}
      run=$RERUN.$way.$r
      if [ "$way" = baseline ]; then
        rm -rf "$RUNS/$RERUN-listed" && mkdir "$RUNS/$RERUN-listed"
        run_timed "$run" bash -euo pipefail "$STATE/timed/$RERUN.baseline.sh"
        "$PY" "$STATE/check.py" names-listed "$RUNS/$RERUN-listed" "$NIMAGES"
      else
        run_timed "$run" ansible-playbook -i localhost, -c local imageops.cloud.community_images \
          -e "@$STATE/timed/$RERUN.vars.yml"
        "$PY" "$STATE/check.py" role-run "$RUNS/$run.out" 0 "$NIMAGES"
      fi
      WALL[$RERUN.$way]+="$WALL_MS " CPU[$RERUN.$way]+="$CPU_MS "
      printf '  %-14s %-9s run %d: %6ss  (cpu %ss)\n' "$RERUN" "$way" $((r + 1)) "$(secs "$WALL_MS")" "$(secs "$CPU_MS")"
    done
  done
  "$PY" "$STATE/check.py" delete-all "$GLANCE_URL"
fi

# --- the table ---------------------------------------------------------------------
ratio() { # baseline_ms ours_ms
  awk -v b="$1" -v o="$2" 'BEGIN {
    if (o <= 0 || b <= 0) print "-"
    else if (b / o < 1.05 && o / b < 1.05) print "about equal"
    else if (b > o) printf "%.1fx faster\n", b / o
    else printf "%.1fx slower\n", o / b }'
}
over_floor() { # ours_ms floor_ms
  if [ -z "$2" ] || [ "$2" -le 0 ]; then
    echo "-"
    return
  fi
  awk -v o="$1" -v f="$2" 'BEGIN { printf "%.2fx\n", o / f }'
}
row() { # label case way
  local b o bc oc f="" best=- hash=-
  # shellcheck disable=SC2086 # space-separated lists
  b=$(median ${WALL[$2.baseline]}) o=$(median ${WALL[$2.$3]}) bc=$(median ${CPU[$2.baseline]}) oc=$(median ${CPU[$2.$3]})
  # shellcheck disable=SC2086
  [ -z "${WALL[$2.floor]:-}" ] || f=$(median ${WALL[$2.floor]})
  # Through ansible-playbook, Ansible's fixed cost comes on top of the floor.
  local least=$f
  [ -z "$f" ] || [ "$3" != playbook ] || least=$((f + ANSIBLE_WALL))
  [ -z "$f" ] || best=$(awk -v b="$b" -v f="$least" 'BEGIN { printf "%.2fx\n", b / f }')
  [ -z "${HASH_CPU[$2]:-}" ] || hash=$(secs "${HASH_CPU[$2]}")
  printf '%-40s %8s %6s  %-12s %6s %6s %6s  %6s  %10s %6s\n' "$1" "$(secs "$b")" "$(secs "$o")" "$(ratio "$b" "$o")" \
    "$([ -n "$f" ] && secs "$f" || echo -)" "$(over_floor "$o" "$f")" "$best" "${LINES[$2.baseline]}/${LINES[$2.$3]}" "$(secs "$bc")/$(secs "$oc")" "$hash"
}
echo
echo "community_images bench: medians of $REPEAT runs ($HUGE_REPEAT for the huge image), seconds; ratio = baseline/ours"
printf '%-40s %8s %6s  %-12s %6s %6s %6s  %6s  %10s %6s\n' case baseline ours ratio floor /floor best lines "cpu s" sha512
for c in "${CASES[@]}"; do
  row "${LABEL[$c]}, playbook" "$c" playbook
  row "${LABEL[$c]}, binary" "$c" binary
done
! wanted rerun || row "re-run $NIMAGES images, role" "$RERUN" role
echo "baseline: azimuth-ops' commands (curl, qemu-img convert, openstack image create; for the"
echo "re-run, one openstack image list per image); ours: the module through ansible-playbook,"
echo "the bare binary with an args file, the role. lines: of the timed script/playbook/args file"
echo "(the role: its command line + the vars file of specs), without comments; cpu s: user+sys"
echo "of the timed processes (the client side; Glance's work is not in it). floor: a bare curl PUT"
echo "of the bytes the upload stores (converted beforehand), Glance's own time; /floor: ours/floor;"
echo "best: baseline/floor (for a playbook row: baseline/(floor + Ansible's fixed cost)), the most"
echo "any tool that uploads these bytes can gain. sha512: CPU seconds of one SHA-512 of the stored"
echo "bytes (openssl dgst), what checking them against os_hash_value costs at least; the baseline"
echo "checks nothing. glance cpu (in the run lines): Glance's API processes' CPU during the run."
echo "Other load on the machine moves these numbers: compare the rows of one run, not runs of"
echo "different days."
# limits CASE: what bounds the case through ansible-playbook, from this run's medians.
limits() {
  local c=$1 b o f gf bc oc least_wall least_cpu
  # shellcheck disable=SC2086 # space-separated lists
  b=$(median ${WALL[$c.baseline]}) o=$(median ${WALL[$c.playbook]}) f=$(median ${WALL[$c.floor]}) gf=$(median ${GCPU[$c.floor]})
  # shellcheck disable=SC2086
  bc=$(median ${CPU[$c.baseline]}) oc=$(median ${CPU[$c.playbook]})
  least_wall=$((f + ANSIBLE_WALL)) least_cpu=$((HASH_CPU[$c] + ANSIBLE_CPU))
  echo "${LABEL[$c]}:"
  awk -v b="$b" -v f="$f" -v a="$ANSIBLE_WALL" -v l="$least_wall" -v o="$o" \
    -v gf="$gf" -v gh="${GLANCE_HASH_CPU[$c]}" -v mib="${STORED_MIB[$c]}" 'BEGIN {
    printf "  wall: baseline %.2f s; floor %.2f s = %.2f x baseline; + Ansible %.2f s: at most %.2fx through\n", b/1000, f/1000, f/b, a/1000, b/l
    printf "    ansible-playbook without other load (1.5x %s); ours %.2fx\n", (b/l >= 1.5 ? "reachable" : "out of reach"), b/o
    printf "  the floor is Glance'"'"'s CPU: %.2f s for %d MiB in one worker, %.2f s of it its md5 + sha512\n", gf/1000, mib, gh/1000 }'
  awk -v bc="$bc" -v oc="$oc" -v lc="$least_cpu" -v h="${HASH_CPU[$c]}" -v a="$ANSIBLE_CPU" 'BEGIN {
    printf "  client cpu: baseline %.2f s; ours %.2f s; least %.2f s (one SHA-512 %.2f + Ansible %.2f):\n", bc/1000, oc/1000, lc/1000, h/1000, a/1000
    printf "    no more than the baseline is %s\n", (lc <= bc ? "reachable" : "out of reach") }'
}
echo
echo "limits through ansible-playbook (medians): a verified upload takes at least the floor (Glance's"
echo "own time to take the bytes) plus Ansible's fixed cost, and at least one SHA-512 of the stored"
echo "bytes (OpenSSL's; Go's costs about a fifth more) plus Ansible's CPU on the client. Under load the"
echo "walls swing (a baseline of several stages in a row loses more to other load than an upload"
echo "that overlaps them, so ours may beat the bound); Glance's CPU does not, and no upload takes"
echo "less wall time than it"
for c in "${CASES[@]}"; do
  if [ -n "${WALL[$c.floor]:-}" ]; then limits "$c"; fi
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg); setup and bench took $((SECONDS - t_setup)) s"
