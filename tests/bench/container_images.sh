#!/usr/bin/env bash
# Benchmark: mirror container images from one local registry (Debian's
# docker-registry) to another, today's tools against ours, side by side in one
# run, first run and re-run (nothing left to copy). Two cases (BENCH_CASES,
# default "small atmosphere"):
#
#   small       BENCH_NAMES names (default 32) over BENCH_DISTINCT images (20),
#               BENCH_MULTI of them three-platform indexes (6), built from real
#               files, on bare loopback:
#                 crane   one `crane copy` per name, in sequence (a bash loop);
#                 skopeo  one `skopeo copy --all` per name, in sequence;
#                 mirror  the mirror_images binary, once for the whole set.
#   atmosphere  (BENCH_TOOLS, default "atmosphere crane skopeo mirror mirror-bin", picks
#               the tools) VEXXHOST Atmosphere's image dict in shape
#               (mirrortest.AtmosphereSet: 232 names over 129 references in 118
#               repositories, 38 pinned tag@digest and one by digest alone, OpenStack
#               images sharing their runtime layers, four-platform Kubernetes indexes, a
#               Helm chart), its distinct layers totalling BENCH_ATMOSPHERE_MIB MiB
#               (default 1024; about 13000 is real size), layers of random bytes, so
#               nothing compresses. Once on bare loopback and once with every registry
#               behind a proxy that delays each direction by BENCH_DELAY_MS (default
#               20 ms; a new connection also pays its handshake's round trip):
#                 atmosphere  Atmosphere's own way (vexxhost/atmosphere,
#                         roles/image_manifest/tasks/main.yml, run by `ansible-playbook
#                         vexxhost.atmosphere.image_manifest -e image_manifest_mirror=true`):
#                         an ansible.builtin.command task looping `crane copy SRC TARGET`
#                         over every name, through ansible-playbook;
#                 crane   the same copies without Ansible: one `crane copy` per name in
#                         sequence (a bash loop);
#                 skopeo  one `skopeo sync --all` of a YAML list of every reference;
#                 mirror  `ansible-playbook imageops.cloud.mirror_images`, the role's
#                         defaults, Ansible's own cost included;
#                 mirror-bin  the mirror_images binary by hand, the same options.
#               Besides each time it prints the requests each tool made per distinct
#               image, counted in the registries' access logs (source and target),
#               and for mirror what they were, the CPU seconds of the tool and of the
#               registries, and Ansible's fixed cost (an empty playbook, a playbook
#               of one command task). After the first run, every target of mirror is
#               checked against the source's digest. Beside them, the floors: of the
#               first run, gomodules/mirror/mirrortest/floor into an empty registry (every
#               distinct manifest and blob read once, then only the writes the target
#               needs, with mirror_images' parallelism: the registries' own cost); of the
#               re-run, an empty ansible-playbook; and the best ratio each baseline allows.
#
# Targets are named as the flatten strategy names them (<registry>/openstack/<last
# segment>:<tag>). crane v0.22.1 (the go-containerregistry of go.mod) is built from
# the Go module proxy into build/bench-bin. Ratios are baseline/mirror; the machine's
# other load moves the numbers, compare the rows of one run. Stops what it started.
set -Eeuo pipefail
export LC_ALL=C.UTF-8

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
CASES=${BENCH_CASES:-small atmosphere}
NAMES=${BENCH_NAMES:-32} DISTINCT=${BENCH_DISTINCT:-20} MULTI=${BENCH_MULTI:-6}
ATMOSPHERE_MIB=${BENCH_ATMOSPHERE_MIB:-1024}
DELAY_MS=${BENCH_DELAY_MS:-20}
TOOLS=${BENCH_TOOLS:-atmosphere crane skopeo mirror mirror-bin}
export ANSIBLE_COLLECTIONS_PATH=${ANSIBLE_COLLECTIONS_PATH:-$ROOT/build/collections}
export ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false
export no_proxy=127.0.0.1,localhost NO_PROXY=127.0.0.1,localhost
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

