#!/usr/bin/env bash
# A local, unauthenticated OpenStack Glance for the tests, the demo and the
# benchmarks: Debian's glance-api run as a plain background process on
# 127.0.0.1, with its own config, sqlite database and file store in STATE_DIR.
#
#   scripts/glance.sh start [--keep] [STATE_DIR]  start empty (--keep: keep images); no-op if running
#   scripts/glance.sh stop   [STATE_DIR]          stop; not an error when nothing runs
#   scripts/glance.sh status [STATE_DIR]          exit 0 running, 3 stopped, 1 not answering
#   scripts/glance.sh env    [STATE_DIR]          print the export lines: eval "$(... env)"
#
# STATE_DIR defaults to build/glance in this checkout. Several instances can run
# at once, each in its own STATE_DIR on its own port. After `start`:
#   STATE_DIR/clouds.yaml  a cloud named imageops-local (auth_type none,
#                          image_endpoint_override http://127.0.0.1:PORT)
#   STATE_DIR/env          export OS_CLIENT_CONFIG_FILE, OS_CLOUD, IMAGEOPS_GLANCE_URL
#   STATE_DIR/glance-api.log
#
# Environment:
#   IMAGEOPS_GLANCE_PORT     port to use (default: 9292, or the next free one)
#   IMAGEOPS_GLANCE_WORKERS  glance-api worker processes (default 1)
#   IMAGEOPS_GLANCE_TIMEOUT  seconds `start` waits for the API (default 300: glance-api
#                            takes tens of seconds to load on a loaded machine)
#
# A Glance that is down, for tests of error paths: point a client at a port on
# 127.0.0.1 where nothing listens (for instance a stopped instance's port).
#
# `start` on a running, answering instance changes nothing (it keeps its
# images); to begin from an empty Glance again, `stop` then `start`.
#
# Glance without Keystone (paste flavor empty: the unauthenticated context):
# - requests carry no roles and no project, so the default policies refuse
#   public images (publicize_image is admin-only); STATE_DIR/etc/policy.yaml
#   allows every image operation instead;
# - images get owner null, and image members work only on shared images;
# - the interoperable import (POST /v2/images/ID/import: glance-direct,
#   web-download) fails with 500, its task needs an owner (tasks.owner NOT
#   NULL); upload with PUT /v2/images/ID/file;
# - GET /v2/images lists community images only with ?visibility=community, so
#   `openstack image show NAME` does not find them (by ID it does).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly repo
readonly cloud_name=imageops-local
readonly default_port=9292
readonly port_range=100 # ports tried from the default one upwards
readonly workers=${IMAGEOPS_GLANCE_WORKERS:-1}
readonly timeout=${IMAGEOPS_GLANCE_TIMEOUT:-300}
# A start holds the lock file of the port it chose until glance-api listens
# there, so that concurrent starts (in other STATE_DIRs) pick other ports.
readonly port_lock_dir=${TMPDIR:-/tmp}
# A migrated, empty database per Glance version: copying it is much faster
# than `glance-manage db_sync` on each fresh start.
readonly cache_dir=$repo/build/cache

# shellcheck source=lib/process.sh
source "$repo/scripts/lib/process.sh"

die() {
  echo "glance: $*" >&2
  exit 1
}

usage() {
  sed -n '6,9s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
  exit 2
}

# answering PORT: GET /v2/images returns 200.
answering() {
  local code
  code=$(curl --noproxy '*' -s -o /dev/null -m 5 -w '%{http_code}' "http://127.0.0.1:$1/v2/images") || true
  [ "$code" = 200 ]
}

pid_of() {
  local pid
  [ -f "$state_dir/glance-api.pid" ] || return 1
  pid=$(<"$state_dir/glance-api.pid")
  [[ $pid =~ ^[0-9]+$ ]] && alive "$pid" glance-api && echo "$pid"
}

port_of() {
  [ -f "$state_dir/port" ] && cat "$state_dir/port"
}

