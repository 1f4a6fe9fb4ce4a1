#!/usr/bin/env bash
# Installs the map libraries (Leaflet and plugins) from the npm registry at the exact versions of
# maps/package-lock.json. Django serves them from maps/node_modules: no CDN, no committed copies.
# Skipped when the lock file has not changed since the last install.
set -euo pipefail
cd "$(dirname "$0")/../../maps"
stamp=node_modules/.geogrid-installed
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "assets: map libraries up to date"
  exit 0
fi
echo "assets: installing map libraries (npm ci)"
npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
echo "$want" > "$stamp"
