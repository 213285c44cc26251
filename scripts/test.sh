#!/usr/bin/env bash
# Runs every test: starts the project's private PostgreSQL (installing it if missing, as root),
# installs Chromium for the browser tests when it is missing (as root), the Node sample's packages (npm ci), builds,
# runs the two test projects one after the other (Tests/Fast, then Tests/EndToEnd), and ends with one line
# "N passed, N failed, N skipped" summed from their results. Exits non-zero on any failure. Extra arguments go to
# dotnet test.
#   scripts/test.sh --fast   everyday work: builds and runs only Tests/Fast (unit, hosting, grains, Api; no Chromium,
#                            no processes, no SMTP server)
set -euo pipefail
fast=false
if [ "${1:-}" = --fast ]; then fast=true; shift; fi
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# The browser tests drive Debian's Chromium (Playwright cannot download its own browser here).
if ! $fast && [ -z "${CHROMIUM_PATH:-}" ] && [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "test: installing Chromium for the browser tests (Debian package chromium)" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "test: Chromium is missing, so the browser tests will fail; install it: sudo apt-get install -y chromium" >&2
  fi
fi

# The Node resource-server sample's packages, exactly as its lock file names them.
if ! $fast; then
  if command -v npm >/dev/null; then
    (cd samples/node-api && npm ci --no-audit --no-fund --loglevel=error)
  else
    echo "test: npm is missing, so the Node sample's tests will fail; install it: sudo apt-get install -y nodejs npm" >&2
  fi
fi

started_postgres=false
if ! scripts/postgres.sh status; then
  scripts/postgres.sh start
  started_postgres=true
fi
results="$repo/.local/test-results"
cleanup() {
  if $started_postgres; then scripts/postgres.sh stop >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

export SESSIONS_TEST_POSTGRES
SESSIONS_TEST_POSTGRES=$(scripts/postgres.sh url postgres)
rm -rf "$results"

if $fast; then
  build=Tests/Fast/Fast.csproj projects=(Fast)
else
  # The whole solution: dotnet test builds only a test project and what it references, not the samples and the
  # services the end-to-end tests start.
  build=Sessions.sln projects=(Fast EndToEnd)
fi
if ! dotnet build "$build" -c Release -nologo -v minimal; then
  echo "no test results: the build failed"
  echo "0 passed, 0 failed"
  exit 1
fi

counter() { grep -o "<Counters [^>]*" "$1" | grep -o " $2=\"[0-9]*\"" | grep -o '[0-9]*'; }
status=0 passed=0 failed=0 skipped=0
for project in "${projects[@]}"; do
  project_status=0
  dotnet test "Tests/$project/$project.csproj" --no-build -c Release --logger "trx;LogFileName=$project.trx" \
    --logger "console;verbosity=normal" --results-directory "$results" "$@" || project_status=$?
  trx="$results/$project.trx"
  if [ ! -f "$trx" ]; then
    # No results and a clean exit: a --filter that matches nothing in this project.
    if [ "$project_status" -ne 0 ]; then echo "no test results from Tests/$project: its test host failed (exit $project_status)"; status=1; fi
    continue
  fi
  total=$(counter "$trx" total); ok=$(counter "$trx" passed)
  bad=$(( $(counter "$trx" failed) + $(counter "$trx" error) + $(counter "$trx" timeout) + $(counter "$trx" aborted) ))
  echo "Tests/$project: $ok passed, $bad failed, $(( total - ok - bad )) skipped"
  passed=$(( passed + ok )) failed=$(( failed + bad )) skipped=$(( skipped + total - ok - bad ))
  if [ "$project_status" -ne 0 ] || [ "$bad" -gt 0 ]; then status=1; fi
done
echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"