die() { echo "bench container_images: $*" >&2; exit 1; }
trap '[ "$BASHPID" != $$ ] || echo "bench container_images: failed at line $LINENO: $BASH_COMMAND" >&2' ERR
for c in $CASES; do [[ $c == small || $c == atmosphere ]] || die "BENCH_CASES: unknown case $c (expected small, atmosphere)"; done
[[ $ATMOSPHERE_MIB =~ ^[1-9][0-9]*$ ]] || die "BENCH_ATMOSPHERE_MIB must be a positive number of MiB, not $ATMOSPHERE_MIB"
[[ $DELAY_MS =~ ^[0-9]+$ ]] || die "BENCH_DELAY_MS must be a number of milliseconds, not $DELAY_MS"
for t in $TOOLS; do
  [[ $t =~ ^(atmosphere|crane|skopeo|mirror|mirror-bin)$ ]] || die "BENCH_TOOLS: unknown tool $t (expected atmosphere, crane, skopeo, mirror, mirror-bin)"
done

STATE=$(mktemp -d "${TMPDIR:-/tmp}/imageops-bench-images.XXXXXX")
REGISTRIES=() PROXIES=()
cleanup() {
  local pid
  for pid in "${PROXIES[@]}"; do kill "$pid" 2>/dev/null || true; done
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
CRANE="$BIN/crane"
# What is measured is this checkout: the multi-call module binary, and the collection Ansible finds.
arch=$(go env GOARCH)
make -s "plugins/modules/imageops_linux_$arch" "build/bin/mirror_images_linux_$arch" collection
MIRROR="$ROOT/build/bin/mirror_images_linux_$arch"
go build -o "$STATE/seed" ./gomodules/mirror/mirrortest/seed
go build -o "$STATE/delayproxy" ./gomodules/internal/delayproxy/serve
go build -o "$STATE/floor" ./gomodules/mirror/mirrortest/floor

# start_registry NAME: a registry with an access log; `address NAME` is where it listens.
start_registry() {
  REGISTRIES+=("$1")
  scripts/registry.sh start "$STATE/$1" --access-log > /dev/null
}
stop_registry() { scripts/registry.sh stop "$STATE/$1" >/dev/null; }
address() { cat "$STATE/$1/address"; }
# start_proxy NAME: a delaying proxy in front of registry NAME; `address NAME-proxy` is where.
start_proxy() {
  mkdir -p "$STATE/$1-proxy"
  "$STATE/delayproxy" -upstream "$(address "$1")" -delay "${DELAY_MS}ms" > "$STATE/$1-proxy/address" &
  PROXIES+=($!)
  for _ in $(seq 1 100); do [ -s "$STATE/$1-proxy/address" ] && return 0; sleep 0.05; done
  die "the delaying proxy for $1 did not start"
}
stop_proxies() {
  local pid
  for pid in "${PROXIES[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  PROXIES=()
}

# target DST REF: where the flatten strategy writes REF: DST/openstack/<last segment>:<tag>,
# or :sha256-<hex> for a reference by digest alone, as mirror_images tags it.
target() {
  local base=${2%@*} last digest=${2#*@}
  last=${base##*/}
  if [[ $last == *:* ]]; then echo "$1/openstack/$last"; else echo "$1/openstack/$last:${digest/:/-}"; fi
}
now() { echo "$EPOCHREALTIME"; }
elapsed() { $PY -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$1" "$(now)"; }
ratio() { $PY -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.1f}x')" "$1" "$2"; }
# refs FILE: the references of a YAML dict under container_images, in order.
refs() { $PY -c 'import sys, yaml; [print(v) for v in yaml.safe_load(open(sys.argv[1]))["container_images"].values()]' "$1"; }

# cpu_ticks REGISTRY...: the CPU time (user + system, clock ticks) the registries used so far.
cpu_ticks() {
  local r sum=0 f
  for r in "$@"; do
    read -ra f < "/proc/$(cat "$STATE/$r/pid")/stat"
    sum=$((sum + f[13] + f[14]))
  done
  echo "$sum"
}
# child_cpu VAR: sets VAR to the CPU seconds (user + system) this shell's finished children
# used so far (`times` runs here, not in a subshell, whose children would be its own).
child_cpu() {
  times > "$STATE/times"
  printf -v "$1" '%s' "$($PY -c 'import re, sys
print(sum(int(m) * 60 + float(s) for m, s in re.findall(r"(\d+)m([\d.]+)s", open(sys.argv[1]).read().splitlines()[-1])))' "$STATE/times")"
}
TICKS=$(getconf CLK_TCK)
# log_lines REGISTRY: how many lines its log has now (requests are counted from there).
log_lines() { wc -l < "$STATE/$1/registry.log"; }
# requests KIND_FILTER REGISTRY:FROM_LINE...: the requests logged since FROM_LINE, as JSON
# {kind: count}: ping, manifest HEAD/GET/PUT, blob HEAD/GET, upload (POST/PATCH/PUT), mount.
requests() {
  $PY - "$STATE" "$@" <<'PY'
import json, re, sys
state, marks = sys.argv[1], sys.argv[2:]
line_re = re.compile(r'^\S+ \S+ \S+ \[[^]]+\] "(\S+) (\S+) [^"]*" (\d{3}) ')
counts = {}
for mark in marks:
    name, start = mark.rsplit(":", 1)
    with open(f"{state}/{name}/registry.log") as f:
        for n, line in enumerate(f):
            m = line_re.match(line)
            if n < int(start) or not m:
                continue
            method, path, status = m.groups()
            path = path.split("?")[0] + ("?mount" if "mount=" in path else "")
            if path.rstrip("/") == "/v2":
                kind = "ping"
            elif "/manifests/" in path:
                kind = "manifest " + method
            elif path.endswith("?mount"):
                # A refused mount (crane and ours offer the source registry's
                # repository, which another registry cannot mount) starts an upload.
                kind = "mount" if status == "201" else "upload POST"
            elif "/blobs/uploads/" in path:
                kind = "upload " + method
            elif "/blobs/" in path:
                kind = "blob " + method
            else:
                kind = "other"
            counts[kind] = counts.get(kind, 0) + 1
print(json.dumps(counts))
PY
}
# per_image JSON N: total requests / N, one decimal.
per_image() { $PY -c 'import json, sys; print(f"{sum(json.loads(sys.argv[1]).values()) / int(sys.argv[2]):.1f}")' "$1" "$2"; }
# breakdown JSON: "ping 2, manifest HEAD 129, ..." in a fixed order.
breakdown() {
  $PY -c 'import json, sys
c = json.loads(sys.argv[1])
order = ["ping", "manifest HEAD", "manifest GET", "manifest PUT", "blob HEAD", "blob GET", "upload POST", "upload PATCH", "upload PUT", "mount", "other"]
print(", ".join(f"{k} {c[k]}" for k in order if c.get(k)))' "$1"
}

# ---------------------------------------------------------------- small case
small_case() {
  local SRC pass way start ref src
  local -A DST T
  start_registry small-src
  SRC=$(address small-src)
  for r in crane skopeo mirror; do start_registry "small-$r"; DST[$r]=$(address "small-$r"); done
  "$STATE/seed" -registry "$SRC" -distinct "$DISTINCT" -multi "$MULTI" -names "$NAMES" -pinned 2 > "$STATE/small.yml"
  mapfile -t REFS < <(refs "$STATE/small.yml")
  echo "small: ${#REFS[@]} names over $DISTINCT distinct images ($MULTI three-platform), source $SRC"
  $PY - "$STATE/small.yml" "${DST[mirror]}/openstack" > "$STATE/small-args.json" <<'PY'
import json, sys, yaml
print(json.dumps({"images": yaml.safe_load(open(sys.argv[1]))["container_images"], "registry": sys.argv[2]}))
PY
  for pass in first rerun; do
    for way in crane skopeo mirror; do
      start=$(now)
      case $way in
        crane)
          for ref in "${REFS[@]}"; do "$CRANE" copy --insecure "$ref" "$(target "${DST[crane]}" "$ref")" 2>/dev/null; done ;;
        skopeo)
          for ref in "${REFS[@]}"; do
            src=$ref
            # skopeo takes a tag or a digest, not both: copy by digest, push the tag.
            [[ $ref == *@* ]] && src="$(echo "${ref%@*}" | sed -E 's/:[^:/]+$//')@${ref#*@}"
            skopeo copy --all --quiet --src-tls-verify=false --dest-tls-verify=false \
              "docker://$src" "docker://$(target "${DST[skopeo]}" "$ref")"
          done ;;
        mirror)
          "$MIRROR" "$STATE/small-args.json" > "$STATE/small-$pass.json" || true
          $PY - "$STATE/small-$pass.json" "$pass" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
if d.get("failed"):
    sys.exit("mirror_images failed: " + d["msg"])
if sys.argv[2] == "rerun" and d["copied_images"]:
    sys.exit("mirror_images copied again on the re-run")
PY
          ;;
      esac
      T[$way.$pass]=$(elapsed "$start")
    done
  done
  echo "container_images bench, small: names=${#REFS[@]} distinct=$DISTINCT multi=$MULTI"
  for pass in first rerun; do
    printf '  %-6s crane %6ss  skopeo %6ss  mirror (binary) %6ss   crane/mirror %s, skopeo/mirror %s\n' "$pass" \
      "${T[crane.$pass]}" "${T[skopeo.$pass]}" "${T[mirror.$pass]}" \
      "$(ratio "${T[crane.$pass]}" "${T[mirror.$pass]}")" "$(ratio "${T[skopeo.$pass]}" "${T[mirror.$pass]}")"
  done
  for r in small-src small-crane small-skopeo small-mirror; do stop_registry "$r"; done
}

# ----------------------------------------------------------- atmosphere case
# skopeo_sync_yaml IMAGES_YML SRC: skopeo sync's YAML for every reference: per
# repository its tags (a pinned tag is copied by tag: the source's tag holds that
# digest) and the digests of references by digest alone.
skopeo_sync_yaml() {
  $PY - "$1" "$2" <<'PY'
import sys, yaml
images, src = yaml.safe_load(open(sys.argv[1]))["container_images"], sys.argv[2]
repos = {}
for ref in dict.fromkeys(images.values()):
    path = ref[len(src) + 1:]
    base, _, digest = path.partition("@")
    repo, _, tag = base.rpartition(":") if ":" in base.rsplit("/", 1)[-1] else (base, "", "")
    repos.setdefault(repo, []).append(tag or digest)
print(yaml.safe_dump({src: {"tls-verify": False, "images": repos}}))
PY
}

# check_targets IMAGES_YML DST: every distinct target of the flatten strategy has
# the source's digest (HEAD on both registries); prints "N/N".
check_targets() {
  $PY - "$1" "$2" <<'PY'
import sys, urllib.request, yaml
images, dst = yaml.safe_load(open(sys.argv[1]))["container_images"], sys.argv[2]
accept = ", ".join(["application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.manifest.v1+json",
                    "application/vnd.docker.distribution.manifest.list.v2+json",
                    "application/vnd.docker.distribution.manifest.v2+json"])
def digest(registry, repo, ref):
    req = urllib.request.Request(f"http://{registry}/v2/{repo}/manifests/{ref}", method="HEAD", headers={"Accept": accept})
    try:
        with urllib.request.urlopen(req) as resp:
            return resp.headers["Docker-Content-Digest"]
    except urllib.error.HTTPError as e:
        return f"HTTP {e.code}"
good, bad = 0, []
refs = list(dict.fromkeys(images.values()))
for ref in refs:
    registry, path = ref.split("/", 1)
    base, _, pin = path.partition("@")
    repo, _, tag = base.rpartition(":") if ":" in base.rsplit("/", 1)[-1] else (base, "", "")
    want = pin or digest(registry, repo, tag)
    got = digest(dst, "openstack/" + repo.rsplit("/", 1)[-1], tag or pin)
    if got == want:
        good += 1
    else:
        bad.append(f"{ref}: target has {got}")
print(f"{good}/{len(refs)}")
for b in bad[:10]:
    print("  " + b, file=sys.stderr)
sys.exit(1 if bad else 0)
PY
}

# atmosphere_playbook: Atmosphere's mirroring task (roles/image_manifest/tasks/main.yml in
# vexxhost/atmosphere), in our words: a command task, changed_when false, looping
# `crane copy SOURCE TARGET` over every name; here over the pairs of -e @pairs.json.
atmosphere_playbook() {
  cat <<'YAML'
- name: Mirror images as Atmosphere's image_manifest role does
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Mirror images
      changed_when: false
      ansible.builtin.command: "{{ crane }} copy --insecure {{ item.source }} {{ item.target }}"
      loop: "{{ pairs }}"
YAML
}
# pairs_json REFS_FILE DST: {"pairs": [{source, target}, ...]} for every name, in order.
pairs_json() {
  local ref
  while read -r ref; do printf '%s %s\n' "$ref" "$(target "$2" "$ref")"; done < "$1" |
    $PY -c 'import json, sys; print(json.dumps({"pairs": [dict(zip(("source", "target"), l.split())) for l in sys.stdin]}))'
}
# fixed_costs: ansible-playbook's own seconds, best of 3: an empty play, and a play of one
# command task (what each item of Atmosphere's loop costs, about).
fixed_costs() {
  local play kind best t start
  for kind in empty command; do
    play="$STATE/fixed-$kind.yml"
    printf -- '- hosts: localhost\n  gather_facts: false\n  tasks:\n' > "$play"
    [ "$kind" = empty ] && echo '    []' >> "$play" || printf '    - ansible.builtin.command: "true"\n      changed_when: false\n' >> "$play"
    best=
    for _ in 1 2 3; do
      start=$(now)
      ansible-playbook "$play" > /dev/null
      t=$(elapsed "$start")
      [ -z "$best" ] || [ "$($PY -c "print(int($t < $best))")" = 1 ] && best=$t
    done
    FIXED[$kind]=$best
  done
}

# floor_run NET: the physical floor of the first run (gomodules/mirror/mirrortest/floor): every
# distinct manifest and blob read once from the source, then exactly the writes the target
# needs (a POST and a PUT per distinct blob, a mount per other repository, a PUT per manifest),
# nothing else, with mirror_images' parallelism (8 images, 4 blobs each), into an empty
# registry. Sets T, R, G and FLOOR (its split) for NET's first run.
floor_run() {
  local marks=("atm-src:$(log_lines atm-src)" "atm-floor:$(log_lines atm-floor)") ticks0
  ticks0=$(cpu_ticks atm-src atm-floor)
  "$STATE/floor" -pairs "$STATE/atm-floor-pairs.json" > "$STATE/atm-floor-$1.json" || die "the floor client failed"
  G[$1.first.floor]=$($PY -c "print(f'{($(cpu_ticks atm-src atm-floor) - $ticks0) / $TICKS:.1f}')")
  R[$1.first.floor]=$(requests "${marks[@]}")
  T[$1.first.floor]=$($PY -c 'import json, sys; d = json.load(open(sys.argv[1])); print("%.2f" % (d["pull_seconds"] + d["push_seconds"]))' "$STATE/atm-floor-$1.json")
  FLOOR[$1]=$($PY -c 'import json, sys; d = json.load(open(sys.argv[1])); print("pull %.2fs + push %.2fs" % (d["pull_seconds"], d["push_seconds"]))' "$STATE/atm-floor-$1.json")
  T[$1.first.push]=$($PY -c 'import json, sys; print("%.2f" % json.load(open(sys.argv[1]))["push_seconds"])' "$STATE/atm-floor-$1.json")
  C[$1.first.floor]=-
}

atmosphere_case() {
  local SRC_DIRECT pass way start net src_addr images distinct cpu0 cpu1 ticks0 dst
  local -A DST T R B C G FIXED FLOOR
  start_registry atm-src
  SRC_DIRECT=$(address atm-src)
  start=$(now)
  "$STATE/seed" -registry "$SRC_DIRECT" -shape atmosphere -mib "$ATMOSPHERE_MIB" > "$STATE/atm-direct.yml"
  distinct=$(refs "$STATE/atm-direct.yml" | sort -u | wc -l)
  echo "atmosphere: $(refs "$STATE/atm-direct.yml" | wc -l) names over $distinct references," \
    "distinct layers ${ATMOSPHERE_MIB} MiB, seeded in $(elapsed "$start")s (source $SRC_DIRECT)"
  atmosphere_playbook > "$STATE/atmosphere.yml"
  fixed_costs
  local networks=(loopback)
  [ "$DELAY_MS" = 0 ] || networks+=("delay${DELAY_MS}ms")
  for net in "${networks[@]}"; do
    for way in $TOOLS floor; do start_registry "atm-$way"; DST[$way]=$(address "atm-$way"); done
    src_addr=$SRC_DIRECT
    if [ "$net" != loopback ]; then
      start_proxy atm-src
      src_addr=$(address atm-src-proxy)
      for way in $TOOLS floor; do start_proxy "atm-$way"; DST[$way]=$(address "atm-$way-proxy"); done
    fi
    images="$STATE/atm-$net.yml"
    sed "s|$SRC_DIRECT/|$src_addr/|" "$STATE/atm-direct.yml" > "$images"
    refs "$images" > "$STATE/atm-refs"
    mapfile -t REFS < "$STATE/atm-refs"
    skopeo_sync_yaml "$images" "$src_addr" > "$STATE/atm-sync.yml"
    [[ " $TOOLS " != *" atmosphere "* ]] || pairs_json "$STATE/atm-refs" "${DST[atmosphere]}" > "$STATE/atm-pairs.json"
    pairs_json "$STATE/atm-refs" "${DST[floor]}" > "$STATE/atm-floor-pairs.json"
    for way in mirror mirror-bin; do
      [ -z "${DST[$way]:-}" ] || $PY - "$images" "${DST[$way]}/openstack" > "$STATE/atm-$way-args.json" <<'PY'
import json, sys, yaml
print(json.dumps({"images": yaml.safe_load(open(sys.argv[1]))["container_images"], "registry": sys.argv[2]}))
PY
    done
    for pass in first rerun; do
      for way in $TOOLS; do
        local marks=("atm-src:$(log_lines atm-src)" "atm-$way:$(log_lines "atm-$way")")
        dst=${DST[$way]}
        ticks0=$(cpu_ticks atm-src "atm-$way")
        child_cpu cpu0
        start=$(now)
        case $way in
          atmosphere)
            ansible-playbook "$STATE/atmosphere.yml" -e crane="$CRANE" -e @"$STATE/atm-pairs.json" > "$STATE/atm-play.log" 2>&1 \
              || { tail -20 "$STATE/atm-play.log" >&2; die "Atmosphere's crane loop failed"; } ;;
          crane)
            for ref in "${REFS[@]}"; do "$CRANE" copy --insecure "$ref" "$(target "$dst" "$ref")" 2>/dev/null; done ;;
          skopeo)
            skopeo sync --all --src yaml --dest docker --dest-tls-verify=false \
              "$STATE/atm-sync.yml" "$dst/openstack" > "$STATE/skopeo.log" 2>&1 \
              || { tail -5 "$STATE/skopeo.log" >&2; die "skopeo sync failed"; } ;;
          mirror)
            ansible-playbook imageops.cloud.mirror_images -e @"$images" \
              -e mirror_images_registry="$dst/openstack" > "$STATE/play.log" 2>&1 \
              || { tail -20 "$STATE/play.log" >&2; die "mirror_images failed"; } ;;
          mirror-bin)
            "$MIRROR" "$STATE/atm-mirror-bin-args.json" > "$STATE/atm-bin-$net-$pass.json" \
              || { head -c 2000 "$STATE/atm-bin-$net-$pass.json" >&2; die "the mirror_images binary failed"; } ;;
        esac
        T[$net.$pass.$way]=$(elapsed "$start")
        child_cpu cpu1
        C[$net.$pass.$way]=$($PY -c "print(f'{$cpu1 - $cpu0:.1f}')")
        G[$net.$pass.$way]=$($PY -c "print(f'{($(cpu_ticks atm-src "atm-$way") - $ticks0) / $TICKS:.1f}')")
        R[$net.$pass.$way]=$(requests "${marks[@]}")
      done
      [ "$pass" = rerun ] || floor_run "$net"
      if [[ $pass == rerun && " $TOOLS " == *" mirror "* ]] && ! grep -qE '^localhost +:.* changed=0 ' "$STATE/play.log"; then
        die "mirror_images changed something on the re-run: $(grep -E '^localhost' "$STATE/play.log")"
      fi
      if [[ $pass == rerun && " $TOOLS " == *" mirror-bin "* ]] && ! grep -q '"changed": *false' "$STATE/atm-bin-$net-rerun.json"; then
        die "the mirror_images binary changed something on the re-run"
      fi
    done
    for way in mirror mirror-bin; do
      if [[ " $TOOLS " == *" $way "* ]]; then
        B[$net.$way]=$(check_targets "$STATE/atm-direct.yml" "$(address "atm-$way")") \
          || die "$way: the target differs from the source"
      fi
    done
    stop_proxies
    for way in $TOOLS floor; do stop_registry "atm-$way"; done
  done

  # cell KEY: a time, or - for a tool not run; rate A B: A/B, or -; req KEY: requests per image.
  cell() { [ -n "${T[$1]:-}" ] && echo "${T[$1]}s" || echo -; }
  rate() { [ -n "${T[$1]:-}" ] && [ -n "${T[$2]:-}" ] && ratio "${T[$1]}" "${T[$2]}" || echo -; }
  req() { [ -n "${R[$1]:-}" ] && per_image "${R[$1]}" "$distinct" || echo -; }
  # best NET.PASS [FLOOR]: each baseline's time over the floor's (floor, or FLOOR), "crane/floor 5.0x, ...".
  best() {
    local way out=()
    for way in $TOOLS; do [[ $way == mirror* ]] || out+=("$way/${2:-floor} $(rate "$1.$way" "$1.${2:-floor}")"); done
    local IFS=, joined
    joined="${out[*]}"
    echo "${joined//,/, }"
  }
  echo "container_images bench, atmosphere: names=${#REFS[@]} distinct=$distinct layers=${ATMOSPHERE_MIB}MiB, load: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "  Ansible's fixed cost: empty playbook ${FIXED[empty]}s, one command task ${FIXED[command]}s (best of 3)"
  echo "  atmosphere = Atmosphere's way (crane copy per name in an Ansible loop); crane = the same loop in bash;"
  echo "  mirror = ansible-playbook imageops.cloud.mirror_images; mirror-bin = its binary by hand"
  printf '  %-12s %-6s' network pass
  for way in $TOOLS; do printf ' %10s' "$way"; done
  for way in $TOOLS; do [[ $way == mirror* ]] || printf ' %13s' "$way/mirror"; done
  printf '\n'
  for net in "${networks[@]}"; do
    for pass in first rerun; do
      printf '  %-12s %-6s' "$net" "$pass"
      for way in $TOOLS; do printf ' %10s' "$(cell "$net.$pass.$way")"; done
      for way in $TOOLS; do [[ $way == mirror* ]] || printf ' %13s' "$(rate "$net.$pass.$way" "$net.$pass.mirror")"; done
      printf '\n'
    done
  done
  echo "  requests per distinct image, CPU seconds of the tool (incl. Ansible) / of the registries (source + target):"
  for net in "${networks[@]}"; do
    for pass in first rerun; do
      printf '  %-12s %-6s' "$net" "$pass"
      for way in $TOOLS; do printf '  %s %s req, cpu %s/%s;' "$way" "$(req "$net.$pass.$way")" "${C[$net.$pass.$way]}" "${G[$net.$pass.$way]}"; done
      printf '\n'
    done
  done
  echo "  floors: first run = the registries' own cost of handing out and taking in exactly the needed"
  echo "  bytes (each manifest and blob read once, a POST + PUT per distinct blob, a mount per other"
  echo "  repository, a PUT per manifest; 8 images x 4 blobs at once); re-run = an empty ansible-playbook."
  echo "  'best' is the highest ratio a tool could reach against each baseline: a mirror must read and write all"
  echo "  of it (pull + push; a tool may overlap the two, so 'push' alone, the target's cost of taking it"
  echo "  in, is the most optimistic bound); the registries' CPU seconds are ours beside the floor's:"
  for net in "${networks[@]}"; do
    printf '  %-12s first  floor %s (%s; %s req/image, registries cpu %s vs mirror %s): mirror takes %s the floor; best %s; push only: best %s\n' "$net" \
      "$(cell "$net.first.floor")" "${FLOOR[$net]}" "$(req "$net.first.floor")" "${G[$net.first.floor]}" "${G[$net.first.mirror]:--}" \
      "$(rate "$net.first.mirror" "$net.first.floor")" "$(best "$net.first")" "$(best "$net.first" push)"
    T[$net.rerun.floor]=${FIXED[empty]}
    printf '  %-12s rerun  floor %s (empty ansible-playbook): mirror takes %s the floor; best through ansible-playbook %s\n' "$net" \
      "$(cell "$net.rerun.floor")" "$(rate "$net.rerun.mirror" "$net.rerun.floor")" "$(best "$net.rerun")"
  done
  for net in "${networks[@]}"; do
    for pass in first rerun; do
      for way in $TOOLS; do
        echo "  requests, $net $pass, $way: $(breakdown "${R[$net.$pass.$way]}")"
      done
    done
    echo "  requests, $net first, floor: $(breakdown "${R[$net.first.floor]}")"
    for way in mirror mirror-bin; do
      [ -z "${B[$net.$way]:-}" ] || echo "  $net: $way's targets with the source's digest: ${B[$net.$way]}"
    done
    for pass in first rerun; do
      [ ! -s "$STATE/atm-bin-$net-$pass.json" ] || $PY - "$STATE/atm-bin-$net-$pass.json" "$net $pass" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["stats"]
took = ", ".join(f"{k} {v:.1f}s" for k, v in sorted(s.get("request_seconds", {}).items(), key=lambda kv: -kv[1]))
print(f"  mirror-bin {sys.argv[2]}: {s['seconds']}s wall, {s['connections']} connections; request time by kind (summed): {took}")
PY
    done
  done
}

for c in $CASES; do "${c}_case"; done
