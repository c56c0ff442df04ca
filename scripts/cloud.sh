#!/usr/bin/env bash
# A local, authenticated OpenStack cloud for the tests, the demo and the
# benchmarks, from Debian's packages only: a private PostgreSQL cluster,
# Keystone (fernet tokens) under uwsgi, Glance with Keystone authentication,
# and nginx in front of both with TLS from a CA this script makes. Everything
# binds 127.0.0.1 and lives in STATE_DIR.
#
#   scripts/cloud.sh start  [STATE_DIR]  start a fresh cloud; no-op if running
#   scripts/cloud.sh stop   [STATE_DIR]  stop it; not an error when nothing runs
#   scripts/cloud.sh status [STATE_DIR]  exit 0 running, 3 stopped, 1 not answering
#   scripts/cloud.sh env    [STATE_DIR]  print the export lines: eval "$(... env)"
#
# STATE_DIR defaults to build/cloud in this checkout. Several clouds can run at
# once, each in its own STATE_DIR on its own ports. After `start`:
#   STATE_DIR/clouds.yaml  (0600) the clouds below
#   STATE_DIR/env          export OS_CLIENT_CONFIG_FILE, OS_CLOUD (demo) and
#                          IMAGEOPS_CLOUD_* (URLs, CA, ports, token lifetime)
#   STATE_DIR/ca.pem       the CA that signed both servers' certificates
#   STATE_DIR/log/         postgres.log, keystone.log, glance-api.log, nginx.log
#
# The clouds in clouds.yaml (all in RegionOne, interface public, cacert ca.pem):
#   admin         user admin, project admin (role admin)
#   demo          user demo, project demo (role member)
#   other         user other, project other (role member): another tenant
#   appcred       an application credential of demo (project demo)
#   demo-noauth   demo's auth_url, user and project without a password, and
#   keystone      only auth_url (and cacert): give the secret or token in
#                 the module's auth option
# The service catalog: identity (public, internal, admin) and image (public
# only) in RegionOne; RegionTwo exists with no endpoint at all.
#
# Environment:
#   IMAGEOPS_CLOUD_TOKEN_TTL  Keystone token lifetime in seconds (default 120):
#                             short, so that re-authentication is exercised
#   IMAGEOPS_CLOUD_TIMEOUT    seconds `start` waits for each service (default 300: at a load
#                             of 26 on 2 cores the whole start took 180 s)
#
# Traps met on the way, kept here so nobody meets them again:
# - uwsgi needs --die-on-term (else TERM only reloads it), and with
#   --http-socket it needs "Connection: close" added or clients reusing the
#   connection get resets;
# - Debian's Glance refuses web-download from loopback unless
#   [import_filtering_opts] allowed_hosts = [127.0.0.1] and allowed_ports = []
#   (with the brackets);
# - PostgreSQL refuses to run as root: it runs as the postgres user, its data
#   directory in STATE_DIR owned by that user;
# - Keystone on sqlite gives "database is locked" under concurrent requests,
#   hence PostgreSQL (Glance uses it too).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly repo
readonly python=/usr/bin/python3 # Debian's, where Keystone and Glance live
readonly pgbin=/usr/lib/postgresql/15/bin
readonly first_port=15000
readonly port_range=1000
readonly token_ttl=${IMAGEOPS_CLOUD_TOKEN_TTL:-120}
readonly timeout=${IMAGEOPS_CLOUD_TIMEOUT:-300}
readonly port_lock_dir=${TMPDIR:-/tmp}
# A PostgreSQL cluster with Keystone's and Glance's databases migrated, per
# package versions: copying it is much faster than running db_sync each time.
readonly cache_dir=$repo/build/cache
readonly services=(postgres keystone glance nginx)

# shellcheck source=lib/process.sh
source "$repo/scripts/lib/process.sh"

die() {
  echo "cloud: $*" >&2
  exit 1
}

usage() {
  sed -n '7,10s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
  exit 2
}

