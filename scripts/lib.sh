# shellcheck shell=bash
# Shared by the scripts beside it, which source it: where PostgreSQL's programs are, and waiting for a node to answer.
# Nothing here runs on its own.

# The newest installed PostgreSQL's bin folder (Debian's layout); prints nothing and fails when there is none.
pg_bin_dir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1) || true
  [ -n "$dir" ] && echo "$dir"
}

# psql on the project's PostgreSQL (scripts/postgres.sh: SESSIONS_PG_PORT, trust auth) as postgres, without ~/.psqlrc.
pg_psql() { "$(pg_bin_dir)/psql" -X -q -h 127.0.0.1 -p "${SESSIONS_PG_PORT:-55432}" -U postgres "$@"; }

# wait_for_port PORT SECONDS [PID]: until something accepts connections on 127.0.0.1:PORT.
# wait_for_url URL SECONDS [PID]: until URL answers with a 2xx status.
# Both try once a second. They give up after SECONDS (return 1), or as soon as PID, when given, has exited (return 2),
# saying so on stderr; what the script does then (and any message of its own) is the caller's.
wait_for_port() { wait_for_ "127.0.0.1:$1 to accept connections" "$2" "${3:-}" port_open_ "$1"; }
wait_for_url() { wait_for_ "$1 to answer" "$2" "${3:-}" url_answers_ "$1"; }

port_open_() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
url_answers_() { curl -fs "$1" >/dev/null 2>&1; }

wait_for_() { # WHAT SECONDS PID CHECK...
  local what=$1 seconds=$2 pid=$3 attempt
  shift 3
  for attempt in $(seq 1 "$seconds"); do
    "$@" && return 0
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      echo "${0##*/}: process $pid exited while waiting for $what" >&2
      return 2
    fi
    [ "$attempt" = "$seconds" ] || sleep 1
  done
  echo "${0##*/}: gave up waiting for $what after $seconds s" >&2
  return 1
}
