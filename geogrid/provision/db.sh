#!/usr/bin/env bash
# Provisions GeoGrid's database.
#   DATABASE_URL set  -> checks that it answers and has PostGIS; touches nothing else.
#   otherwise         -> a private cluster in var/postgres (never a system cluster), listening on
#                        127.0.0.1:$GEOGRID_DB_PORT (default 55432), socket in var/run; started when
#                        stopped; database "geogrid" with PostGIS; credentials in var/geogrid.env.
# GEOGRID_VAR_DIR moves var/ elsewhere. Usage: db.sh [up|stop|status|destroy]. Idempotent: "up" on a running cluster only checks.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
VAR=${GEOGRID_VAR_DIR:-$ROOT/var}
PGDATA=$VAR/postgres
SOCKDIR=$VAR/run
LOGDIR=$VAR/log
ENVFILE=$VAR/geogrid.env
PORT=${GEOGRID_DB_PORT:-55432}
PG_BIN=/usr/lib/postgresql/15/bin
DB_NAME=geogrid
DB_USER=geogrid

say() { echo "db: $*"; }
die() { echo "db: error: $*" >&2; exit 1; }

# initdb refuses root, so as root the cluster belongs to the unprivileged "postgres" user.
if [ "$(id -u)" -eq 0 ]; then
  OWNER=postgres
  id "$OWNER" >/dev/null 2>&1 || die "OS user 'postgres' is missing; run 'make setup' to install PostgreSQL"
  as_owner() { runuser -u "$OWNER" -- "$@"; }
else
  OWNER=$(id -un)
  as_owner() { "$@"; }
fi

psql_local() {  # psql over the private socket, as the cluster superuser
  as_owner "$PG_BIN/psql" -h "$SOCKDIR" -p "$PORT" -U "$DB_USER" -v ON_ERROR_STOP=1 -qAt "$@"
}

port_taken() {  # true when something accepts connections on 127.0.0.1:$1 (refused -> false, fast)
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

running() { [ -f "$PGDATA/postmaster.pid" ] && as_owner "$PG_BIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; }

check_url() {
  local py=.venv/bin/python
  [ -x "$py" ] || die ".venv is missing; run 'make setup'"
  "$py" - <<'PY' || exit 1
import os, sys
import psycopg
url = os.environ["DATABASE_URL"]
try:
    with psycopg.connect(url, connect_timeout=5, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        v = conn.execute("SELECT postgis_lib_version()").fetchone()[0]
except Exception as exc:
    sys.exit(f"db: error: DATABASE_URL does not work: {exc}".strip())
print(f"db: using DATABASE_URL (PostGIS {v})")
PY
}

init_cluster() {
  [ -x "$PG_BIN/initdb" ] || die "PostgreSQL 15 is not installed; run 'make setup'"
  [ ${#SOCKDIR} -lt 100 ] || die "socket path $SOCKDIR is too long for a Unix socket; move the checkout"
  say "initialising a private cluster in var/postgres (owner: $OWNER)"
  mkdir -p "$PGDATA" "$SOCKDIR" "$LOGDIR"
  if [ "$(id -u)" -eq 0 ]; then
    chown "$OWNER" "$PGDATA" "$SOCKDIR" "$LOGDIR"
    # Every parent folder must be traversable by the owner, or initdb/pg_ctl cannot reach them.
    as_owner test -x "$ROOT" || die "user '$OWNER' cannot enter $ROOT; grant o+x on it and its parents (chmod o+x ...)"
  fi
  chmod 700 "$PGDATA" "$SOCKDIR"
  local pw pwfile
  pw=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
  pwfile=$(mktemp)
  printf '%s\n' "$pw" > "$pwfile"
  chown "$OWNER" "$pwfile" 2>/dev/null || true
  # Socket: trust (the folder is 0700, only its owner and root reach it); TCP: password.
  as_owner "$PG_BIN/initdb" -D "$PGDATA" -U "$DB_USER" --pwfile="$pwfile" -E UTF8 \
    --locale=C.UTF-8 --auth-local=trust --auth-host=scram-sha-256 >"$LOGDIR/initdb.log" 2>&1 \
    || { rm -f "$pwfile"; die "initdb failed, see $LOGDIR/initdb.log"; }
  rm -f "$pwfile"
  cat >> "$PGDATA/postgresql.conf" <<CONF
# --- GeoGrid private cluster ---
listen_addresses = '127.0.0.1'
unix_socket_directories = '$SOCKDIR'
shared_buffers = 512MB
work_mem = 64MB
maintenance_work_mem = 512MB
synchronous_commit = off
max_connections = 100
CONF
  umask 077
  printf 'DATABASE_URL=postgres://%s:%s@127.0.0.1:%s/%s\n' "$DB_USER" "$pw" "$PORT" "$DB_NAME" > "$ENVFILE"
}

start_cluster() {
  if running; then
    say "cluster already running on 127.0.0.1:$PORT"
    return
  fi
  if port_taken "$PORT"; then
    die "port $PORT on 127.0.0.1 is taken by another program; set GEOGRID_DB_PORT to a free port"
  fi
  say "starting cluster on 127.0.0.1:$PORT"
  as_owner "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$LOGDIR/postgres.log" -w -t 60 \
    -o "-p $PORT -k $SOCKDIR" start >/dev/null \
    || die "PostgreSQL did not start; see $LOGDIR/postgres.log"
}

ensure_database() {
  if [ "$(psql_local -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")" != 1 ]; then
    say "creating database $DB_NAME"
    psql_local -d postgres -c "CREATE DATABASE $DB_NAME"
  fi
  psql_local -d "$DB_NAME" -c "CREATE EXTENSION IF NOT EXISTS postgis" 2>/dev/null
  # The port may have been overridden since initdb: keep the env file's URL in step.
  sed -i -E "s#@127\.0\.0\.1:[0-9]+/#@127.0.0.1:$PORT/#" "$ENVFILE"
  say "database $DB_NAME ready (PostGIS $(psql_local -d "$DB_NAME" -c 'SELECT postgis_lib_version()'))"
}

case "${1:-up}" in
  up)
    if [ -n "${DATABASE_URL:-}" ]; then check_url; exit 0; fi
    # Refuse a taken port before anything is written, so the error is immediate.
    if ! running && port_taken "$PORT"; then
      die "port $PORT on 127.0.0.1 is taken by another program; set GEOGRID_DB_PORT to a free port"
    fi
    [ -f "$PGDATA/PG_VERSION" ] || init_cluster
    start_cluster
    ensure_database
    ;;
  stop)
    if running; then as_owner "$PG_BIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null; say "stopped"
    else say "not running"; fi
    ;;
  status)
    if running; then say "running on 127.0.0.1:$PORT"; else say "not running"; fi
    ;;
  destroy)
    running && as_owner "$PG_BIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
    rm -rf "$PGDATA" "$SOCKDIR" "$ENVFILE"
    say "removed $PGDATA"
    ;;
  *) die "usage: db.sh [up|stop|status|destroy]" ;;
esac
