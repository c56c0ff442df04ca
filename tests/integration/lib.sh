# Shared by the integration suites that run playbooks step by step:
#   source "$repo/tests/integration/lib.sh"; suite_init LOG_DIR
#   step NAME COMMAND...   runs COMMAND, output to LOG_DIR/NAME.log; prints ok/FAIL
#   suite_finish NAME      prints "NAME: N passed, N failed"; returns non-zero on a failure
# and the helpers playbook (on localhost) and ran_with (a playbook whose output must match).
# shellcheck shell=bash

export ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_LOCALHOST_WARNING=0
suite_passed=0
suite_failed=0
suite_log=

suite_init() { # LOG_DIR
  suite_log=$1
  mkdir -p "$suite_log"
}

step() { # name, then the command
  local name=$1
  shift
  if "$@" >"$suite_log/$name.log" 2>&1; then
    suite_passed=$((suite_passed + 1))
    echo "ok   $name"
  else
    suite_failed=$((suite_failed + 1))
    echo "FAIL $name (log: $suite_log/$name.log)"
    tail -n 30 "$suite_log/$name.log" | sed 's/^/     /'
  fi
}

suite_finish() { # suite name
  echo "$1: $suite_passed passed, $suite_failed failed"
  [ "$suite_failed" -eq 0 ]
}

playbook() { ansible-playbook -i "localhost," -c local "$@"; }

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
# the Glance stops. Uses repo (the checkout).
# shellcheck disable=SC2154,SC2034 # repo: set by the suite; G: used by it
suite_with_glance() {
  local state=$1
  rm -rf "$state"
  mkdir -p "$state"
  suite_init "$state/logs"
  suite_glance=$state/glance
  trap suite_stop_all EXIT
  "$repo/scripts/glance.sh" start "$suite_glance" >"$suite_log/glance.log" 2>&1 || { cat "$suite_log/glance.log"; exit 1; }
  # shellcheck disable=SC1091 # written by glance.sh start
  source "$suite_glance/env"
  G=$IMAGEOPS_GLANCE_URL
}

# shellcheck disable=SC2317 # run by the EXIT trap
suite_stop_all() {
  if declare -F suite_stop >/dev/null; then suite_stop; fi
  "$repo/scripts/glance.sh" stop "$suite_glance" >/dev/null 2>&1 || true
}
