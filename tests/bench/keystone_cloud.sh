#!/usr/bin/env bash
# Benchmark: community images on a real cloud (scripts/cloud.sh: Keystone, Glance with
# Keystone authentication, TLS), beside the same on the keyless Glance (scripts/glance.sh),
# in one run, with the images served over HTTP on loopback:
#
#   fresh   BENCH_IMAGES images (default 20, 8 MiB raw each) uploaded by the role
#           (ansible-playbook imageops.cloud.community_images) against azimuth-ops' commands
#           per image: `curl -o` then `openstack image create --file`;
#   rerun   the same images again: the role (changed=0) against one
#           `openstack image list --name` per image;
#           with the Keystone tokens made per run (nginx's log of POST /v3/auth/tokens):
#           one per run for the role, one per command for the CLI;
#   import  one BENCH_IMPORT_MIB raw image (default 256) through community_image with
#           import_method web-download against the default PUT upload: the time, and the
#           bytes through the machine running Ansible (downloaded from the source, by
#           User-Agent, plus sent to Glance, from nginx's request_length).
#
# Speed is measured here, never asserted: the script fails only when a step fails.
set -Eeuo pipefail
export LC_ALL=C.UTF-8

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
NIMAGES=${BENCH_IMAGES:-20}
IMPORT_MIB=${BENCH_IMPORT_MIB:-256}
WORK=$ROOT/build/bench-keystone
export ANSIBLE_COLLECTIONS_PATH=${ANSIBLE_COLLECTIONS_PATH:-$ROOT/build/collections}
export ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_LOCALHOST_WARNING=0
export no_proxy=127.0.0.1,localhost NO_PROXY=127.0.0.1,localhost
PY=/usr/bin/python3

die() {
  echo "bench keystone_cloud: $*" >&2
  exit 1
}
trap '[ "$BASHPID" != $$ ] || echo "bench keystone_cloud: failed at line $LINENO: $BASH_COMMAND" >&2' ERR
[[ $NIMAGES =~ ^[1-9][0-9]*$ ]] || die "BENCH_IMAGES must be a positive number, not $NIMAGES"
[[ $IMPORT_MIB =~ ^[1-9][0-9]*$ ]] || die "BENCH_IMPORT_MIB must be a positive number of MiB, not $IMPORT_MIB"

source_pid=
cleanup() {
  [ -z "$source_pid" ] || kill "$source_pid" 2>/dev/null || true
  scripts/cloud.sh stop "$WORK/cloud" >/dev/null 2>&1 || true
  scripts/glance.sh stop "$WORK/glance" >/dev/null 2>&1 || true
}
trap cleanup EXIT

rm -rf "$WORK/images" "$WORK/source.log"
mkdir -p "$WORK/images"
chmod 755 "$WORK"
for ((i = 1; i <= NIMAGES; i++)); do head -c $((8 << 20)) /dev/urandom >"$WORK/images/img$i.raw"; done
head -c $((IMPORT_MIB << 20)) /dev/urandom >"$WORK/images/big.raw"
big_sha512=$(sha512sum "$WORK/images/big.raw" | cut -d' ' -f1)

# Long-lived tokens here: the count of tokens per run is the figure, not renewals.
IMAGEOPS_CLOUD_TOKEN_TTL=3600 scripts/cloud.sh start "$WORK/cloud" >/dev/null
scripts/glance.sh start "$WORK/glance" >/dev/null
unset REQUESTS_CA_BUNDLE CURL_CA_BUNDLE
port=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
$PY tests/integration/15_keystone/source_server.py "$port" "$WORK/images" 0 "$WORK/source.log" &
source_pid=$!
src=http://127.0.0.1:$port
sleep 1
access_log=$WORK/cloud/log/nginx-access.log

now() { date +%s.%N; }
seconds() { $PY -c 'import sys; print(f"{float(sys.argv[2]) - float(sys.argv[1]):.1f}")' "$1" "$2"; }
# Tokens the clients asked for (Glance's own keystonemiddleware asks too: left out).
tokens() { grep 'POST /v3/auth/tokens' "$access_log" | grep -vc 'keystonemiddleware' || true; }

# vars FILE PREFIX: the role's variables for the images, named PREFIX-N.
write_vars() {
  {
    echo "community_images_default_visibility: private"
    echo "community_images_disk_format: raw"
    echo "community_images_extra:"
    for ((i = 1; i <= NIMAGES; i++)); do
      printf '  img%d: {name: %s-%d, source_url: "%s/img%d.raw", disk_format: raw}\n' "$i" "$2" "$i" "$src" "$i"
    done
  } >"$1"
}

role() { # CLOUDS_FILE CLOUD VARS
  OS_CLIENT_CONFIG_FILE=$1 ansible-playbook -i localhost, -c local imageops.cloud.community_images \
    -e "community_images_cloud=$2" -e "@$3" >"$WORK/role.log" 2>&1 || { tail -n 20 "$WORK/role.log" >&2; die "the role failed"; }
}

