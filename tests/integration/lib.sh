# Shared by the integration suites that run playbooks step by step:
#   source "$(dirname "$0")/../lib.sh"; suite_init LOG_DIR
#   step NAME COMMAND...   runs COMMAND, output to LOG_DIR/NAME.log; prints ok/FAIL
#   check WHAT COMMAND...  runs COMMAND, its output shown; prints ok/FAIL WHAT
#   suite_pass WHAT, suite_fail WHAT: a check decided by the suite itself
#   suite_finish NAME      prints "NAME: N passed, N failed"; returns non-zero on a failure
# and the helpers playbook (on localhost) and ran_with (a playbook whose output must match).
# It sets repo (the checkout) and ANSIBLE_COLLECTIONS_PATH (the collection make build links).
# shellcheck shell=bash

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export ANSIBLE_COLLECTIONS_PATH="$repo/build/collections"
export ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_LOCALHOST_WARNING=0 ANSIBLE_INVENTORY_UNPARSED_WARNING=0
suite_passed=0
suite_failed=0
suite_log=

suite_init() { # LOG_DIR
  suite_log=$1
  mkdir -p "$suite_log"
}

suite_pass() { # what passed
  suite_passed=$((suite_passed + 1))
  echo "ok   $*"
}

suite_fail() { # what failed
  suite_failed=$((suite_failed + 1))
  echo "FAIL $*"
}

step() { # name, then the command
  local name=$1
  shift
  if "$@" >"$suite_log/$name.log" 2>&1; then
    suite_pass "$name"
  else
    suite_fail "$name (log: $suite_log/$name.log)"
    tail -n 30 "$suite_log/$name.log" | sed 's/^/     /'
  fi
}

check() { # what is checked (a sentence), then the command
  local what=$1
  shift
  if "$@"; then suite_pass "$what"; else suite_fail "$what"; fi
}

suite_finish() { # suite name
  echo "$1: $suite_passed passed, $suite_failed failed"
  [ "$suite_failed" -eq 0 ]
}

playbook() { ansible-playbook -i "localhost," -c local "$@"; }

# module_arch: this machine's architecture as the module binaries are named (amd64, arm64).
module_arch() { case $(uname -m) in x86_64) echo amd64 ;; aarch64) echo arm64 ;; *) uname -m ;; esac; }

# suite_make LOG [TARGET...]: makes this machine's module binary, the collection link and
# TARGETs, output to LOG; on failure prints LOG, counts a failed check and returns non-zero.
suite_make() {
  local log=$1
  shift
  make -s -C "$repo" "plugins/modules/imageops_linux_$(module_arch)" collection "$@" >"$log" 2>&1 && return 0
  cat "$log"
  suite_fail "make the binary"
  return 1
}

# suite_ansible_temp DIR: Ansible's local and remote temporary files under DIR/ansible-tmp,
# so that the suite's cleanup of DIR removes them.
suite_ansible_temp() { export ANSIBLE_LOCAL_TEMP="$1/ansible-tmp" ANSIBLE_REMOTE_TEMP="$1/ansible-tmp"; }

# apt_mirror: the Debian mirror this machine's apt reaches (the first deb URI of its
# sources that is not the security archive); Debian's own when there is none.
apt_mirror() {
  local mirror
  mirror=$(grep -hoE '^(URIs:|deb) +[^ ]*https?://[^ ]+' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null |
    grep -v security | head -n1 | grep -oE 'https?://[^ ]+')
  echo "${mirror:-http://deb.debian.org/debian}"
}

# Boots under TCG (the image_build suites) are bounded by BOOT_TIMEOUT seconds
# (IMAGE_BUILD_BOOT_TIMEOUT) and by BOOT_STALL seconds without console output
# (IMAGE_BUILD_BOOT_STALL): a boot whose serial console shows nothing new for
# that long has hung; a slow one goes on (the firmware starts without output,
# which under TCG on a loaded machine may take minutes).
# shellcheck disable=SC2034 # used by the suites
BOOT_TIMEOUT=${IMAGE_BUILD_BOOT_TIMEOUT:-1800}
BOOT_STALL=${IMAGE_BUILD_BOOT_STALL:-600}
# stalled FILE: nothing was written to FILE for BOOT_STALL seconds.
stalled() {
  local written
  written=$(stat -c %Y "$1" 2>/dev/null) || return 1
  [ $(($(date +%s) - written)) -ge "$BOOT_STALL" ]
}

# pyq FILE EXPR: prints the Python expression EXPR over d, the JSON document in FILE.
pyq() { python3 -c "import sys, json; d = json.load(open(sys.argv[1])); print($2)" "$1"; }

# ran_with PATTERN ARGS...: runs a playbook; succeeds when it succeeded and its output
# matches PATTERN. The output is kept whole before grep, so that grep never cuts a pipe short.
ran_with() {
  local pattern=$1 out rc
  shift
  out=$(playbook "$@")
  rc=$?
  echo "$out"
  [ "$rc" -eq 0 ] && grep -Eq -- "$pattern" <<<"$out"
}

# A play recap line that says nothing changed and nothing failed.
# shellcheck disable=SC2034
unchanged='localhost +: ok=[0-9]+ +changed=0 +unreachable=0 +failed=0'

# wait_for SECONDS WHAT COMMAND...: runs COMMAND every 0.2 s until it succeeds;
# fails (saying WHAT did not happen within SECONDS) when SECONDS pass first. For
# events whose duration depends on the machine's load: bounds are generous, a
# success returns at once.
wait_for() {
  local seconds=$1 what=$2 deadline
  shift 2
  deadline=$((SECONDS + seconds))
  until "$@"; do
    if ((SECONDS >= deadline)); then
      echo "wait_for: $what did not happen within ${seconds}s" >&2
      return 1
    fi
    sleep 0.2
  done
}

