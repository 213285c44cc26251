#!/usr/bin/env bash
# Refresh throughput of one silo and one Api node against 3 silos and 2 Api nodes, both brought up the
# same way by scripts/cluster.sh (AdoNet clustering) on this machine, driven by Bench across every Api node.
#   scripts/bench-cluster.sh     prints one markdown row per shape
# Environment: BENCH_SECONDS (default 20), BENCH_USERS (default 64), BENCH_SHAPES (default "1x1 3x2").
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
seconds=${BENCH_SECONDS:-20}
users=${BENCH_USERS:-64}
nodes="$repo/.local/cluster/nodes"

# As scripts/bench.sh runs its single node: quiet logs, and no per-address limits (every virtual user is 127.0.0.1).
export Logging__LogLevel__Default=Warning
export Api__LoginsPerMinutePerAddress=100000000 Api__RegistrationsPerMinutePerAddress=100000000 Api__RefreshesPerMinutePerAddress=100000000 Api__AccessTokenRequestsPerMinutePerAddress=100000000
trap 'scripts/cluster.sh down >/dev/null 2>&1 || true' EXIT INT TERM

dotnet build Bench/Bench.csproj -c Release -v quiet -nologo >/dev/null
echo "| shape | users | successes/s | p50 ms | p90 ms | p99 ms | max ms | errors | CPU s Api | CPU s silo | CPU s PostgreSQL | successes per CPU-second | note |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for shape in ${BENCH_SHAPES:-1x1 3x2}; do
  silos=${shape%x*} apis=${shape#*x}
  scripts/cluster.sh up "$silos" "$apis" >/dev/null
  pids() { grep "^$1-" "$nodes" | cut -d' ' -f2 | paste -sd+; }
  urls=$(seq 0 $((apis - 1)) | sed 's|^|http://127.0.0.1:508|' | paste -sd,)
  dotnet Bench/bin/Release/net10.0/Bench.dll refresh --users "$users" --seconds "$seconds" --url "$urls" \
    --pids "api=$(pids api),silo=$(pids silo),postgres=$(scripts/postgres.sh pid)" | sed "s/^| refresh |/| $silos silo(s), $apis Api |/"
  scripts/cluster.sh down >/dev/null
done
