#!/usr/bin/env bash
# Runs the service on this machine: the project's private PostgreSQL (installed if missing, as root),
# the schema, one silo and the Api on loopback. Ctrl-C stops everything it started.
#   SESSIONS_API_URL (default http://127.0.0.1:5080)   where the Api listens
#   SESSIONS_SAMPLE_API_URL (default http://127.0.0.1:5081)   where samples/aspnet-api listens, the demo's "Your API"
#   Email__Smtp__Host (and Port, Security, ...)   an SMTP server of your own; unset, smtp4dev (installed into .local/tools)
#                                                  catches every mail on 127.0.0.1:2525 and shows it at http://127.0.0.1:5090
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
source scripts/lib.sh
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
api_url=${SESSIONS_API_URL:-http://127.0.0.1:5080}
sample_url=${SESSIONS_SAMPLE_API_URL:-http://127.0.0.1:5081}
logs="$repo/.local/logs"
mkdir -p "$logs"

# On the way out, stop what this script started, and only that: a PostgreSQL that was already running stays.
started_postgres=false
pids=()
stop_all() {
  trap "" INT TERM  # a second Ctrl-C must not cut the cleanup short
  trap - EXIT
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if $started_postgres; then scripts/postgres.sh stop; fi
}
trap stop_all EXIT INT TERM

if ! scripts/postgres.sh status; then
  started_postgres=true
  scripts/postgres.sh start
fi
scripts/postgres.sh database sessions
echo "building (a first build takes a minute or two; log: $logs/build.log)..."
# One line per project as it is built, the errors if it fails.
if ! dotnet build Sessions.sln -c Release -v minimal -nologo 2>&1 | tee "$logs/build.log" | sed -un 's/^ *\([A-Za-z.]*\) -> .*/  built \1/p'; then
  grep -E ': error ' "$logs/build.log" | sort -u | head -n 30
  echo "the build failed (log: $logs/build.log)"
  exit 1
fi

export DOTNET_ENVIRONMENT=${DOTNET_ENVIRONMENT:-Development}
export ConnectionStrings__Sessions
# The issuer is the URL served here, unless the caller names one (Api__Issuer, or Api__PublicBaseUrl behind a proxy).
if [ -z "${Api__Issuer:-}${Api__PublicBaseUrl:-}" ]; then export Api__Issuer=$api_url; fi
issuer=${Api__Issuer:-${Api__PublicBaseUrl%/}}
# The sample API introspects as a backend client of its own, its secret made for this run only (a named entry, so
# clients given as Api__Clients__0__... stay as they are).
sample_secret=$(head -c 32 /dev/urandom | base64 | tr -d '/+=')
export Api__Clients__demo__ClientId=demo-api Api__Clients__demo__Scopes__0=introspect
Api__Clients__demo__SecretHash=$(printf %s "$sample_secret" | sha256sum | cut -d' ' -f1)
export Api__Clients__demo__SecretHash
ConnectionStrings__Sessions=$(scripts/postgres.sh url sessions)

# Mail: a real mail catcher unless an SMTP server is named. smtp4dev is a .NET tool, installed here once.
catcher=false
if [ -z "${Email__Smtp__Host:-}" ]; then
  if [ ! -x .local/tools/smtp4dev ]; then
    echo "installing smtp4dev 3.15.0 (the development mail catcher) into .local/tools..."
    dotnet tool install Rnwood.Smtp4dev --version 3.15.0 --tool-path .local/tools >"$logs/smtp4dev-install.log" 2>&1 \
      || { tail -n 20 "$logs/smtp4dev-install.log"; echo "could not install smtp4dev; set Email__Smtp__Host to an SMTP server instead"; exit 1; }
  fi
  export Email__Smtp__Host=127.0.0.1 Email__Smtp__Port=2525 Email__Smtp__Security=None
  catcher=true
fi

if $catcher; then
  .local/tools/smtp4dev --urls=http://127.0.0.1:5090 --smtpport=2525 --imapport= --pop3port= --db= >"$logs/smtp4dev.log" 2>&1 &
  pids+=($!)
fi

# Each process runs from its own output folder so it finds its appsettings.json.
(cd Silo/bin/Release/net10.0 && exec dotnet Silo.dll) >"$logs/silo.log" 2>&1 &
silo_pid=$!
pids+=($!)
# A silo slow to open its gateway is left to the Api's wait below; one that exited is not.
wait_for_port 30000 60 "$silo_pid" || [ $? = 1 ] || { tail -n 30 "$logs/silo.log"; echo "the silo exited (log: $logs/silo.log)"; exit 1; }
echo "silo: gateway 127.0.0.1:30000, silo port 127.0.0.1:11111, management http://127.0.0.1:8100 (/metrics, /dashboard) (log: $logs/silo.log)"

(cd Api/bin/Release/net10.0 && exec dotnet Api.dll --urls "$api_url") >"$logs/api.log" 2>&1 &
api_pid=$!
pids+=($!)
wait_for_url "$api_url/health/ready" 60 "$api_pid" || case $? in
  1) echo "warning: the Api is not ready yet: $(curl -s "$api_url/health/ready")" ;;
  *) tail -n 30 "$logs/api.log"; echo "the Api exited (log: $logs/api.log)"; exit 1 ;;
esac
echo "api: $api_url, issuer $issuer, management http://127.0.0.1:8090 (/metrics) (log: $logs/api.log)"

# Not waited on below: the service runs on without the sample.
(cd samples/aspnet-api/bin/Release/net10.0 && exec env Sessions__Issuer="$issuer" Sessions__Introspection__ClientId=demo-api \
  Sessions__Introspection__ClientSecret="$sample_secret" Cors__Origins__0="$api_url" ASPNETCORE_ENVIRONMENT=Development \
  dotnet AspNetApi.dll --urls "$sample_url") >"$logs/sample-api.log" 2>&1 &
pids+=($!)
if wait_for_url "$sample_url/health" 30; then
  echo "your API: $sample_url (samples/aspnet-api, instant revocation) (log: $logs/sample-api.log)"
else
  echo "warning: samples/aspnet-api did not start at $sample_url (log: $logs/sample-api.log); the demo's Your API card will say so"
fi
demo_query=""
[ "$sample_url" = http://127.0.0.1:5081 ] || demo_query="?yourApi=$sample_url"
echo
echo "Sessions is running at $api_url"
echo "  demo:     $api_url/demo/$demo_query   (the browser client, Development only)"
echo "  discovery: $api_url/.well-known/openid-configuration"
$catcher && echo "  mail:     http://127.0.0.1:5090   (smtp4dev: every mail the service sends, e.g. verification and reset links)"
echo "  try it:   $api_url/scalar   (interactive, Development only)"
echo "  contract: $api_url/openapi/v1.json"
echo "Press Ctrl-C to stop."
wait -n "$silo_pid" "$api_pid"
echo "a process exited; stopping the rest"
