# Process and port helpers shared by the scripts that run local services
# (glance.sh, cloud.sh, ironic.sh), and their start/stop/status/env dispatch
# (run_command). Source it; it defines functions only.
# shellcheck shell=bash
# shellcheck disable=SC2154 # state_dir, cache_dir: set by the script that sources this file

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

# run_command CMD LOCK_WAIT: the start, stop, status and env commands of a
# service script on $state_dir. start and stop hold the directory's lock
# (fd 9), waiting at most LOCK_WAIT seconds for another start or stop; stop
# without the directory does nothing; env prints $state_dir/env. The script
# defines do_start, do_stop, do_status, usage and die.
run_command() {
  local cmd=$1 lock_wait=$2
  case $cmd in
  start)
    mkdir -p "$state_dir"
    lock_state_dir "$lock_wait"
    do_start
    ;;
  stop)
    [ -d "$state_dir" ] || return 0
    lock_state_dir "$lock_wait"
    do_stop
    ;;
  status) do_status ;;
  env)
    [ -f "$state_dir/env" ] || die "no $state_dir/env: run '$0 start $state_dir' first"
    cat "$state_dir/env"
    ;;
  *) usage ;;
  esac
}

# lock_state_dir SECONDS: one start or stop at a time per STATE_DIR (fd 9).
lock_state_dir() {
  exec 9>"$state_dir/.lock"
  flock -w "$1" 9 || die "timed out waiting for another start or stop in $state_dir"
}

# migrated_sqlite PACKAGE DEST TOOL SUBCOMMAND: DEST becomes an empty sqlite
# database migrated by `TOOL --config-file CONF SUBCOMMAND` (glance-manage
# db_sync, ironic-dbsync create_schema). The migrated file is cached in
# $cache_dir per version of PACKAGE (a migration takes seconds, a copy none);
# the tool's output goes to $state_dir/TOOL.log.
migrated_sqlite() {
  local package=$1 dest=$2 tool=$3 subcommand=$4 version template tmp
  version=$(dpkg-query -W -f='${Version}' "$package" 2>/dev/null | tr -c 'A-Za-z0-9.\n' '_') || version=unknown
  template=$cache_dir/${package#python3-}-$version.sqlite
  if [ ! -s "$template" ]; then
    mkdir -p "$cache_dir"
    tmp=$(mktemp "$cache_dir/.${package#python3-}-db.XXXXXX")
    printf '[database]\nconnection = sqlite:///%s\n' "$tmp" >"$tmp.conf"
    if ! "$tool" --config-file "$tmp.conf" "$subcommand" >>"$state_dir/$tool.log" 2>&1; then
      rm -f "$tmp" "$tmp.conf"
      tail -n 20 "$state_dir/$tool.log" >&2
      die "$tool $subcommand failed; see $state_dir/$tool.log"
    fi
    rm -f "$tmp.conf"
    chmod 644 "$tmp"
    mv -f "$tmp" "$template"
  fi
  cp "$template" "$dest"
}
