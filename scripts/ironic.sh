#!/usr/bin/env bash
# A local, unauthenticated OpenStack Ironic for the tests of ipa_test and of
# the modules that read Ironic nodes: Debian's `ironic` (API and conductor in
# one process, rpc_transport none) run as a plain background process on
# 127.0.0.1, with its own config and sqlite database in STATE_DIR, talking to
# a local Glance (scripts/glance.sh) without Keystone.
#
#   scripts/ironic.sh start  [STATE_DIR]  start empty; no-op if running (needs a Glance: see below)
#   scripts/ironic.sh stop   [STATE_DIR]  stop; not an error when nothing runs
#   scripts/ironic.sh status [STATE_DIR]  exit 0 running, 3 stopped, 1 not answering
#   scripts/ironic.sh env    [STATE_DIR]  print the export lines: eval "$(... env)"
#
# STATE_DIR defaults to build/ironic in this checkout. `start` reads the
# Glance to use from IMAGEOPS_GLANCE_URL (what `scripts/glance.sh env`
# exports). After `start`:
#   STATE_DIR/clouds.yaml  a cloud named imageops-ironic (auth_type none,
#                          baremetal_endpoint_override: this Ironic,
#                          image_endpoint_override: the Glance)
#   STATE_DIR/env          export OS_CLIENT_CONFIG_FILE, OS_CLOUD,
#                          IMAGEOPS_IRONIC_URL, IMAGEOPS_IRONIC_HTTP_URL,
#                          IMAGEOPS_IRONIC_TFTP_ROOT
#   STATE_DIR/ironic.log, STATE_DIR/http.log
#
# What is real and what is not: the API, the conductor, the state machine, the
# allocations, the `direct` deploy interface and its deploy steps are Ironic's
# own code. Nodes use the `manual-management` hardware type (power `fake`,
# management `noop`: nothing is powered on) with the `pxe` boot interface, so
# a deploy really downloads the node's driver_info deploy_kernel and
# deploy_ramdisk from Glance into STATE_DIR/tftpboot/<node uuid>/ and writes
# the node's PXE config, and (image_download_source = http) really downloads
# the instance image from Glance into STATE_DIR/http, served by a static HTTP
# server on loopback (IMAGEOPS_IRONIC_HTTP_URL) for the agent to fetch. No
# machine boots: the agent that would run in the ramdisk is played by
# gomodules/internal/ipastub (a stub of IPA's API, see its doc), which looks
# the node up, heartbeats and answers Ironic's agent commands.
#
# Ironic without Keystone uses only *public* Glance images (its noauth
# context has no project, so is_image_available refuses others with "Image
# ... could not be found"): the images a test deploys must be public. A node
# needs a port (any MAC) for the pxe boot interface to validate, and a power
# state (PUT .../states/power "power off") before an allocation can pick it.
#
# Settings that keep deploys short and local: automated_clean off (undeploy
# goes straight to available; a node with automated_clean true is cleaned
# through its agent, with no clean step of positive priority), no DHCP provider, no network interface, no
# agent log collection, one quick check of the fake power state after the
# agent powers off.
#
# Environment:
#   IMAGEOPS_GLANCE_URL      the Glance Ironic downloads images from (required by start)
#   IMAGEOPS_IRONIC_PORT     API port (default: 6385, or the next free one)
#   IMAGEOPS_IRONIC_TIMEOUT  seconds `start` waits for the API (default 300, for a loaded machine)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly repo
readonly cloud_name=imageops-ironic
readonly default_port=6385
readonly default_http_port=8385
readonly port_range=100
readonly timeout=${IMAGEOPS_IRONIC_TIMEOUT:-300}
readonly port_lock_dir=${TMPDIR:-/tmp}
# A migrated, empty database per Ironic version (ironic-dbsync takes ~20 s).
readonly cache_dir=$repo/build/cache
# The highest API version this script's clients need (allocations: 1.52).
readonly api_version_header="X-OpenStack-Ironic-API-Version: 1.52"

# shellcheck source=lib/process.sh
source "$repo/scripts/lib/process.sh"

die() {
  echo "ironic: $*" >&2
  exit 1
}

usage() {
  sed -n '8,11s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
  exit 2
}

# answering PORT: GET /v1/nodes returns 200 (the API and its database work).
answering() {
  local code
  code=$(curl --noproxy '*' -s -o /dev/null -m 5 -w '%{http_code}' \
    -H "$api_version_header" "http://127.0.0.1:$1/v1/nodes") || true
  [ "$code" = 200 ]
}

# pid_of NAME: the PID of our process NAME (ironic, http), if it lives.
pid_of() {
  local pid file=$state_dir/$1.pid
  [ -f "$file" ] || return 1
  pid=$(<"$file")
  [[ $pid =~ ^[0-9]+$ ]] && alive "$pid" "$2" && echo "$pid"
}

port_of() {
  [ -f "$state_dir/port" ] && cat "$state_dir/port"
}