# pid_of SERVICE: the PID of SERVICE when it runs.
pid_of() {
  local pid file=$state_dir/run/$1.pid
  [ -f "$file" ] || return 1
  pid=$(<"$file")
  [[ $pid =~ ^[0-9]+$ ]] && alive "$pid" "$(process_name "$1")" && echo "$pid"
}

# process_name SERVICE: what SERVICE's command line contains.
process_name() {
  case $1 in
  postgres) echo postgres ;;
  keystone) echo uwsgi ;;
  glance) echo glance-api ;;
  nginx) echo nginx ;;
  esac
}

# claim_ports N: sets ports to N free ports on 127.0.0.1 that no other start
# is about to use; their locks stay open (fds 20+) until the services listen.
claim_ports() {
  local want=$1 p fd=20
  ports=()
  for ((p = first_port; p < first_port + port_range && ${#ports[@]} < want; p++)); do
    listening "$p" && continue
    eval "exec $fd>\"$port_lock_dir/imageops-cloud-port-$p.lock\""
    if flock -n "$fd" && ! listening "$p"; then
      ports+=("$p")
      fd=$((fd + 1))
    else
      eval "exec $fd>&-"
    fi
  done
  [ ${#ports[@]} -eq "$want" ] || die "fewer than $want free ports in $first_port-$((first_port + port_range - 1))"
}

release_port_locks() {
  local fd
  for ((fd = 20; fd < 20 + ${#ports[@]}; fd++)); do eval "exec $fd>&-"; done
}

# run_bg SERVICE LOG COMMAND...: starts COMMAND in the background, without the
# script's lock fds, and records its PID.
run_bg() {
  local service=$1 log=$2
  shift 2
  # exec: the recorded PID is the service's own, not a subshell's.
  (exec "$@") </dev/null >>"$log" 2>&1 9>&- 20>&- 21>&- 22>&- 23>&- 24>&- &
  echo $! >"$state_dir/run/$service.pid"
}

# wait_for SERVICE CHECK...: waits until CHECK succeeds while SERVICE runs.
wait_for() {
  local service=$1 deadline=$((SECONDS + timeout))
  shift
  until "$@" 2>/dev/null; do
    if ! pid_of "$service" >/dev/null || ((SECONDS >= deadline)); then
      echo "cloud: $service did not come up ($*); last lines of its log:" >&2
      tail -n 30 "$state_dir/log/$service.log" >&2 || true
      return 1
    fi
    sleep 0.1
  done
}

# http_ok URL: URL answers with a status below 400 (certificate checked).
http_ok() {
  local code
  code=$(curl --noproxy '*' --cacert "$state_dir/ca.pem" -s -o /dev/null -m 5 -w '%{http_code}' "$1") || return 1
  [ "$code" -ge 200 ] && [ "$code" -lt 400 ]
}

# PostgreSQL refuses to run as root.
readonly as_postgres=(setpriv --reuid=postgres --regid=postgres --init-groups --)

versions_key() {
  dpkg-query -W -f='${Version}-' postgresql-15 python3-keystone python3-glance 2>/dev/null |
    tr -c 'A-Za-z0-9.\n' '_'
}

# make_template: a cluster with the keystone and glance databases migrated,
# in the cache, owned by postgres. Prints its path.
make_template() {
  local template tmp port pid
  template=$cache_dir/cloud-pg-$(versions_key)
  if [ -f "$template/.complete" ]; then
    echo "$template"
    return
  fi
  mkdir -p "$cache_dir"
  tmp=$(mktemp -d "$cache_dir/.cloud-pg.XXXXXX")
  chown postgres:postgres "$tmp"
  chmod 700 "$tmp"
  openssl rand -hex 16 >"$tmp.pw"
  chown postgres "$tmp.pw"
  "${as_postgres[@]}" "$pgbin/initdb" -D "$tmp/data" -U postgres -E UTF8 --locale=C.UTF-8 \
    --auth=scram-sha-256 --pwfile="$tmp.pw" >"$tmp.log" 2>&1 || {
    cat "$tmp.log" >&2
    die "initdb failed"
  }
  mv "$tmp.pw" "$tmp/data/imageops-password"
  chmod 600 "$tmp/data/imageops-password"
  port=${ports[0]}
  "${as_postgres[@]}" "$pgbin/postgres" -D "$tmp/data" -c listen_addresses=127.0.0.1 -p "$port" \
    -c unix_socket_directories= -c fsync=off >>"$tmp.log" 2>&1 </dev/null 9>&- 20>&- 21>&- 22>&- 23>&- 24>&- &
  pid=$!
  local pw deadline=$((SECONDS + timeout))
  pw=$(<"$tmp/data/imageops-password")
  until "$pgbin/pg_isready" -q -h 127.0.0.1 -p "$port"; do
    if ((SECONDS >= deadline)) || ! kill -0 "$pid" 2>/dev/null; then
      cat "$tmp.log" >&2
      die "postgres (template) did not start"
    fi
    sleep 0.1
  done
  PGPASSWORD=$pw "$pgbin/createdb" -h 127.0.0.1 -p "$port" -U postgres keystone
  PGPASSWORD=$pw "$pgbin/createdb" -h 127.0.0.1 -p "$port" -U postgres glance
  local db=postgresql+psycopg2://postgres:$pw@127.0.0.1:$port
  printf '[database]\nconnection = %s/keystone\n' "$db" >"$tmp/keystone.conf"
  printf '[database]\nconnection = %s/glance\n' "$db" >"$tmp/glance.conf"
  if ! keystone-manage --config-file "$tmp/keystone.conf" db_sync >>"$tmp.log" 2>&1 ||
    ! glance-manage --config-file "$tmp/glance.conf" db_sync >>"$tmp.log" 2>&1; then
    kill "$pid"
    tail -n 30 "$tmp.log" >&2
    die "db_sync failed; see $tmp.log"
  fi
  kill -INT "$pid" # fast shutdown
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  rm -f "$tmp/keystone.conf" "$tmp/glance.conf" "$tmp.log"
  touch "$tmp/.complete"
  rm -rf "$template"
  mv "$tmp" "$template"
  echo "$template"
}

# make_tls: a CA and one server certificate for 127.0.0.1 and localhost.
make_tls() {
  local tls=$state_dir/tls
  mkdir -p "$tls"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
    -subj "/CN=imageops.cloud local CA $(date +%s%N)" -keyout "$tls/ca.key" -out "$state_dir/ca.pem" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=127.0.0.1 \
    -keyout "$tls/server.key" -out "$tls/server.csr" 2>/dev/null
  openssl x509 -req -in "$tls/server.csr" -CA "$state_dir/ca.pem" -CAkey "$tls/ca.key" \
    -CAcreateserial -days 30 -out "$tls/server.pem" \
    -extfile <(printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n') 2>/dev/null
  chmod 600 "$tls"/*.key
}

new_fernet_key() {
  openssl rand 32 | basenc --base64url
}

write_keystone_config() {
  local etc=$state_dir/etc
  local repo_dir
  # Fernet key repositories as keystone-manage fernet_setup and
  # credential_setup make them (a primary key 0 and a staged key 1, each 32
  # random bytes in URL-safe base64), without two more Python start-ups.
  for repo_dir in fernet-keys credential-keys receipt-keys; do
    mkdir -p "$etc/$repo_dir"
    chmod 700 "$etc/$repo_dir"
    new_fernet_key >"$etc/$repo_dir/0"
    new_fernet_key >"$etc/$repo_dir/1"
    chmod 600 "$etc/$repo_dir"/*
  done
  cat >"$etc/keystone.conf" <<EOF
# Written by scripts/cloud.sh; rewritten on each start.
[DEFAULT]
public_endpoint = $keystone_url
log_file = $state_dir/log/keystone.log
use_stderr = false

[database]
connection = $db_url/keystone

[identity]
# bcrypt's cheapest cost: a test cloud, where hashing time is only waiting.
password_hash_rounds = 4

[token]
provider = fernet
expiration = $token_ttl

[fernet_tokens]
key_repository = $etc/fernet-keys

[fernet_receipts]
key_repository = $etc/receipt-keys

[credential]
key_repository = $etc/credential-keys

[oslo_middleware]
enable_proxy_headers_parsing = true
EOF
}

write_glance_config() {
  local etc=$state_dir/etc
  mkdir -p "$state_dir/images" "$state_dir/staging" "$state_dir/lock"
  cat >"$etc/glance-api.conf" <<EOF
# Written by scripts/cloud.sh; rewritten on each start.
[DEFAULT]
bind_host = 127.0.0.1
bind_port = $glance_port
workers = 1
public_endpoint = $glance_url
log_file = $state_dir/log/glance.log
use_stderr = false
node_staging_uri = file://$state_dir/staging
enabled_import_methods = [glance-direct,web-download]

[database]
connection = $db_url/glance

[glance_store]
stores = file,http
default_store = file
filesystem_store_datadir = $state_dir/images

[oslo_concurrency]
lock_path = $state_dir/lock

[paste_deploy]
flavor = keystone
config_file = /etc/glance/glance-api-paste.ini

[keystone_authtoken]
www_authenticate_uri = $keystone_url/v3
auth_url = $keystone_url/v3
auth_type = password
project_domain_name = Default
user_domain_name = Default
project_name = service
username = glance
password = $glance_password
cafile = $state_dir/ca.pem
region_name = RegionOne

[oslo_middleware]
enable_proxy_headers_parsing = true

[import_filtering_opts]
allowed_hosts = [127.0.0.1]
allowed_ports = []
EOF
  chmod 600 "$etc/glance-api.conf"
}

write_nginx_config() {
  local etc=$state_dir/etc tmp=$state_dir/nginx
  mkdir -p "$tmp"
  cat >"$etc/nginx.conf" <<EOF
# Written by scripts/cloud.sh: TLS in front of Keystone and Glance.
daemon off;
pid $state_dir/run/nginx.pid.internal;
error_log $state_dir/log/nginx.log warn;
worker_processes 1;
events { worker_connections 512; }
http {
  # request_length: the bytes a client sent (an upload's size), for the benchmarks.
  log_format imageops '\$remote_addr "\$request" \$status \$request_length \$body_bytes_sent "\$http_user_agent" \$request_time';
  access_log $state_dir/log/nginx-access.log imageops;
  client_body_temp_path $tmp/body;
  proxy_temp_path $tmp/proxy;
  fastcgi_temp_path $tmp/fastcgi;
  uwsgi_temp_path $tmp/uwsgi;
  scgi_temp_path $tmp/scgi;
  ssl_certificate $state_dir/tls/server.pem;
  ssl_certificate_key $state_dir/tls/server.key;
  client_max_body_size 0;
  proxy_http_version 1.1;
  proxy_request_buffering off;
  proxy_buffering off;
  proxy_read_timeout 600s;
  proxy_send_timeout 600s;
  proxy_set_header Host \$http_host;
  proxy_set_header X-Forwarded-Proto https;
  proxy_set_header X-Forwarded-For \$remote_addr;
  proxy_set_header Connection "";
  server {
    listen 127.0.0.1:$keystone_tls_port ssl;
    location / { proxy_pass http://127.0.0.1:$keystone_port; }
  }
  server {
    listen 127.0.0.1:$glance_tls_port ssl;
    location / { proxy_pass http://127.0.0.1:$glance_port; }
  }
}
EOF
}

# create_projects: the projects, users, roles, catalog entries and the
# application credential, through Keystone's API (one Python process: the
# openstack CLI would take a second per call). Writes run/ids.json.
create_projects() {
  ADMIN_PASSWORD=$admin_password GLANCE_PASSWORD=$glance_password \
    DEMO_PASSWORD=$demo_password OTHER_PASSWORD=$other_password \
    "$python" - "$keystone_url/v3" "$glance_url" "$state_dir/ca.pem" >"$state_dir/run/ids.json" <<'EOF'
import json, os, sys
import requests

auth_url, glance_url, ca = sys.argv[1:4]
s = requests.Session()
s.verify = ca
s.trust_env = False  # REQUESTS_CA_BUNDLE would win over verify

def token(user, password, project):
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": user, "domain": {"id": "default"}, "password": password}}},
        "scope": {"project": {"name": project, "domain": {"id": "default"}}}}}
    r = s.post(auth_url + "/auth/tokens", json=body)
    r.raise_for_status()
    return r.headers["X-Subject-Token"], r.json()["token"]

# Tokens may live only seconds (IMAGEOPS_CLOUD_TOKEN_TTL) and a loaded
# machine is slow: every call that gets a 401 makes a new token and retries.
H = {}

def renew():
    H["X-Auth-Token"], _ = token("admin", os.environ["ADMIN_PASSWORD"], "admin")

def call(method, path, headers=None, **kwargs):
    for _ in range(3):
        r = s.request(method, auth_url + path, headers=headers or H, **kwargs)
        if r.status_code != 401 or headers:
            break
        renew()
    if r.status_code >= 300:
        sys.exit(f"{method} {path}: {r.status_code} {r.text}")
    return r

def post(path, key, body, headers=None):
    return call("POST", path, headers, json={key: body}).json()[key]

def get_id(path, key, name):
    return call("GET", path, params={"name": name}).json()[key][0]["id"]

renew()

roles = {name: get_id("/roles", "roles", name) for name in ("admin", "member", "reader")}
ids = {"roles": roles, "projects": {}, "users": {}}
ids["projects"]["admin"] = get_id("/projects", "projects", "admin")
ids["users"]["admin"] = get_id("/users", "users", "admin")
for project, user, password, role in (
        ("service", "glance", os.environ["GLANCE_PASSWORD"], "admin"),
        ("demo", "demo", os.environ["DEMO_PASSWORD"], "member"),
        ("other", "other", os.environ["OTHER_PASSWORD"], "member")):
    pid = post("/projects", "project", {"name": project, "domain_id": "default",
                                        "description": "imageops.cloud local cloud"})["id"]
    uid = post("/users", "user", {"name": user, "domain_id": "default", "password": password,
                                  "default_project_id": pid})["id"]
    call("PUT", f"/projects/{pid}/users/{uid}/roles/{roles[role]}")
    ids["projects"][project], ids["users"][user] = pid, uid
post("/regions", "region", {"id": "RegionTwo", "description": "a region without an image endpoint"})
service = post("/services", "service", {"type": "image", "name": "glance", "enabled": True})
post("/endpoints", "endpoint", {"service_id": service["id"], "interface": "public",
                                "region_id": "RegionOne", "url": glance_url})

demo_token, _ = token("demo", os.environ["DEMO_PASSWORD"], "demo")
cred = post(f"/users/{ids['users']['demo']}/application_credentials", "application_credential",
            {"name": "imageops-local", "description": "imageops.cloud local cloud"},
            headers={"X-Auth-Token": demo_token})
ids["application_credential"] = {"id": cred["id"], "secret": cred["secret"]}
json.dump(ids, sys.stdout)
EOF
}

write_client_files() {
  local ids=$state_dir/run/ids.json appcred_id appcred_secret
  appcred_id=$("$python" -c 'import json,sys; print(json.load(open(sys.argv[1]))["application_credential"]["id"])' "$ids")
  appcred_secret=$("$python" -c 'import json,sys; print(json.load(open(sys.argv[1]))["application_credential"]["secret"])' "$ids")
  local common="    region_name: RegionOne
    interface: public
    identity_api_version: 3
    cacert: $state_dir/ca.pem"
  (
    umask 077
    cat >"$state_dir/clouds.yaml.tmp" <<EOF
# Written by scripts/cloud.sh: the local Keystone + Glance cloud (TLS).
clouds:
  admin:
    auth:
      auth_url: $keystone_url/v3
      username: admin
      password: $admin_password
      project_name: admin
      user_domain_name: Default
      project_domain_name: Default
$common
  demo:
    auth:
      auth_url: $keystone_url/v3
      username: demo
      password: $demo_password
      project_name: demo
      user_domain_name: Default
      project_domain_name: Default
$common
  other:
    auth:
      auth_url: $keystone_url/v3
      username: other
      password: $other_password
      project_name: other
      user_domain_name: Default
      project_domain_name: Default
$common
  appcred:
    auth_type: v3applicationcredential
    auth:
      auth_url: $keystone_url/v3
      application_credential_id: $appcred_id
      application_credential_secret: $appcred_secret
$common
  demo-noauth:
    auth:
      auth_url: $keystone_url/v3
      username: demo
      project_name: demo
      user_domain_name: Default
      project_domain_name: Default
$common
  keystone:
    auth:
      auth_url: $keystone_url/v3
$common
EOF
  )
  mv -f "$state_dir/clouds.yaml.tmp" "$state_dir/clouds.yaml"
  printf 'export %s=%q\n' \
    OS_CLIENT_CONFIG_FILE "$state_dir/clouds.yaml" \
    OS_CLOUD demo \
    IMAGEOPS_CLOUD_STATE "$state_dir" \
    IMAGEOPS_CLOUD_CA "$state_dir/ca.pem" \
    IMAGEOPS_CLOUD_KEYSTONE_URL "$keystone_url/v3" \
    IMAGEOPS_CLOUD_GLANCE_URL "$glance_url" \
    IMAGEOPS_CLOUD_TOKEN_TTL "$token_ttl" >"$state_dir/env.tmp"
  mv -f "$state_dir/env.tmp" "$state_dir/env"
}

do_stop() {
  local service pid children stopped=()
  # Reverse order: the front first, the database last.
  for service in nginx glance keystone postgres; do
    if pid=$(pid_of "$service"); then
      children=$(pgrep -P "$pid" || true)
      # shellcheck disable=SC2086 # children is a list of PIDs
      kill_and_wait "$(process_name "$service")" "$pid" $children || return 1
      stopped+=("$service $pid")
    fi
    rm -f "$state_dir/run/$service.pid"
  done
  [ ${#stopped[@]} -eq 0 ] || echo "cloud: stopped (${stopped[*]})"
}

running() {
  local service
  for service in "${services[@]}"; do pid_of "$service" >/dev/null || return 1; done
  [ -f "$state_dir/env" ] && http_ok "$(read_env IMAGEOPS_CLOUD_KEYSTONE_URL)" &&
    http_ok "$(read_env IMAGEOPS_CLOUD_GLANCE_URL)/versions"
}

read_env() {
  (
    # shellcheck disable=SC1091
    source "$state_dir/env" && printf '%s' "${!1}"
  )
}

do_start() {
  local t0 template
  t0=$(date +%s%N)
  if running; then
    echo "cloud: already running (keystone $(read_env IMAGEOPS_CLOUD_KEYSTONE_URL), glance $(read_env IMAGEOPS_CLOUD_GLANCE_URL))"
    return 0
  fi
  do_stop >/dev/null
  if ! { [ -x "$pgbin/postgres" ] && command -v keystone-manage >/dev/null && command -v glance-api >/dev/null &&
    command -v uwsgi >/dev/null && command -v nginx >/dev/null; }; then
    die "missing packages: run scripts/install-deps.sh"
  fi
  rm -rf "${state_dir:?}/pg" "${state_dir:?}/images" "${state_dir:?}/staging" "${state_dir:?}/etc" "${state_dir:?}/tls" \
    "${state_dir:?}/log" "${state_dir:?}/run" "${state_dir:?}/nginx" "${state_dir:?}/clouds.yaml" "${state_dir:?}/env"
  mkdir -p "$state_dir/log" "$state_dir/run" "$state_dir/etc"
  "${as_postgres[@]}" test -x "$state_dir" ||
    die "the postgres user cannot enter $state_dir (PostgreSQL refuses to run as root): make it and its parents searchable (chmod o+x) or choose another STATE_DIR"

  claim_ports 5
  local pg_port=${ports[0]}
  keystone_port=${ports[1]}
  keystone_tls_port=${ports[2]}
  glance_port=${ports[3]}
  glance_tls_port=${ports[4]}
  keystone_url=https://127.0.0.1:$keystone_tls_port
  glance_url=https://127.0.0.1:$glance_tls_port
  admin_password=$(openssl rand -hex 16)
  glance_password=$(openssl rand -hex 16)
  demo_password=$(openssl rand -hex 16)
  other_password=$(openssl rand -hex 16)

  # 1. PostgreSQL, from the migrated template.
  template=$(make_template)
  cp -a "$template" "$state_dir/pg"
  db_url=postgresql+psycopg2://postgres:$(<"$state_dir/pg/data/imageops-password")@127.0.0.1:$pg_port
  run_bg postgres "$state_dir/log/postgres.log" "${as_postgres[@]}" "$pgbin/postgres" -D "$state_dir/pg/data" \
    -c listen_addresses=127.0.0.1 -p "$pg_port" -c unix_socket_directories= \
    -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300
  make_tls &
  local tls_job=$!
  wait_for postgres "$pgbin/pg_isready" -q -h 127.0.0.1 -p "$pg_port" || { do_stop; exit 1; }

  # 2. Keystone, Glance and nginx start at once (none needs the others to
  # load); Keystone's bootstrap (admin, roles, RegionOne, identity
  # endpoints) runs meanwhile.
  write_keystone_config
  wait "$tls_job" || { do_stop; die "making the TLS certificates failed"; }
  write_glance_config
  write_nginx_config
  OS_KEYSTONE_CONFIG_FILES=$state_dir/etc/keystone.conf run_bg keystone "$state_dir/log/keystone-uwsgi.log" \
    uwsgi --plugin python3 --master --die-on-term --processes 2 --threads 2 \
    --http-socket "127.0.0.1:$keystone_port" --add-header "Connection: close" \
    --buffer-size 65535 --wsgi-file /usr/bin/keystone-wsgi-public --need-app
  run_bg glance "$state_dir/log/glance.log" glance-api --config-file "$state_dir/etc/glance-api.conf"
  run_bg nginx "$state_dir/log/nginx.log" nginx -c "$state_dir/etc/nginx.conf" -e "$state_dir/log/nginx.log"
  keystone-manage --config-file "$state_dir/etc/keystone.conf" bootstrap \
    --bootstrap-password "$admin_password" --bootstrap-region-id RegionOne \
    --bootstrap-admin-url "$keystone_url/v3" --bootstrap-internal-url "$keystone_url/v3" \
    --bootstrap-public-url "$keystone_url/v3" >>"$state_dir/log/keystone-manage.log" 2>&1 || {
    tail -n 30 "$state_dir/log/keystone-manage.log" >&2
    do_stop
    die "keystone-manage bootstrap failed"
  }
  wait_for keystone http_ok "$keystone_url/v3" || { do_stop; exit 1; }
  create_projects || { do_stop; die "creating the projects and users failed"; }
  wait_for glance http_ok "$glance_url/versions" || { do_stop; exit 1; }
  release_port_locks
  write_client_files
  local t1
  t1=$(date +%s%N)
  echo "cloud: running: keystone $keystone_url/v3, glance $glance_url (state $state_dir, started in $(((t1 - t0) / 1000000)) ms)"
  echo "cloud: eval \"\$($0 env $state_dir)\""
}

do_status() {
  local service pid
  for service in "${services[@]}"; do
    if ! pid=$(pid_of "$service"); then
      echo "cloud: stopped ($service is not running)"
      return 3
    fi
  done
  if running; then
    echo "cloud: running: keystone $(read_env IMAGEOPS_CLOUD_KEYSTONE_URL), glance $(read_env IMAGEOPS_CLOUD_GLANCE_URL)"
  else
    echo "cloud: the processes are alive but Keystone or Glance does not answer" >&2
    return 1
  fi
}

main() {
  if [ $# -lt 1 ] || [ $# -gt 2 ]; then usage; fi
  case ${2:-} in -*) usage ;; esac
  state_dir=$(realpath -m -- "${2:-$repo/build/cloud}")
  run_command "$1" $((timeout * 3))
}

main "$@"
