#!/usr/bin/env bash
# Creates .venv and installs the project with its dev extra. The install is skipped when
# pyproject.toml has not changed since the last successful one (a stamp file records its hash).
set -euo pipefail
cd "$(dirname "$0")/../.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || {
    echo "venv: GeoGrid needs Python 3.11 ($PYTHON is $("$PYTHON" -V 2>&1)); set PYTHON=..." >&2
    exit 1
  }
  echo "venv: creating .venv"
  "$PYTHON" -m venv .venv
fi

stamp=.venv/.geogrid-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "venv: up to date"
  exit 0
fi
echo "venv: installing GeoGrid and its dependencies (first run takes a minute or two)"
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[dev]'
echo "$want" > "$stamp"
echo "venv: ready"