# claim_port PORT: PORT is free and no other start is about to use it; on
# success the port's lock is held on a descriptor listed in held_fds.
claim_port() {
  local port=$1 fd
  listening "$port" && return 1
  exec {fd}>"$port_lock_dir/imageops-ironic-port-$port.lock"
  if ! flock -n "$fd" || listening "$port"; then
    exec {fd}>&-
    return 1
  fi
  held_fds+=("$fd")
}

# release_ports: closes the port locks (the servers listen now).
release_ports() {
  local fd
  for fd in "${held_fds[@]}"; do exec {fd}>&-; done
  held_fds=()
}

# choose_port FIRST: sets chosen to a claimed free port from FIRST upwards.
choose_port() {
  local first=$1 p
  for ((p = first; p < first + port_range; p++)); do
    if claim_port "$p"; then
      chosen=$p
      return
    fi
  done
  die "no free port in $first-$((first + port_range - 1))"
}

# spawn NAME COMMAND...: starts COMMAND in the background without the lock
# descriptors, its output in STATE_DIR/NAME.log, its PID in STATE_DIR/NAME.pid.
spawn() {
  local name=$1
  shift
  (
    release_ports
    exec 9>&-
    exec "$@" </dev/null >>"$state_dir/$name.log" 2>&1
  ) &
  echo $! >"$state_dir/$name.pid"
}

write_config() {
  local port=$1 http_port=$2 glance=$3 etc=$state_dir/etc
  mkdir -p "$etc" "$state_dir/lock" "$state_dir/http" "$state_dir/tftpboot/master_images" \
    "$state_dir/images" "$state_dir/master_images"
  cat >"$etc/ironic.conf" <<EOF
# Written by scripts/ironic.sh; rewritten on each start.
[DEFAULT]
auth_strategy = noauth
rpc_transport = none
host = imageops-ironic
my_ip = 127.0.0.1
debug = true
log_file = $state_dir/ironic.log
use_stderr = false
enabled_hardware_types = manual-management,fake-hardware
enabled_boot_interfaces = pxe,fake
enabled_deploy_interfaces = direct,fake
enabled_power_interfaces = fake
enabled_management_interfaces = noop,fake
enabled_inspect_interfaces = no-inspect,fake
enabled_network_interfaces = noop
enabled_console_interfaces = no-console,fake
enabled_raid_interfaces = no-raid,agent,fake
enabled_vendor_interfaces = no-vendor,fake
enabled_bios_interfaces = no-bios,fake
enabled_rescue_interfaces = no-rescue,fake
enabled_storage_interfaces = noop,fake
default_network_interface = noop
default_deploy_interface = direct
default_boot_interface = pxe

[api]
host_ip = 127.0.0.1
port = $port
api_workers = 1

[conductor]
automated_clean = false
heartbeat_interval = 5
check_provision_state_interval = 10
sync_power_state_interval = -1
power_state_change_timeout = 10

[database]
connection = sqlite:///$state_dir/ironic.sqlite

[dhcp]
dhcp_provider = none

[glance]
auth_type = none
endpoint_override = $glance

[deploy]
http_root = $state_dir/http
http_url = http://127.0.0.1:$http_port
fast_track = false
erase_devices_priority = 0
erase_devices_metadata_priority = 0

[agent]
image_download_source = http
deploy_logs_collect = never
command_timeout = 20
max_command_attempts = 2
post_deploy_get_power_state_retries = 1
post_deploy_get_power_state_retry_interval = 1

[pxe]
tftp_server = 127.0.0.1
tftp_root = $state_dir/tftpboot
tftp_master_path = $state_dir/tftpboot/master_images
images_path = $state_dir/images
instance_master_path = $state_dir/master_images

[nova]
send_power_notifications = false

[service_catalog]
# Where the agent calls back (ipa-api-url); noauth: no Keystone catalog.
auth_type = none
endpoint_override = http://127.0.0.1:$port

[oslo_concurrency]
lock_path = $state_dir/lock
EOF
}

# fresh_database: an empty, migrated ironic.sqlite, from the cache when possible.
fresh_database() {
  migrated_sqlite python3-ironic "$state_dir/ironic.sqlite" ironic-dbsync create_schema
}

write_client_files() {
  local port=$1 http_port=$2 glance=$3 url=http://127.0.0.1:$1
  cat >"$state_dir/clouds.yaml.tmp" <<EOF
# Written by scripts/ironic.sh: the local, unauthenticated Ironic and its Glance.
clouds:
  $cloud_name:
    auth_type: none
    auth:
      endpoint: $url
    baremetal_endpoint_override: $url
    image_endpoint_override: $glance
    region_name: RegionOne
EOF
  mv -f "$state_dir/clouds.yaml.tmp" "$state_dir/clouds.yaml"
  printf 'export %s=%q\n' \
    OS_CLIENT_CONFIG_FILE "$state_dir/clouds.yaml" \
    OS_CLOUD "$cloud_name" \
    IMAGEOPS_IRONIC_URL "$url" \
    IMAGEOPS_IRONIC_HTTP_URL "http://127.0.0.1:$http_port" \
    IMAGEOPS_IRONIC_TFTP_ROOT "$state_dir/tftpboot" >"$state_dir/env.tmp"
  mv -f "$state_dir/env.tmp" "$state_dir/env"
}

