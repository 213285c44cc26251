#!/usr/bin/env bash
# Where the CPU of a refresh goes: the project's PostgreSQL with a fresh database, one silo and one Api (or one Api node
# hosting its silo), Release builds with perf maps, Bench refreshing at 64 users for 40 s after 10 s of warm-up, and
# `perf record -g` of the .NET processes for 15 s in the middle. Prints Bench's row and perf's top objects; the
# recording stays in .local/profile/MODE.data for `perf report -i` (JIT-compiled frames resolve through /tmp/perf-PID.map).
#   scripts/profile.sh [separate|cohosted]
# Needs perf (Debian: linux-perf). Uses bench.sh's ports (Api 5180, silo 11211, gateway 30200), so not beside it.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
source scripts/lib.sh
mode=${1:-separate}
[ "$mode" = separate ] || [ "$mode" = cohosted ] || { echo "usage: $0 [separate|cohosted]" >&2; exit 2; }
command -v perf >/dev/null || { echo "perf is missing (Debian: apt-get install -y linux-perf)" >&2; exit 1; }
out="$repo/.local/profile"
mkdir -p "$out"
# Perf maps name JIT-compiled methods; W^X double mapping would hide them from perf.
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0

started_postgres=false
if ! scripts/postgres.sh status; then scripts/postgres.sh start; started_postgres=true; fi
pg_psql -d postgres -c "DROP DATABASE IF EXISTS sessions_profile WITH (FORCE)"
scripts/postgres.sh database sessions_profile
dotnet build Sessions.sln -c Release -v quiet -nologo >"$out/build.log" 2>&1 || { tail -n 30 "$out/build.log"; exit 1; }

export DOTNET_ENVIRONMENT=Production ASPNETCORE_ENVIRONMENT=Production
export ConnectionStrings__Sessions="$(scripts/postgres.sh url sessions_profile)"
export Cluster__ClusterId=profile Cluster__ServiceId=profile Cluster__SiloPort=11211 Cluster__GatewayPort=30200
export Sessions__RefreshTokenPepper Api__KeyEncryptionKey
Sessions__RefreshTokenPepper=$(head -c 32 /dev/urandom | base64)
Api__KeyEncryptionKey=$(head -c 32 /dev/urandom | base64)
export Api__LoginsPerMinutePerAddress=100000000 Api__RegistrationsPerMinutePerAddress=100000000 Api__RefreshesPerMinutePerAddress=100000000 Api__AccessTokenRequestsPerMinutePerAddress=100000000
export Logging__LogLevel__Default=Warning PasswordHashing__IterationCount=1000
export Api__Issuer=http://127.0.0.1:5180

pids=()
cleanup() {
  kill "${pids[@]}" 2>/dev/null || true
  if $started_postgres; then scripts/postgres.sh stop >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT INT TERM
silo=""
if [ "$mode" = separate ]; then
  (cd Silo/bin/Release/net10.0 && exec dotnet Silo.dll) >"$out/silo.log" 2>&1 &
  silo=$!; pids+=("$silo")
  wait_for_port 30200 60 || true
  (cd Api/bin/Release/net10.0 && exec dotnet Api.dll --urls http://127.0.0.1:5180) >"$out/api.log" 2>&1 &
else
  (cd Api/bin/Release/net10.0 && exec env Api__HostsSilo=true dotnet Api.dll --urls http://127.0.0.1:5180) >"$out/api.log" 2>&1 &
fi
api=$!; pids+=("$api")
wait_for_url http://127.0.0.1:5180/health/ready 90 || true

dotnet Bench/bin/Release/net10.0/Bench.dll refresh --users 64 --seconds 40 --warmup 10 --url http://127.0.0.1:5180 \
  --pids "api=$api${silo:+,silo=$silo},postgres=$(scripts/postgres.sh pid)" >"$out/$mode.row" &
bench=$!
sleep 22 # past the logins and the warm-up, into the measured window
perf record -F 499 -g -o "$out/$mode.data" -p "$api${silo:+,$silo}" -- sleep 15 >/dev/null 2>&1
wait "$bench"
cat "$out/$mode.row"
echo
# Each sample's process and the object its innermost frame is in; JIT-compiled .NET code is in /tmp/perf-PID.map.
perf script -i "$out/$mode.data" -F pid,ip,dso 2>/dev/null | awk -v api="$api" -v silo="$silo" '
  /^ *[0-9]+ *$/ { pid = $1 + 0; first = 1; next }
  first && NF {
    first = 0; dso = $NF; gsub(/[()]/, "", dso); sub(/.*\//, "", dso)
    if (dso ~ /^perf-[0-9]+\.map$/) dso = "JIT-compiled .NET code"
    name = pid == silo ? "silo" : (silo == "" ? "api+silo" : "api"); count[name "|" dso]++; total[name]++
  }
  END { for (k in count) { split(k, p, "|"); printf "%-9s %5.1f%%  %s\n", p[1], 100 * count[k] / total[p[1]], p[2] } }' |
  sort -k1,1 -k2,2nr | awk '++seen[$1] <= 6'
