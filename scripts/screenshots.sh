#!/usr/bin/env bash
# Refreshes the README's pictures on purpose: runs the browser tests (through scripts/test.sh, which writes them to
# .local/screenshots/, gitignored) and copies the fresh screenshots to docs/images/. Commit them if they look right.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
shots="$repo/.local/screenshots"
rm -rf "$shots"
scripts/test.sh --filter "FullyQualifiedName~Sessions.Tests.Browser" "$@"
for shot in demo.png dashboard.png; do
  if [ ! -s "$shots/$shot" ]; then
    echo "screenshots: $shots/$shot was not written" >&2
    exit 1
  fi
  cp "$shots/$shot" docs/images/
done
echo "screenshots: docs/images/demo.png and docs/images/dashboard.png updated; review them with git diff --stat docs/images"
