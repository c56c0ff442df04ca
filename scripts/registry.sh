#!/usr/bin/env bash
# Start or stop a CNCF distribution registry (Debian's docker-registry) on
# 127.0.0.1, for tests, the demo and benchmarks.
#
#   scripts/registry.sh start STATE_DIR [--port N] [--tls] [--auth USER] [--access-log]
#   scripts/registry.sh stop STATE_DIR
#
# start writes STATE_DIR/config.yml, keeps the storage in a temporary directory
# (removed by stop), waits until /v2/ answers and prints "127.0.0.1:PORT"
# (also in STATE_DIR/address). --tls serves HTTPS with a certificate for
# 127.0.0.1 signed by a new CA, STATE_DIR/ca.pem. --auth USER requires htpasswd
# basic auth (and implies --tls); the password is read from $REGISTRY_PASSWORD so
# that it never appears in a process list. --access-log writes one line per
# request (Apache's combined format) to STATE_DIR/registry.log, for counting
# requests. The pid is in STATE_DIR/pid.
# stop is safe to repeat and removes what start created but STATE_DIR itself.
set -euo pipefail

die() { echo "registry.sh: $*" >&2; exit 1; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

make_tls() {
  local dir=$1
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj "/CN=imageops test CA" -keyout "$dir/ca-key.pem" -out "$dir/ca.pem" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -subj "/CN=127.0.0.1" -keyout "$dir/server-key.pem" -out "$dir/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' > "$dir/server.ext"
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca-key.pem" -CAcreateserial \
    -days 2 -extfile "$dir/server.ext" -out "$dir/server.pem" 2>/dev/null
  rm -f "$dir/server.csr" "$dir/server.ext" "$dir/ca.srl"
}

start() {
  local state=$1; shift
  local port="" tls=false user="" access_log_disabled=true
  while [ $# -gt 0 ]; do
    case $1 in
      --port) port=$2; shift 2 ;;
      --tls) tls=true; shift ;;
      --auth) user=$2; tls=true; shift 2 ;;
      --access-log) access_log_disabled=false; shift ;;
      *) die "unknown option $1 (expected --port N, --tls, --auth USER, --access-log)" ;;
    esac
  done
  command -v docker-registry >/dev/null || die "docker-registry is not installed (scripts/install-deps.sh)"
  mkdir -p "$state"
  state=$(cd "$state" && pwd)
  if [ -f "$state/pid" ] && kill -0 "$(cat "$state/pid")" 2>/dev/null; then
    die "a registry from $state is already running (pid $(cat "$state/pid")); stop it first"
  fi
  [ -n "$port" ] || port=$(free_port)
  local storage scheme=http
  storage=$(mktemp -d "${TMPDIR:-/tmp}/imageops-registry.XXXXXX")
  echo "$storage" > "$state/storage"
  {
    printf 'version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: %s\n' "$access_log_disabled"
    printf 'storage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\n' "$storage"
    printf 'http:\n  addr: 127.0.0.1:%s\n' "$port"
  } > "$state/config.yml"
  if $tls; then
    make_tls "$state"
    printf '  tls:\n    certificate: %s\n    key: %s\n' "$state/server.pem" "$state/server-key.pem" >> "$state/config.yml"
    scheme=https
  fi
  if [ -n "$user" ]; then
    [ -n "${REGISTRY_PASSWORD:-}" ] || die "--auth $user needs the password in \$REGISTRY_PASSWORD"
    printf '%s\n' "$REGISTRY_PASSWORD" | htpasswd -niB "$user" > "$state/htpasswd" 2>/dev/null
    printf 'auth:\n  htpasswd:\n    realm: imageops\n    path: %s\n' "$state/htpasswd" >> "$state/config.yml"
  fi
  docker-registry serve "$state/config.yml" > "$state/registry.log" 2>&1 &
  echo $! > "$state/pid"
  local curl_ca=()
  $tls && curl_ca=(--cacert "$state/ca.pem")
  # Bounded by time, generously: docker-registry starts in well under a second on a
  # quiet machine, but much later on a loaded one.
  local deadline=$((SECONDS + 120))
  while ((SECONDS < deadline)); do
    local code
    code=$(curl -s -o /dev/null -w '%{http_code}' "${curl_ca[@]}" "$scheme://127.0.0.1:$port/v2/" || true)
    if [ "$code" = 200 ] || [ "$code" = 401 ]; then
      echo "127.0.0.1:$port" > "$state/address"
      echo "127.0.0.1:$port"
      return 0
    fi
    kill -0 "$(cat "$state/pid")" 2>/dev/null || { cat "$state/registry.log" >&2; stop "$state"; die "docker-registry exited"; }
    sleep 0.1
  done
  cat "$state/registry.log" >&2
  stop "$state"
  die "docker-registry on 127.0.0.1:$port did not answer within 120 s"
}

stop() {
  local state=$1
  [ -d "$state" ] || return 0
  if [ -f "$state/pid" ]; then
    local pid
    pid=$(cat "$state/pid")
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$state/pid"
  fi
  if [ -f "$state/storage" ]; then
    rm -rf "$(cat "$state/storage")"
    rm -f "$state/storage"
  fi
  rm -f "$state/address"
}

case "${1:-}" in
  start) [ $# -ge 2 ] || die "usage: $0 start STATE_DIR [--port N] [--tls] [--auth USER] [--access-log]"; start "${@:2}" ;;
  stop) [ $# -eq 2 ] || die "usage: $0 stop STATE_DIR"; stop "$2" ;;
  *) die "usage: $0 start STATE_DIR [--port N] [--tls] [--auth USER] [--access-log] | stop STATE_DIR" ;;
esac
