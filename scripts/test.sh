#!/usr/bin/env bash
# Runs every test: starts the project's private PostgreSQL (installing it if missing, as root),
# installs Chromium for the browser tests when it is missing (as root), the Node sample's packages (npm ci), builds, runs the whole suite, and ends with one line "N passed, N failed, N skipped" read from
# the test results. Exits non-zero on any failure. Extra arguments go to dotnet test.
#   scripts/test.sh --fast   everyday work: every layer but the browser, end-to-end and fault tests (no Chromium needed)
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

filter=()
if $fast; then filter=(--filter "Category!=browser&Category!=end-to-end&Category!=fault"); fi
# Build the whole solution first: dotnet test builds only the test project and what it references, not the samples
# the end-to-end tests start.
if ! dotnet build Sessions.sln -c Release -nologo -v minimal; then
  echo "no test results: the build failed"
  echo "0 passed, 0 failed"
  exit 1
fi
status=0
dotnet test Sessions.sln --no-build "${filter[@]}" -c Release --logger "trx;LogFileName=tests.trx" --logger "console;verbosity=normal" \
  --results-directory "$results" "$@" || status=$?

trx=$(find "$results" -name '*.trx' 2>/dev/null | head -n 1)
if [ -z "$trx" ]; then
  echo "no test results: the build or the test host failed (exit $status)"
  echo "0 passed, 0 failed"
  exit $(( status == 0 ? 1 : status ))
fi
counter() { grep -o "<Counters [^>]*" "$trx" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*'; }
total=$(counter total); passed=$(counter passed); failed=$(( $(counter failed) + $(counter error) + $(counter timeout) + $(counter aborted) ))
skipped=$(( total - passed - failed ))
echo "$passed passed, $failed failed, $skipped skipped"
if [ "$failed" -gt 0 ] && [ "$status" -eq 0 ]; then status=1; fi
exit "$status"
