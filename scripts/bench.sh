#!/usr/bin/env bash
# The standard benchmark set: the project's PostgreSQL, one silo and one Api (Release builds, Production
# settings) on their own ports and a fresh database, driven over HTTP by Bench/. Prints a markdown table.
#   scripts/bench.sh            the whole set (about 13 minutes)
#   scripts/bench.sh refresh    only the refresh rows, and introspection beside them (64 users)
#   scripts/bench.sh cohosted   the refresh rows, then again with the silo inside the Api's process (Api:HostsSilo)
#   scripts/bench.sh idle-memory only the idle-memory row
#   scripts/bench.sh cold       the refresh row at 64 users, then refreshes that each activate their session from PostgreSQL
#   scripts/bench.sh floods     only the abuse rows: forged tokens, one user's many logins, a login flood beside refreshes,
#                               a registration flood beside logins
#   scripts/bench.sh statements the refresh row at 64 users, then what PostgreSQL ran for it (pg_stat_statements;
#                               the project's PostgreSQL must not be running already, so that it starts with the module)
# The refresh rows are followed by the same load against the seed design's server (Node, stateless JWTs, its
# best case: SEED_KEYOBJECT_SECRETS=1) started here, and the ratio of the two: the baseline of the same run.
# Environment: BENCH_SESSIONS (idle-memory, default 100000), BENCH_SECONDS (default 20); BENCH_API_PORT (5180),
# BENCH_SILO_PORT (11211), BENCH_GATEWAY_PORT (30200), BENCH_SILO_MANAGEMENT_PORT (8100) and BENCH_API_MANAGEMENT_PORT
# (8090), to run beside another checkout's bench;
#   BENCH_CONNECTION_OPTIONS (Npgsql settings added to the connection string, for a try such as "Multiplexing=true");
#   SEED_DIR (the seed server's source: server.js, package.json, package-lock.json; default ../shared/peers/seed-node
#   beside this checkout; without it the refresh rows have no baseline).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
source scripts/lib.sh
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
only=${1:-all}
seconds=${BENCH_SECONDS:-20}
sessions=${BENCH_SESSIONS:-100000}
logs="$repo/.local/bench"
mkdir -p "$logs"

started_postgres=false
[ "$only" = statements ] && export SESSIONS_PG_OPTIONS="-c shared_preload_libraries=pg_stat_statements"
if ! scripts/postgres.sh status; then scripts/postgres.sh start; started_postgres=true; fi
pg_psql -d postgres -c "DROP DATABASE IF EXISTS sessions_bench WITH (FORCE)"
scripts/postgres.sh database sessions_bench
connection="$(scripts/postgres.sh url sessions_bench)${BENCH_CONNECTION_OPTIONS:+;$BENCH_CONNECTION_OPTIONS}"
dotnet build Sessions.sln -c Release -v quiet -nologo >"$logs/build.log" 2>&1 || { tail -n 30 "$logs/build.log"; exit 1; }

api_url=http://127.0.0.1:${BENCH_API_PORT:-5180}
gateway_port=${BENCH_GATEWAY_PORT:-30200}
export DOTNET_ENVIRONMENT=Production ASPNETCORE_ENVIRONMENT=Production
export ConnectionStrings__Sessions="$connection"
export Cluster__ClusterId=bench Cluster__ServiceId=bench Cluster__SiloPort=${BENCH_SILO_PORT:-11211} Cluster__GatewayPort=$gateway_port
export Sessions__RefreshTokenPepper Api__KeyEncryptionKey
Sessions__RefreshTokenPepper=$(head -c 32 /dev/urandom | base64)
Api__KeyEncryptionKey=$(head -c 32 /dev/urandom | base64)
export Api__LoginsPerMinutePerAddress=100000000 Api__RegistrationsPerMinutePerAddress=100000000 Api__RefreshesPerMinutePerAddress=100000000 Api__AccessTokenRequestsPerMinutePerAddress=100000000
export Logging__LogLevel__Default=Warning
export Api__Issuer=$api_url
# The backend client the introspection scenario authenticates as; the secret lives only in this run.
bench_client_secret=$(head -c 32 /dev/urandom | base64 | tr -d '/+=')
export Api__Clients__0__ClientId=bench Api__Clients__0__Scopes__0=introspect
Api__Clients__0__SecretHash=$(printf %s "$bench_client_secret" | sha256sum | cut -d' ' -f1)
export Api__Clients__0__SecretHash

