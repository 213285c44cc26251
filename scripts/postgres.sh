#!/usr/bin/env bash
# The project's private PostgreSQL: its own data folder (.local/pg) and loopback port, so it never
# touches another cluster and tests may stop and start it at will. Trust auth on 127.0.0.1 only:
# this instance is for development and tests, never for production.
#
#   scripts/postgres.sh start            start it (initdb on first use; installs PostgreSQL if missing, as root)
#   scripts/postgres.sh stop             stop it
#   scripts/postgres.sh status           exit 0 when it is running
#   scripts/postgres.sh pid              print the postmaster's process id
#   scripts/postgres.sh database NAME    create database NAME if missing and apply sql/schema.sql (idempotent)
#   scripts/postgres.sh url NAME         print the Npgsql connection string for NAME
#
# Environment: SESSIONS_PG_PORT (default 55432), SESSIONS_PG_DATA (default <repo>/.local/pg),
#   SESSIONS_PG_OPTIONS (extra server options at start, e.g. "-c shared_preload_libraries=pg_stat_statements").
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$repo/scripts/lib.sh"
port=${SESSIONS_PG_PORT:-55432}
data=${SESSIONS_PG_DATA:-$repo/.local/pg}

say() { echo "postgres: $*" >&2; }
die() { say "$*"; exit 1; }

find_bin() {
  pg_bin_dir && return
  [ "$(id -u)" = 0 ] || die "PostgreSQL is not installed. Install it (Debian: sudo apt-get install -y postgresql) and run again."
  say "PostgreSQL is not installed; installing the Debian package"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  pg_bin_dir || die "the postgresql package installed no /usr/lib/postgresql/*/bin"
}

bin=$(find_bin)

# As root the server runs as the postgres OS user, which must be able to reach the data folder;
# a checkout under a private folder gets a per-checkout folder in /var/tmp instead.
if [ -z "${SESSIONS_PG_DATA:-}" ] && [ "$(id -u)" = 0 ]; then
  mkdir -p "$repo/.local"
  if ! (cd / && runuser -u postgres -- test -x "$repo/.local") 2>/dev/null; then
    data=/var/tmp/sessions-pg-$(printf %s "$repo" | md5sum | cut -c1-12)
  fi
fi

# The server refuses to run as root: as root, run it as the postgres OS user.
as_owner() {
  if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

psql_() { pg_psql -v ON_ERROR_STOP=1 "$@"; }

running() { as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; }

init_cluster() {
  mkdir -p "$data"
  if [ "$(id -u)" = 0 ]; then
    chown postgres:postgres "$data"
    runuser -u postgres -- test -w "$data" \
      || die "the postgres OS user cannot write $data; set SESSIONS_PG_DATA to a folder it can write"
  fi
  say "initialising $data"
  as_owner "$bin/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --no-instructions >/dev/null
  # Tuned for this workload without weakening durability: fsync and synchronous_commit stay on.
  cat >> "$data/postgresql.conf" <<CONF

# --- Sessions (scripts/postgres.sh) ---
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = ''
max_connections = 200
shared_buffers = 256MB
wal_compression = on
max_wal_size = 2GB
checkpoint_timeout = 15min
fsync = on
synchronous_commit = on
CONF
}

start() {
  [ -f "$data/PG_VERSION" ] || init_cluster
  if running; then say "already running on 127.0.0.1:$port"; return; fi
  as_owner "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 -o "-p $port ${SESSIONS_PG_OPTIONS:-}" start >/dev/null \
    || { tail -n 20 "$data/server.log" >&2; die "could not start (log: $data/server.log)"; }
  say "running on 127.0.0.1:$port (data $data)"
}

stop() {
  if running; then as_owner "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null; say "stopped"; fi
}

database() {
  local name=${1:?database name}
  [[ $name =~ ^[a-z_][a-z0-9_]*$ ]] || die "database name must be lower-case letters, digits and _"
  if [ -z "$(psql_ -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$name'")" ]; then
    psql_ -d postgres -c "CREATE DATABASE $name"
  fi
  psql_ -d "$name" --single-transaction -f "$repo/sql/schema.sql" >/dev/null
  say "database $name has schema version $(psql_ -d "$name" -tAc 'SELECT max(version) FROM schemaversion')"
}

url() {
  echo "Host=127.0.0.1;Port=$port;Username=postgres;Database=${1:?database name};Maximum Pool Size=20;No Reset On Close=true;Max Auto Prepare=32;Auto Prepare Min Usages=2"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) running ;;
  pid) head -n 1 "$data/postmaster.pid" ;;
  database) database "${2:-}" ;;
  url) url "${2:-}" ;;
  *) die "usage: $0 start | stop | status | pid | database NAME | url NAME" ;;
esac