do_stop() {
  local name pid pids=() children
  for name in ironic http; do
    if pid=$(pid_of "$name" "$(process_name "$name")"); then
      children=$(pgrep -P "$pid" || true)
      # shellcheck disable=SC2086 # children is a list of pids
      kill_and_wait "$(process_name "$name")" "$pid" $children || exit 1
      pids+=("$pid")
    fi
    rm -f "$state_dir/$name.pid"
  done
  [ ${#pids[@]} -eq 0 ] || echo "ironic: stopped (pids ${pids[*]})"
  return 0
}

# process_name NAME: what the command line of our process NAME contains.
process_name() {
  case $1 in
  ironic) echo "$state_dir/etc/ironic.conf" ;;
  http) echo "$state_dir/http" ;;
  esac
}

do_start() {
  local pid port http_port glance url t0 t1 deadline chosen held_fds=()
  t0=$(date +%s%N)
  if pid=$(pid_of ironic "$(process_name ironic)") && port=$(port_of) && answering "$port"; then
    echo "ironic: already running on http://127.0.0.1:$port (pid $pid)"
    return 0
  fi
  glance=${IMAGEOPS_GLANCE_URL:-}
  [ -n "$glance" ] || die "IMAGEOPS_GLANCE_URL is not set: start a Glance first (scripts/glance.sh start; eval \"\$(scripts/glance.sh env)\")"
  do_stop >/dev/null
  rm -rf "$state_dir/ironic.sqlite" "$state_dir/ironic.log" "$state_dir/http.log" "$state_dir/http" \
    "$state_dir/tftpboot" "$state_dir/images" "$state_dir/master_images" "$state_dir/clouds.yaml" "$state_dir/env"

  if [ -n "${IMAGEOPS_IRONIC_PORT:-}" ]; then
    [[ $IMAGEOPS_IRONIC_PORT =~ ^[0-9]+$ ]] || die "IMAGEOPS_IRONIC_PORT must be a port number, not $IMAGEOPS_IRONIC_PORT"
    claim_port "$IMAGEOPS_IRONIC_PORT" || die "IMAGEOPS_IRONIC_PORT=$IMAGEOPS_IRONIC_PORT is already in use"
    port=$IMAGEOPS_IRONIC_PORT
  else
    choose_port "$default_port"
    port=$chosen
  fi
  choose_port "$default_http_port"
  http_port=$chosen
  write_config "$port" "$http_port" "$glance"
  fresh_database
  echo "$port" >"$state_dir/port"

  # The image server: Ironic writes what it downloads from Glance under
  # http_root and hands the agent http_url/<node>/... .
  spawn http python3 -m http.server --bind 127.0.0.1 --directory "$state_dir/http" "$http_port"
  spawn ironic ironic --config-file "$state_dir/etc/ironic.conf"
  pid=$(<"$state_dir/ironic.pid")

  url=http://127.0.0.1:$port
  deadline=$((SECONDS + timeout))
  until answering "$port" && listening "$http_port"; do
    if ! alive "$pid" "$(process_name ironic)" || ((SECONDS >= deadline)); then
      if alive "$pid" "$(process_name ironic)"; then
        echo "ironic: no answer on $url/v1/nodes within ${timeout}s" >&2
      else
        echo "ironic: ironic exited before answering on $url/v1/nodes" >&2
      fi
      echo "ironic: last lines of $state_dir/ironic.log:" >&2
      tail -n 30 "$state_dir/ironic.log" >&2 || true
      do_stop >/dev/null 2>&1 || true
      exit 1
    fi
    sleep 0.2
  done
  release_ports
  write_client_files "$port" "$http_port" "$glance"
  t1=$(date +%s%N)
  echo "ironic: running on $url (pid $pid, images on http://127.0.0.1:$http_port, state $state_dir, started in $(((t1 - t0) / 1000000)) ms)"
}

do_status() {
  local pid port
  if ! pid=$(pid_of ironic "$(process_name ironic)"); then
    echo "ironic: stopped"
    exit 3
  fi
  port=$(port_of) || port=
  if [ -n "$port" ] && answering "$port"; then
    echo "ironic: running on http://127.0.0.1:$port (pid $pid)"
  else
    echo "ironic: pid $pid is alive but http://127.0.0.1:${port:-?}/v1/nodes does not answer" >&2
    exit 1
  fi
}

main() {
  [ $# -ge 1 ] || usage
  local cmd=$1 dir=
  shift
  while [ $# -gt 0 ]; do
    case $1 in
    -*) usage ;;
    *) [ -z "$dir" ] || usage; dir=$1 ;;
    esac
    shift
  done
  state_dir=$(realpath -m -- "${dir:-$repo/build/ironic}")
  run_command "$cmd" $((timeout + 30))
}

main "$@"