# A second host over SSH: a real sshd on 127.0.0.1, run as this user, with its own config,
# host key and authorized key in DIR; its sessions get HOME=DIR/home (its own ~/.config,
# ~/.ansible), so what a role writes "on the remote host" stays in DIR.
#   sshd_start DIR            starts it (its port in DIR/port)
#   sshd_host_vars DIR [ARGS] prints the host's Ansible variables, as YAML lines to indent:
#                             ssh arguments -C (as Ansible's default ssh_args), the host key
#                             not recorded, then ARGS (default: one master connection, kept
#                             60 s, its socket in DIR); a connection timeout of 60 s (Ansible's
#                             10 s default is short for a loaded machine); the remote tmp in
#                             DIR/home/.ansible/tmp (Ansible expands ~ as the user's home from
#                             passwd, not HOME)
#   sshd_stop DIR             stops it and its master connections (also those a killed run
#                             left), by their PID file and sockets
sshd_start() { # DIR
  local dir=$1
  mkdir -p "$dir/home" /run/sshd
  ssh-keygen -q -t ed25519 -N '' -f "$dir/host_key" && ssh-keygen -q -t ed25519 -N '' -f "$dir/client_key" &&
    cp "$dir/client_key.pub" "$dir/authorized_keys" || return 1
  local sshd_port attempt
  # A port the kernel found free may be taken before sshd binds it: then sshd
  # logs that it cannot bind and exits, and another port is tried.
  for attempt in 1 2 3; do
    sshd_port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    sshd_config "$dir" "$sshd_port"
    rm -f "$dir/sshd.pid" "$dir/sshd.log"
    /usr/sbin/sshd -f "$dir/sshd_config" -E "$dir/sshd.log" || return 1
    # sshd writes its PID file once it listens (60 s at most under load).
    wait_for 60 "sshd's PID file or a bind failure" sshd_started "$dir" || return 1
    if [ -s "$dir/sshd.pid" ]; then
      echo "$sshd_port" >"$dir/port"
      return 0
    fi
    echo "sshd_start: attempt $attempt: $(cat "$dir/sshd.log")" >&2
  done
  return 1
}
sshd_started() { [ -s "$1/sshd.pid" ] || grep -qs 'Cannot bind any address' "$1/sshd.log"; }
sshd_config() { # DIR PORT
  local dir=$1 sshd_port=$2
  cat >"$dir/sshd_config" <<EOS
ListenAddress 127.0.0.1
Port $sshd_port
HostKey $dir/host_key
PidFile $dir/sshd.pid
AuthorizedKeysFile $dir/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
SetEnv HOME=$dir/home
EOS
}
sshd_host_vars() { # DIR [SSH_ARGS]
  local args=${2:-"-o ControlMaster=auto -o ControlPersist=60s -o ControlPath=$1/master-%C"}
  cat <<EOS
ansible_host: 127.0.0.1
ansible_port: $(cat "$1/port")
ansible_user: $(id -un)
ansible_ssh_private_key_file: $1/client_key
ansible_ssh_args: -C -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null $args
ansible_ssh_timeout: 60
ansible_python_interpreter: /usr/bin/python3
ansible_remote_tmp: $1/home/.ansible/tmp
EOS
}
sshd_stop() { # DIR
  local pid master
  for master in "$1"/master-*; do
    [ -S "$master" ] && ssh -o ControlPath="$master" -O exit 127.0.0.1 2>/dev/null
  done
  pid=$(cat "$1/sshd.pid" 2>/dev/null) || return 0
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = sshd ] && kill "$pid"
  rm -f "$1/sshd.pid"
}

# suite_with_glance STATE: the start of a suite on a local Glance: STATE made
# afresh, the log directory STATE/logs (suite_init), a Glance started in
# STATE/glance and its env sourced (OS_CLIENT_CONFIG_FILE, OS_CLOUD; G is its
# URL). On exit the suite's own suite_stop (when it defines one) runs, then
# what suite_serve serves and the Glance stop.
# shellcheck disable=SC2034 # G: used by the suite
suite_with_glance() {
  local state=$1
  rm -rf "$state"
  mkdir -p "$state"
  suite_init "$state/logs"
  suite_glance=$state/glance
  suite_served=$state/served
  trap suite_stop_all EXIT
  "$repo/scripts/glance.sh" start "$suite_glance" >"$suite_log/glance.log" 2>&1 || { cat "$suite_log/glance.log"; exit 1; }
  # shellcheck disable=SC1091 # written by glance.sh start
  source "$suite_glance/env"
  G=$IMAGEOPS_GLANCE_URL
}

# suite_serve DIR: after suite_with_glance, serves DIR over HTTP on 127.0.0.1
# (scripts/serve.sh) until the suite exits; prints the base URL. As it runs in
# a command substitution, it records DIR in a file for the exit trap:
#   base=$(suite_serve "$state/images") || exit 1
suite_serve() {
  echo "$1" >>"$suite_served"
  "$repo/scripts/serve.sh" start "$1" | tail -n 1
}

# shellcheck disable=SC2317 # run by the EXIT trap
suite_stop_all() {
  if declare -F suite_stop >/dev/null; then suite_stop; fi
  local dir
  if [ -f "$suite_served" ]; then
    while read -r dir; do "$repo/scripts/serve.sh" stop "$dir" >/dev/null 2>&1 || true; done <"$suite_served"
  fi
  "$repo/scripts/glance.sh" stop "$suite_glance" >/dev/null 2>&1 || true
}
