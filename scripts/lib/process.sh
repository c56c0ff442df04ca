# Process and port helpers shared by the scripts that run local services
# (glance.sh, cloud.sh). Source it; it defines functions only.
# shellcheck shell=bash

# alive PID NAME: the process exists, is not a zombie, and its command line
# contains NAME (so that a recycled PID is not taken for our server).
alive() {
  local pid=$1 state
  [ -r "/proc/$pid/stat" ] || return 1
  state=$(sed 's/^.*) \(.\).*$/\1/' "/proc/$pid/stat" 2>/dev/null) || return 1
  [ "$state" != Z ] || return 1
  # 2>/dev/null first: it also hides the error of a process gone meanwhile.
  tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -q -- "$2"
}

# listening PORT: something accepts TCP connections on 127.0.0.1:PORT.
listening() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# kill_and_wait NAME PID...: TERM, then KILL after 15 s; returns once all are
# gone, non-zero (with a message) when one would not exit.
kill_and_wait() {
  local name=$1 pid left i signal
  shift
  for signal in TERM KILL; do
    kill -"$signal" "$@" 2>/dev/null || true
    for ((i = 0; i < 150; i++)); do
      left=0
      for pid in "$@"; do alive "$pid" "$name" && left=1; done
      [ "$left" = 0 ] && return 0
      sleep 0.1
    done
  done
  echo "$name: process(es) $* did not exit" >&2
  return 1
}
