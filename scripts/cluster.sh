#!/usr/bin/env bash
# A local cluster on loopback: the project's PostgreSQL, N silos and M Api nodes joined through
# AdoNet clustering (membership in PostgreSQL), each node with its own log and PID.
#   scripts/cluster.sh up [SILOS] [APIS] [--prometheus]
#                                          start in the background (default 3 silos, 2 Api nodes); with --prometheus
#                                          also a Prometheus on http://127.0.0.1:9090 scraping every node (installs the
#                                          Debian package when missing, as root)
#   scripts/cluster.sh down                stop every node, then PostgreSQL
#   scripts/cluster.sh status              list the nodes and whether they run
# Silo i listens on 11111+i (gateway 30000+i), its management port (metrics, health, dashboard) on 127.0.0.1:(8100+i);
# Api node j on http://127.0.0.1:(5080+j), its management port on 127.0.0.1:(8090+j).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
source scripts/lib.sh
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
state="$repo/.local/cluster"
psql_() { pg_psql -tA -d sessions "$@"; }

up() {
  local silos=${1:-3} apis=${2:-2} prometheus=${3:-}
  [ ! -s "$state/nodes" ] || { echo "a cluster is already up (scripts/cluster.sh down first)" >&2; exit 1; }
  mkdir -p "$state"
  scripts/postgres.sh start
  scripts/postgres.sh database sessions
  echo "building..."
  dotnet build Sessions.sln -c Release -v quiet -nologo >"$state/build.log" 2>&1 || { tail -n 30 "$state/build.log"; exit 1; }

  # Development: every node shares the development pepper and key-encryption key of this machine.
  export DOTNET_ENVIRONMENT=Development ASPNETCORE_ENVIRONMENT=Development
  export ConnectionStrings__Sessions Cluster__Clustering=AdoNet Cluster__ClusterId=sessions-local Cluster__ServiceId=sessions
  ConnectionStrings__Sessions=$(scripts/postgres.sh url sessions)
  # One issuer for every Api node, as behind one load balancer: a token of one node verifies at another.
  export Api__Issuer=${Api__Issuer:-http://127.0.0.1:5080}
  psql_ -c "DELETE FROM membership WHERE deploymentid = 'sessions-local' AND status = 6"

  for i in $(seq 0 $((silos - 1))); do
    (cd Silo/bin/Release/net10.0 && exec env Cluster__Instance="$i" Management__Dashboard=true dotnet Silo.dll) >"$state/silo-$i.log" 2>&1 &
    echo "silo-$i $!" >>"$state/nodes"
    echo "silo $i: silo port 127.0.0.1:$((11111 + i)), gateway 127.0.0.1:$((30000 + i)), management http://127.0.0.1:$((8100 + i)) (/metrics, /health/ready, /dashboard) (log $state/silo-$i.log, pid $!)"
  done
  for _ in $(seq 1 90); do
    [ "$(psql_ -c "SELECT count(*) FROM membership WHERE deploymentid = 'sessions-local' AND status = 3")" -ge "$silos" ] && break
    sleep 1
  done
  for j in $(seq 0 $((apis - 1))); do
    local url="http://127.0.0.1:$((5080 + j))"
    (cd Api/bin/Release/net10.0 && exec env Management__Port=$((8090 + j)) dotnet Api.dll --urls "$url") >"$state/api-$j.log" 2>&1 &
    echo "api-$j $!" >>"$state/nodes"
    echo "api $j: $url, management http://127.0.0.1:$((8090 + j)) (/metrics) (log $state/api-$j.log, pid $!)"
  done
  for j in $(seq 0 $((apis - 1))); do
    local url="http://127.0.0.1:$((5080 + j))"
    wait_for_url "$url/health/ready" 90 || { echo "api $j is not ready: $(curl -s "$url/health/ready")" >&2; exit 1; }
  done
  [ "$prometheus" = --prometheus ] && start_prometheus "$silos" "$apis"
  echo "cluster up: $silos silos, $apis Api nodes; stop it with scripts/cluster.sh down"
}

# A real Prometheus scraping every node's management port every 2 s, its data under .local/cluster.
start_prometheus() {
  local silos=$1 apis=$2 bin
  bin=$(command -v prometheus || true)
  if [ -z "$bin" ]; then
    [ "$(id -u)" = 0 ] || { echo "Prometheus is not installed: sudo apt-get install -y prometheus" >&2; exit 1; }
    echo "installing Prometheus (Debian package prometheus)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus >/dev/null
    bin=$(command -v prometheus)
  fi
  {
    echo "global: { scrape_interval: 2s, evaluation_interval: 2s }"
    echo "scrape_configs:"
    echo "  - job_name: sessions-silo"
    echo "    static_configs: [ { targets: [$(seq -s, -f '"127.0.0.1:%g"' 8100 $((8100 + silos - 1)))] } ]"
    echo "  - job_name: sessions-api"
    echo "    static_configs: [ { targets: [$(seq -s, -f '"127.0.0.1:%g"' 8090 $((8090 + apis - 1)))] } ]"
  } >"$state/prometheus.yml"
  "$bin" --config.file="$state/prometheus.yml" --storage.tsdb.path="$state/prometheus" \
    --web.listen-address=127.0.0.1:9090 >"$state/prometheus.log" 2>&1 &
  echo "prometheus $!" >>"$state/nodes"
  wait_for_url http://127.0.0.1:9090/-/ready 30 || true
  echo "prometheus: http://127.0.0.1:9090 (log $state/prometheus.log, pid $!)"
}

down() {
  if [ -s "$state/nodes" ]; then
    while read -r name pid; do kill "$pid" 2>/dev/null && echo "stopping $name ($pid)"; done <"$state/nodes"
    for _ in $(seq 1 20); do
      alive=$(while read -r _ pid; do if kill -0 "$pid" 2>/dev/null; then echo "$pid"; fi; done <"$state/nodes")
      [ -z "$alive" ] && break
      sleep 0.5
    done
    for pid in $alive; do kill -9 "$pid" 2>/dev/null || true; done
    rm -f "$state/nodes"
  fi
  scripts/postgres.sh stop
}

status() {
  [ -s "$state/nodes" ] || { echo "no cluster"; return; }
  while read -r name pid; do
    if kill -0 "$pid" 2>/dev/null; then echo "$name $pid running"; else echo "$name $pid stopped"; fi
  done <"$state/nodes"
}

case "${1:-}" in
  up) up "${2:-3}" "${3:-2}" "${4:-}" ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 up [SILOS] [APIS] [--prometheus] | down | status" >&2; exit 1 ;;
esac
