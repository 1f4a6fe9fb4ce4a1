#!/usr/bin/env bash
# A hot standby of the private cluster (geogrid/provision/db.sh), for read replicas (docs/replicas.md).
#   up       copy the primary with `pg_basebackup -R` (streaming, hot standby) when the data folder is
#            empty, start it, and write DATABASE_REPLICA_URL to the env file. Idempotent.
#   stop | start | status | destroy  (destroy also drops the primary's replication slot)
# Settings (environment), so that the tests start their own standby through this same script:
#   GEOGRID_VAR_DIR                 var/ of the primary (default: the checkout's var/)
#   GEOGRID_DB_PORT                 the primary's port (55432)
#   GEOGRID_REPLICA_PORT            the standby's port (55433)
#   GEOGRID_REPLICA_DIR             its data folder ($VAR/postgres-replica)
#   GEOGRID_REPLICA_SOCKDIR         its socket folder ($VAR/run, next to the primary's socket)
#   GEOGRID_REPLICA_LOG             its log file ($VAR/log/postgres-replica.log)
#   GEOGRID_REPLICA_SLOT            physical replication slot on the primary (geogrid_replica_<port>;
#                                   "" = none). The slot keeps the WAL the standby still needs: from
#                                   the start of the copy (without it a busy primary recycles the
#                                   segments the new standby asks for first: "requested WAL segment
#                                   … has already been removed") and while it is stopped. The price
#                                   is WAL piling up on the primary while the standby is away, capped
#                                   by max_slot_wal_keep_size (set to GEOGRID_REPLICA_MAX_SLOT_WAL,
#                                   16GB, when unset); `status` shows it, `destroy` drops the slot.
#   GEOGRID_REPLICA_ENV_FILE        where DATABASE_REPLICA_URL goes ($VAR/geogrid.env; "" = nowhere)
#   GEOGRID_REPLICA_SHARED_BUFFERS  shared_buffers of the standby (default: the primary's)
# Only the private cluster can be copied: with DATABASE_URL set by hand this exits with a message.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
VAR=${GEOGRID_VAR_DIR:-$ROOT/var}
PRIMARY_SOCK=$VAR/run
PRIMARY_PORT=${GEOGRID_DB_PORT:-55432}
PORT=${GEOGRID_REPLICA_PORT:-55433}
RDATA=${GEOGRID_REPLICA_DIR:-$VAR/postgres-replica}
SOCKDIR=${GEOGRID_REPLICA_SOCKDIR:-$VAR/run}
LOGFILE=${GEOGRID_REPLICA_LOG:-$VAR/log/postgres-replica.log}
SLOT=${GEOGRID_REPLICA_SLOT-geogrid_replica_$PORT}
ENVFILE=${GEOGRID_REPLICA_ENV_FILE-$VAR/geogrid.env}
PG_BIN=/usr/lib/postgresql/15/bin
DB_USER=geogrid

say() { echo "replica: $*"; }
die() { echo "replica: error: $*" >&2; exit 1; }

# Same ownership rule as db.sh: as root, the clusters belong to the "postgres" OS user.
if [ "$(id -u)" -eq 0 ]; then
  OWNER=postgres
  as_owner() { runuser -u "$OWNER" -- "$@"; }
else
  OWNER=$(id -un)
  as_owner() { "$@"; }
fi

primary_sql() {  # psql on the primary over its private socket, as the cluster superuser
  as_owner "$PG_BIN/psql" -h "$PRIMARY_SOCK" -p "$PRIMARY_PORT" -U "$DB_USER" -d postgres \
    -v ON_ERROR_STOP=1 -qAt -c "$1"
}
replica_sql() {
  as_owner "$PG_BIN/psql" -h "$SOCKDIR" -p "$PORT" -U "$DB_USER" -d postgres -v ON_ERROR_STOP=1 \
    -qAt -c "$1"
}
port_taken() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }
running() { [ -f "$RDATA/postmaster.pid" ] && as_owner "$PG_BIN/pg_ctl" -D "$RDATA" status >/dev/null 2>&1; }

