#!/usr/bin/env bash
# Serves a directory over plain HTTP on 127.0.0.1, for tests and demos that
# download images (for example build/fixtures).
#
#   scripts/serve.sh start DIR [PORT]   prints the base URL, e.g. http://127.0.0.1:41234
#   scripts/serve.sh stop DIR
#
# Without PORT the kernel picks a free one. Starting a DIR that is already
# served prints its URL again. The server is Python's http.server: GET and
# HEAD with Content-Length, no Range requests. Its pid file and request log
# are under build/serve/ in this checkout, named after DIR.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly repo
readonly run_dir=$repo/build/serve
readonly timeout=120 # seconds start waits for http.server: generous, for a loaded machine

die() {
  echo "serve: $*" >&2
  exit 1
}

usage() {
  sed -n '5,6s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
  exit 2
}

python=/usr/bin/python3
[ -x "$python" ] || python=python3

# alive PID: the process exists, is not a zombie, and is an http.server.
alive() {
  local state
  [ -r "/proc/$1/stat" ] || return 1
  state=$(sed 's/^.*) \(.\).*$/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
  [ "$state" != Z ] || return 1
  tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -q http.server
}

answering() {
  curl --noproxy '*' -fs -o /dev/null -m 5 "$1/"
}

do_start() {
  local port=${1:-0} pid url i
  [ -d "$dir" ] || die "no directory $dir"
  [[ $port =~ ^[0-9]+$ ]] || die "PORT must be a number, not $port"
  if pid=$(cat "$pid_file" 2>/dev/null) && alive "$pid" &&
    url=$(cat "$url_file" 2>/dev/null) && answering "$url"; then
    echo "$url"
    return 0
  fi
  do_stop
  mkdir -p "$run_dir"
  : >"$log_file"
  # -u: the "Serving HTTP on ... port N" line must reach the log at once.
  "$python" -u -m http.server --bind 127.0.0.1 --directory "$dir" "$port" \
    </dev/null >>"$log_file" 2>&1 &
  pid=$!
  echo "$pid" >"$pid_file"
  for ((i = 0; i < timeout * 10; i++)); do
    alive "$pid" || break
    port=$(sed -n 's/^Serving HTTP on .* port \([0-9]*\) .*/\1/p' "$log_file" | head -n 1)
    if [ -n "$port" ] && answering "http://127.0.0.1:$port"; then
      url=http://127.0.0.1:$port
      echo "$url" >"$url_file"
      echo "$url"
      return 0
    fi
    sleep 0.1
  done
  echo "serve: http.server for $dir did not answer within ${timeout}s:" >&2
  tail -n 20 "$log_file" >&2 || true
  do_stop
  exit 1
}

do_stop() {
  local pid i
  if pid=$(cat "$pid_file" 2>/dev/null) && alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      alive "$pid" || break
      sleep 0.1
    done
    if alive "$pid"; then
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.2
    fi
    alive "$pid" && die "http.server (pid $pid) did not exit"
  fi
  rm -f "$pid_file" "$url_file"
}

main() {
  [ $# -ge 2 ] || usage
  local cmd=$1 key
  dir=$(realpath -m -- "$2")
  shift 2
  # One pid, url and log file per served directory.
  key=$(basename "$dir")-$(printf '%s' "$dir" | sha256sum | cut -c1-12)
  pid_file=$run_dir/$key.pid
  url_file=$run_dir/$key.url
  log_file=$run_dir/$key.log
  case $cmd in
  start)
    [ $# -le 1 ] || usage
    do_start "$@"
    ;;
  stop)
    [ $# -eq 0 ] || usage
    do_stop
    ;;
  *) usage ;;
  esac
}

main "$@"