# claim_port PORT: PORT is free and no other start is about to use it. On
# success fd 8 holds PORT's lock; glance-api must not inherit it.
claim_port() {
  listening "$1" && return 1
  exec 8>"$port_lock_dir/imageops-glance-port-$1.lock"
  if ! flock -n 8; then
    exec 8>&-
    return 1
  fi
  # Another start may have bound it between our check and our lock.
  if listening "$1"; then
    flock -u 8
    exec 8>&-
    return 1
  fi
}

# choose_port: sets port to a claimed, free port.
choose_port() {
  local p
  if [ -n "${IMAGEOPS_GLANCE_PORT:-}" ]; then
    [[ $IMAGEOPS_GLANCE_PORT =~ ^[0-9]+$ ]] || die "IMAGEOPS_GLANCE_PORT must be a port number, not $IMAGEOPS_GLANCE_PORT"
    claim_port "$IMAGEOPS_GLANCE_PORT" || die "IMAGEOPS_GLANCE_PORT=$IMAGEOPS_GLANCE_PORT is already in use"
    port=$IMAGEOPS_GLANCE_PORT
    return
  fi
  # With --keep, stay on the previous port when it is still free.
  if [ "$keep" = 1 ] && p=$(port_of) && claim_port "$p"; then
    port=$p
    return
  fi
  for ((p = default_port; p < default_port + port_range; p++)); do
    if claim_port "$p"; then
      port=$p
      return
    fi
  done
  die "no free port in $default_port-$((default_port + port_range - 1)); set IMAGEOPS_GLANCE_PORT"
}

write_config() {
  local port=$1 etc=$state_dir/etc
  mkdir -p "$etc" "$state_dir/images" "$state_dir/lock"
  cat >"$etc/glance-api.conf" <<EOF
# Written by scripts/glance.sh; rewritten on each start.
[DEFAULT]
bind_host = 127.0.0.1
bind_port = $port
workers = $workers
log_file = $state_dir/glance-api.log
use_stderr = false

[database]
connection = sqlite:///$state_dir/glance.sqlite

[glance_store]
stores = file,http
default_store = file
filesystem_store_datadir = $state_dir/images

[oslo_concurrency]
lock_path = $state_dir/lock

[oslo_policy]
policy_file = $etc/policy.yaml

[paste_deploy]
# Empty flavor: the "glance-api" pipeline, without Keystone.
flavor =
config_file = /etc/glance/glance-api-paste.ini
EOF
  # The unauthenticated context has no roles and no project: allow every
  # image, member, location and task operation (publicize_image, for one, is
  # admin-only by default and would refuse public images).
  {
    echo "# Written by scripts/glance.sh: a local test cloud where everything is allowed."
    local rule
    for rule in context_is_admin \
      add_image delete_image get_image get_images modify_image \
      publicize_image communitize_image download_image upload_image \
      delete_image_location get_image_location set_image_location \
      add_member delete_member get_member get_members modify_member \
      deactivate reactivate copy_image \
      get_task get_tasks add_task modify_task tasks_api_access \
      stores_info_detail; do
      echo "\"$rule\": \"\""
    done
  } >"$etc/policy.yaml"
}

# fresh_database: an empty, migrated glance.sqlite, from the cache when possible.
fresh_database() {
  migrated_sqlite python3-glance "$state_dir/glance.sqlite" glance-manage db_sync
}

write_client_files() {
  local port=$1 url=http://127.0.0.1:$1
  cat >"$state_dir/clouds.yaml.tmp" <<EOF
# Written by scripts/glance.sh: the local, unauthenticated Glance.
clouds:
  $cloud_name:
    auth_type: none
    auth:
      endpoint: $url
    image_endpoint_override: $url
    image_api_version: "2"
    region_name: RegionOne
EOF
  mv -f "$state_dir/clouds.yaml.tmp" "$state_dir/clouds.yaml"
  printf 'export %s=%q\n' \
    OS_CLIENT_CONFIG_FILE "$state_dir/clouds.yaml" \
    OS_CLOUD "$cloud_name" \
    IMAGEOPS_GLANCE_URL "$url" >"$state_dir/env.tmp"
  mv -f "$state_dir/env.tmp" "$state_dir/env"
}