check_primary() {
  [ -S "$PRIMARY_SOCK/.s.PGSQL.$PRIMARY_PORT" ] \
    || die "the private cluster is not running on port $PRIMARY_PORT (run 'make setup' first)"
  # Physical streaming needs wal_level replica (PostgreSQL's default) and a free WAL sender; the
  # private cluster's pg_hba (initdb's) lets the superuser replicate over the socket ("local
  # replication all trust"), which is how pg_basebackup and the standby connect.
  local level senders hba
  level=$(primary_sql "SHOW wal_level")
  [ "$level" != minimal ] || die "wal_level is minimal on the primary; set it to replica and restart"
  senders=$(primary_sql "SHOW max_wal_senders")
  [ "$senders" -gt 0 ] || die "max_wal_senders is 0 on the primary; raise it and restart"
  hba=$(primary_sql "SELECT count(*) FROM pg_hba_file_rules WHERE 'replication' = ANY(database)
                      AND type = 'local' AND error IS NULL")
  [ "$hba" -gt 0 ] || die "the primary's pg_hba.conf has no 'local replication' line for $DB_USER"
  # A slot whose standby is gone would keep WAL until the disk is full: cap what slots may hold
  # (a standby that falls further behind must be copied again: destroy, up).
  if [ "$(primary_sql "SHOW max_slot_wal_keep_size")" = -1 ]; then
    primary_sql "ALTER SYSTEM SET max_slot_wal_keep_size = '${GEOGRID_REPLICA_MAX_SLOT_WAL:-16GB}'" >/dev/null
    primary_sql "SELECT pg_reload_conf()" >/dev/null
    say "capped the WAL replication slots may keep on the primary (max_slot_wal_keep_size)"
  fi
}

ensure_slot() {
  [ -n "$SLOT" ] || return 0
  if [ "$(primary_sql "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '$SLOT'")" = 0 ]; then
    # Reserve WAL now (true): the copy below may take minutes while the primary keeps writing.
    primary_sql "SELECT pg_create_physical_replication_slot('$SLOT', true)" >/dev/null
    say "created replication slot $SLOT on the primary"
  fi
}

base_backup() {
  [ ${#SOCKDIR} -lt 100 ] || die "socket path $SOCKDIR is too long for a Unix socket"
  mkdir -p "$RDATA" "$SOCKDIR" "$(dirname "$LOGFILE")"
  if [ "$(id -u)" -eq 0 ]; then
    chown "$OWNER" "$RDATA" "$SOCKDIR" "$(dirname "$LOGFILE")"
    as_owner test -x "$(dirname "$RDATA")" || die "user '$OWNER' cannot enter $(dirname "$RDATA")"
  fi
  chmod 700 "$RDATA"
  # A physical copy is the whole cluster plus the WAL written meanwhile: refuse rather than fill
  # the disk (a shared development machine holds several engineers' databases).
  local need_kb free_kb
  need_kb=$(primary_sql "SELECT (sum(pg_database_size(datname)) * 1.25 / 1024)::bigint + 2097152
                         FROM pg_database")
  free_kb=$(df -Pk "$RDATA" | awk 'NR == 2 {print $4}')
  if [ "$free_kb" -lt "$need_kb" ]; then
    rmdir "$RDATA" 2>/dev/null || true
    die "not enough free disk for a copy of the cluster: needs $((need_kb / 1048576)) GiB, $((free_kb / 1048576)) GiB free on $(dirname "$RDATA")"
  fi
  ensure_slot
  say "copying the primary (port $PRIMARY_PORT) into $RDATA with pg_basebackup"
  # -R writes primary_conninfo (over the primary's socket) and standby.signal; -X stream copies the
  # WAL written during the copy, so the standby starts consistent.
  local slot_args=()
  [ -z "$SLOT" ] || slot_args=(-S "$SLOT")
  as_owner "$PG_BIN/pg_basebackup" -h "$PRIMARY_SOCK" -p "$PRIMARY_PORT" -U "$DB_USER" \
    -D "$RDATA" -R -X stream -c fast "${slot_args[@]}" \
    || { rm -rf "${RDATA:?}"/*; die "pg_basebackup failed"; }
  {
    echo "# --- GeoGrid hot standby (geogrid/provision/replica.sh) ---"
    echo "hot_standby = on"
    # Long reads (exports) on the standby are not cancelled by the primary's VACUUM.
    echo "hot_standby_feedback = on"
    [ -z "${GEOGRID_REPLICA_SHARED_BUFFERS:-}" ] || echo "shared_buffers = '$GEOGRID_REPLICA_SHARED_BUFFERS'"
  } | as_owner tee -a "$RDATA/postgresql.auto.conf" >/dev/null
}

start() {
  if running; then say "standby already running on 127.0.0.1:$PORT"; return; fi
  port_taken "$PORT" && die "port $PORT on 127.0.0.1 is taken; set GEOGRID_REPLICA_PORT to a free port"
  [ -f "$RDATA/standby.signal" ] || die "$RDATA is not a standby (no standby.signal); run 'destroy' then 'up'"
  as_owner touch "$LOGFILE" 2>/dev/null || true
  # A fresh copy of a busy cluster replays the WAL written during the copy before it accepts
  # connections: minutes, not seconds, on the shared development machine.
  as_owner "$PG_BIN/pg_ctl" -D "$RDATA" -l "$LOGFILE" -w -t "${GEOGRID_REPLICA_START_TIMEOUT:-600}" \
    -o "-p $PORT -k $SOCKDIR" start \
    >/dev/null || die "the standby did not start; see $LOGFILE"
  say "standby running on 127.0.0.1:$PORT (in recovery: $(replica_sql 'SELECT pg_is_in_recovery()'))"
}

write_env() {
  [ -n "$ENVFILE" ] || return 0
  [ -f "$ENVFILE" ] || die "$ENVFILE is missing (run db.sh up first)"
  # Same credentials as the primary (a physical copy has the same roles), the standby's port.
  local url
  url=$(sed -n -E 's#^DATABASE_URL=(.*@127\.0\.0\.1:)[0-9]+(/.*)$#\1'"$PORT"'\2#p' "$ENVFILE")
  [ -n "$url" ] || die "no private-cluster DATABASE_URL in $ENVFILE"
  sed -i '/^DATABASE_REPLICA_URL=/d' "$ENVFILE"
  printf 'DATABASE_REPLICA_URL=%s\n' "$url" >> "$ENVFILE"
}

case "${1:-up}" in
  up)
    if [ -n "${DATABASE_URL:-}" ]; then
      die "DATABASE_URL is set: copy your own server with its tools and set DATABASE_REPLICA_URL"
    fi
    # Refuse a taken port before copying anything, so the error is immediate.
    if ! running && port_taken "$PORT"; then
      die "port $PORT on 127.0.0.1 is taken; set GEOGRID_REPLICA_PORT to a free port"
    fi
    check_primary
    [ -f "$RDATA/PG_VERSION" ] || base_backup
    start
    write_env
    ;;
  start) start ;;
  stop)
    if running; then as_owner "$PG_BIN/pg_ctl" -D "$RDATA" -m fast -w stop >/dev/null; say "stopped"
    else say "not running"; fi
    ;;
  status)
    if running; then
      say "running on 127.0.0.1:$PORT; $(replica_sql "SELECT 'replay lag ' || coalesce(round(extract(epoch FROM now() - pg_last_xact_replay_timestamp()))::text || ' s', 'unknown')")"
    else say "not running"; fi
    if [ -n "$SLOT" ] && [ -S "$PRIMARY_SOCK/.s.PGSQL.$PRIMARY_PORT" ]; then
      held=$(primary_sql "SELECT pg_size_pretty(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn))
                           FROM pg_replication_slots WHERE slot_name = '$SLOT'")
      [ -z "$held" ] || say "slot $SLOT holds $held of WAL on the primary"
    fi
    ;;
  destroy)
    running && as_owner "$PG_BIN/pg_ctl" -D "$RDATA" -m fast -w stop >/dev/null
    rm -rf "$RDATA"
    if [ -n "$SLOT" ] && [ -S "$PRIMARY_SOCK/.s.PGSQL.$PRIMARY_PORT" ]; then
      primary_sql "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
                   WHERE slot_name = '$SLOT'" >/dev/null
    fi
    [ -z "$ENVFILE" ] || [ ! -f "$ENVFILE" ] || sed -i '/^DATABASE_REPLICA_URL=/d' "$ENVFILE"
    say "removed $RDATA"
    ;;
  *) die "usage: replica.sh [up|start|stop|status|destroy]" ;;
esac