silo_pid=""; api_pid=""; seed_pid=""
start_silo() { # extra environment assignments as arguments
  (cd Silo/bin/Release/net10.0 && exec env Management__Port="${BENCH_SILO_MANAGEMENT_PORT:-8100}" "$@" dotnet Silo.dll) >>"$logs/silo.log" 2>&1 &
  silo_pid=$!
}
stop_silo() { [ -z "$silo_pid" ] || { kill "$silo_pid" 2>/dev/null || true; wait "$silo_pid" 2>/dev/null || true; silo_pid=""; }; }
wait_ready() {
  wait_for_url "$api_url/health/ready" 90 && return 0
  echo "the Api did not become ready: $(curl -s "$api_url/health/ready")" >&2; tail -n 20 "$logs/silo.log" "$logs/api.log" >&2; exit 1
}
cleanup() {
  trap "" INT TERM
  kill "$api_pid" $seed_pid 2>/dev/null || true; stop_silo
  if $started_postgres; then scripts/postgres.sh stop >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT INT TERM

start_silo
wait_gateway() { wait_for_port "$gateway_port" 60 || true; } # a slow gateway is left to wait_ready
wait_gateway
start_api() { # extra environment assignments as arguments
  (cd Api/bin/Release/net10.0 && exec env Management__Port="${BENCH_API_MANAGEMENT_PORT:-8090}" "$@" dotnet Api.dll --urls "$api_url") >>"$logs/api.log" 2>&1 &
  api_pid=$!
}
start_api
wait_ready

seed_dir=${SEED_DIR:-$repo/../shared/peers/seed-node} seed_url=http://127.0.0.1:18081
start_seed() { # in a copy of its own under .local, with its locked dependencies from the npm registry
  local copy="$logs/seed-node"
  mkdir -p "$copy"
  if ! cmp -s "$seed_dir/package-lock.json" "$copy/package-lock.json"; then
    cp "$seed_dir/package.json" "$seed_dir/package-lock.json" "$copy/"
    (cd "$copy" && npm ci --no-audit --no-fund --loglevel=error) >>"$logs/seed.log" 2>&1 || { tail -n 20 "$logs/seed.log" >&2; exit 1; }
  fi
  cp "$seed_dir/server.js" "$copy/"
  # A cheap bcrypt cost only makes the users' setup quick; refresh does no hashing.
  (cd "$copy" && SEED_KEYOBJECT_SECRETS=1 PORT=${seed_url##*:} BCRYPT_ROUNDS=4 exec node server.js) >>"$logs/seed.log" 2>&1 &
  seed_pid=$!
  wait_for_url "$seed_url/health" 30 && return 0
  echo "the seed server did not start" >&2; tail -n 20 "$logs/seed.log" >&2; exit 1
}
seed_args=()
if [ "$only" = all ] || [ "$only" = refresh ] || [ "$only" = cohosted ]; then
  if [ -f "$seed_dir/server.js" ]; then
    start_seed
    seed_args=(--seed "$seed_url")
  else
    echo "no seed server at $seed_dir (set SEED_DIR): the refresh rows have no baseline" >&2
  fi
fi

bench() {
  dotnet Bench/bin/Release/net10.0/Bench.dll "$@" --url "$api_url" "${seed_args[@]}" \
    --silo-metrics "http://127.0.0.1:${BENCH_SILO_MANAGEMENT_PORT:-8100}/metrics" \
    --pids "api=$api_pid${silo_pid:+,silo=$silo_pid},postgres=$(scripts/postgres.sh pid)${seed_pid:+,seed=$seed_pid}"
}
stop_api() { kill "$api_pid" 2>/dev/null || true; wait "$api_pid" 2>/dev/null || true; }
# The refresh rows again with the silo inside the Api's process (Api:HostsSilo), then back to two processes.
cohosted() {
  stop_api; stop_silo
  start_api Api__HostsSilo=true; wait_ready
  for users in 64 8; do
    bench refresh --users "$users" --seconds "$seconds" | sed -e 's/^| refresh |/| refresh, co-hosted |/' -e 's/^| Sessions ÷/| Sessions co-hosted ÷/'
  done
  stop_api; start_silo; wait_gateway; start_api; wait_ready
}
restart_silo() { stop_silo; start_silo "$@"; wait_ready; }
restart_api() { stop_api; start_api "$@"; wait_ready; }
cold() {
  # Cold and idle-memory need many sessions: a cheap password hash for creating them only.
  restart_silo PasswordHashing__IterationCount=1000
  # Enough sessions that the 10 s warm-up leaves a measured window of several seconds at 4,000 cold refreshes/s.
  bench cold-setup --sessions 120000 --tokens "$logs/cold-tokens.txt" >/dev/null
  restart_silo # every session grain is now inactive
  # A restarted silo compiles its code for the first seconds: Bench's 10 s warm-up takes cold sessions too.
  # The row ends when the tokens do.
  bench cold --users 64 --seconds 60 --tokens "$logs/cold-tokens.txt"
}
floods() {
  bench forged --users 64 --seconds "$seconds"
  restart_silo PasswordHashing__IterationCount=1000
  bench one-user --sessions 2000 --database "$connection"
  # The flood's clients come through a trusted proxy (here: loopback), each with an address of its own.
  restart_silo
  restart_api Api__TrustedProxies__0=127.0.0.1
  bench login-flood --users 8 --flood 600 --seconds "$seconds"
  bench registration-flood --users 8 --flood 200 --seconds 30 --database "$connection"
  restart_api
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo
echo "| scenario | users | successes/s | p50 ms | p90 ms | p99 ms | max ms | errors | CPU s Api | CPU s silo | CPU s PostgreSQL | successes per CPU-second | note |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
if [ "$only" = floods ]; then floods; exit 0; fi
if [ "$only" = statements ]; then
  # Counted from the start, logins and warm-up included: 64 logins beside tens of thousands of refreshes.
  pg_psql -d sessions_bench -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" -c "SELECT pg_stat_statements_reset()" >/dev/null
  bench refresh --users 64 --seconds "$seconds"
  echo
  pg_psql -d sessions_bench -c "SELECT calls, round(total_exec_time::numeric / calls, 3) AS mean_ms, round(total_exec_time::numeric) AS total_ms,
    shared_blks_hit + shared_blks_read AS blocks, wal_records, left(regexp_replace(query, '\s+', ' ', 'g'), 90) AS query
    FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'sessions_bench') ORDER BY total_exec_time DESC LIMIT 8"
  exit 0
fi
if [ "$only" != idle-memory ]; then
  bench refresh --users 64 --seconds "$seconds"
  BENCH_CLIENT="bench:$bench_client_secret" bench introspect --users 64 --seconds "$seconds"
  [ "$only" = cold ] && { cold; exit 0; }
  bench refresh --users 8 --seconds "$seconds"
  [ "$only" = cohosted ] && cohosted
  [ "$only" = refresh ] || [ "$only" = cohosted ] && exit 0
  bench mixed --users 64 --seconds "$seconds"
  bench login --users 1 --seconds 10
  bench login --users 4 --seconds 10
  cold
  floods
fi
restart_silo PasswordHashing__IterationCount=1000
echo
bench idle-memory --sessions "$sessions" --database "$connection"