do_stop() {
  local pid children port
  if pid=$(pid_of); then
    # The parent stops its workers on TERM; if it has to be killed, the
    # workers are orphaned, so remember them and make sure they are gone too.
    children=$(pgrep -P "$pid" || true)
    # shellcheck disable=SC2086 # children is a list of pids
    kill_and_wait glance-api "$pid" $children || exit 1
    echo "glance: stopped (pid $pid)"
  fi
  rm -f "$state_dir/glance-api.pid"
  if port=$(port_of) && listening "$port"; then
    echo "glance: warning: port $port still answers after stop; it is not ours" >&2
  fi
  return 0
}

do_start() {
  local pid port url t0 t1 deadline
  t0=$(date +%s%N)

  if pid=$(pid_of) && port=$(port_of) && answering "$port"; then
    write_client_files "$port"
    echo "glance: already running on http://127.0.0.1:$port (pid $pid)"
    return 0
  fi
  do_stop >/dev/null

  if [ "$keep" = 0 ]; then
    rm -rf "$state_dir/images" "$state_dir/glance.sqlite" \
      "$state_dir/glance-api.log" "$state_dir/glance-manage.log" "$state_dir/clouds.yaml" "$state_dir/env"
  fi
  choose_port
  write_config "$port"
  [ -s "$state_dir/glance.sqlite" ] || fresh_database
  echo "$port" >"$state_dir/port"

  # The server must not inherit the locks (fds 8 and 9) for its lifetime.
  glance-api --config-file "$state_dir/etc/glance-api.conf" \
    </dev/null >>"$state_dir/glance-api.log" 2>&1 8>&- 9>&- &
  pid=$!
  echo "$pid" >"$state_dir/glance-api.pid"

  url=http://127.0.0.1:$port
  deadline=$((SECONDS + timeout))
  until answering "$port"; do
    if ! alive "$pid" glance-api || ((SECONDS >= deadline)); then
      if alive "$pid" glance-api; then
        echo "glance: glance-api did not answer on $url/v2/images within ${timeout}s" >&2
      else
        echo "glance: glance-api exited before answering on $url/v2/images" >&2
      fi
      echo "glance: last lines of $state_dir/glance-api.log:" >&2
      tail -n 30 "$state_dir/glance-api.log" >&2 || true
      do_stop >/dev/null 2>&1 || true
      exit 1
    fi
    sleep 0.1
  done
  exec 8>&- # listening now: the port's lock can go
  write_client_files "$port"
  t1=$(date +%s%N)
  echo "glance: running on $url (pid $pid, state $state_dir, started in $(((t1 - t0) / 1000000)) ms)"
  echo "glance: eval \"\$($0 env $state_dir)\""
}

do_status() {
  local pid port
  if ! pid=$(pid_of); then
    echo "glance: stopped"
    exit 3
  fi
  port=$(port_of) || port=
  if [ -n "$port" ] && answering "$port"; then
    echo "glance: running on http://127.0.0.1:$port (pid $pid)"
  else
    echo "glance: pid $pid is alive but http://127.0.0.1:${port:-?}/v2/images does not answer" >&2
    exit 1
  fi
}

main() {
  [ $# -ge 1 ] || usage
  local cmd=$1 dir=
  shift
  keep=0
  while [ $# -gt 0 ]; do
    case $1 in
    --keep) [ "$cmd" = start ] || usage; keep=1 ;;
    -h | --help) usage ;;
    -*) usage ;;
    *) [ -z "$dir" ] || usage; dir=$1 ;;
    esac
    shift
  done
  state_dir=$(realpath -m -- "${dir:-$repo/build/glance}")
  run_command "$cmd" $((timeout + 30))
}

main "$@"
