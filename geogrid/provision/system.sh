#!/usr/bin/env bash
# Installs the system packages GeoGrid needs, and only those that are missing:
# PostgreSQL 15 server, PostGIS 3, GDAL/GEOS/PROJ runtime, gettext (UI translations),
# Node.js + npm (to install the map libraries the app serves), Chromium and fonts (browser tests).
# Runs as root, or through sudo. A second run only checks and returns.
set -euo pipefail

PG_BIN=/usr/lib/postgresql/15/bin
missing=()
[ -x "$PG_BIN/initdb" ] && [ -x "$PG_BIN/pg_ctl" ] || missing+=(postgresql-15)
[ -f /usr/share/postgresql/15/extension/postgis.control ] || missing+=(postgresql-15-postgis-3)
command -v gdalinfo >/dev/null 2>&1 || missing+=(gdal-bin)
command -v msgfmt >/dev/null 2>&1 || missing+=(gettext)
command -v psql >/dev/null 2>&1 || missing+=(postgresql-client-15)
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
[ -x /usr/bin/chromium ] || missing+=(chromium)
# Fonts so that Chinese text and category symbols render in browser tests and screenshots.
[ -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] || missing+=(fonts-noto-cjk)
[ -f /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ] || missing+=(fonts-noto-color-emoji)
# A CJK font with TrueType outlines that reportlab can embed in the placards' PDF sheets
# (it cannot embed the CFF outlines of Noto Sans CJK).
[ -f /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ] || missing+=(fonts-wqy-zenhei)

if [ ${#missing[@]} -eq 0 ]; then
  echo "system: PostgreSQL 15, PostGIS 3, GDAL, gettext, npm and Chromium present"
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1; then
  SUDO=(sudo)
else
  echo "system: missing packages: ${missing[*]}" >&2
  echo "system: run 'make setup' as root or install sudo" >&2
  exit 1
fi

echo "system: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "system: installed ${missing[*]}"