cli_fresh() { # CLOUDS_FILE CLOUD PREFIX
  local i
  for ((i = 1; i <= NIMAGES; i++)); do
    curl -s -o "$WORK/dl.raw" "$src/img$i.raw"
    OS_CLIENT_CONFIG_FILE=$1 openstack --os-cloud "$2" image create -f json --container-format bare \
      --disk-format raw --private --file "$WORK/dl.raw" "$3-$i" >/dev/null
    rm -f "$WORK/dl.raw"
  done
}

cli_rerun() { # CLOUDS_FILE CLOUD PREFIX
  local i
  for ((i = 1; i <= NIMAGES; i++)); do
    OS_CLIENT_CONFIG_FILE=$1 openstack --os-cloud "$2" image list -f json --name "$3-$i" >/dev/null
  done
}

declare -a rows
measure() { # LABEL COMMAND...: runs it, records "LABEL seconds tokens"
  local label=$1 t0 t1 k0 k1
  shift
  k0=$(tokens)
  t0=$(now)
  "$@"
  t1=$(now)
  k1=$(tokens)
  rows+=("$label|$(seconds "$t0" "$t1")|$((k1 - k0))")
}

keystone_clouds=$WORK/cloud/clouds.yaml
glance_clouds=$WORK/glance/clouds.yaml
write_vars "$WORK/vars-keystone.yml" ks-role
write_vars "$WORK/vars-glance.yml" gl-role

measure "keystone: fresh, role ($NIMAGES images)" role "$keystone_clouds" demo "$WORK/vars-keystone.yml"
measure "keystone: fresh, curl + openstack image create" cli_fresh "$keystone_clouds" demo ks-cli
measure "keystone: re-run, role (changed=0)" role "$keystone_clouds" demo "$WORK/vars-keystone.yml"
grep -Eq 'changed=0 .*failed=0' "$WORK/role.log" || die "the re-run on the Keystone cloud changed something"
measure "keystone: re-run, openstack image list per image" cli_rerun "$keystone_clouds" demo ks-cli
measure "keyless: fresh, role ($NIMAGES images)" role "$glance_clouds" imageops-local "$WORK/vars-glance.yml"
measure "keyless: fresh, curl + openstack image create" cli_fresh "$glance_clouds" imageops-local gl-cli
measure "keyless: re-run, role (changed=0)" role "$glance_clouds" imageops-local "$WORK/vars-glance.yml"
grep -Eq 'changed=0 .*failed=0' "$WORK/role.log" || die "the re-run on the keyless Glance changed something"
measure "keyless: re-run, openstack image list per image" cli_rerun "$glance_clouds" imageops-local gl-cli

# web-download against PUT, one image each; bytes through this machine.
module_run() { # NAME METHOD
  OS_CLIENT_CONFIG_FILE=$keystone_clouds ansible localhost -c local -m imageops.cloud.community_image \
    -a "{\"cloud\": \"demo\", \"name\": \"$1\", \"source_url\": \"$src/big.raw\", \"checksum_sha512\": \"$big_sha512\", \"disk_format\": \"raw\", \"visibility\": \"private\", \"import_method\": \"$2\"}" \
    >"$WORK/module.log" 2>&1 || { tail -n 20 "$WORK/module.log" >&2; die "community_image ($2) failed"; }
}
bytes_through_host() { # NAME: bytes the module downloaded plus bytes it sent to Glance for NAME's image
  local downloaded sent id
  downloaded=$(awk -F'\t' '$1 ~ /imageops/ && $2 == "/big.raw" {s += $3} END {print s + 0}' "$WORK/source.log")
  id=$(OS_CLIENT_CONFIG_FILE=$keystone_clouds openstack --os-cloud demo image show "$1" -f value -c id)
  sent=$(awk -v id="$id" '$0 ~ "PUT /v2/images/" id "/(file|stage)" {s += $6} END {print s + 0}' "$access_log")
  : >"$WORK/source.log"
  echo $((downloaded + sent))
}
declare -a import_rows
for method in upload web-download; do
  : >"$WORK/source.log"
  t0=$(now)
  module_run "big-$method" "$method"
  t1=$(now)
  import_rows+=("$method|$(seconds "$t0" "$t1")|$(bytes_through_host "big-$method")")
done

echo
printf '%-58s %9s %8s\n' "community images ($NIMAGES x 8 MiB)" seconds tokens
for row in "${rows[@]}"; do
  IFS='|' read -r label secs toks <<<"$row"
  printf '%-58s %9s %8s\n' "$label" "$secs" "$toks"
done
echo
printf '%-40s %9s %22s\n' "one ${IMPORT_MIB} MiB image, Keystone cloud" seconds "bytes via Ansible host"
for row in "${import_rows[@]}"; do
  IFS='|' read -r label secs bytes <<<"$row"
  printf '%-40s %9s %22s\n' "community_image import_method $label" "$secs" "$bytes"
done
echo "(tokens: POST /v3/auth/tokens seen by the cloud during the step; the keyless Glance has none)"
