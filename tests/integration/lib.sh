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
