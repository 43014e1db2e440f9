#!/usr/bin/env bash
# Starts a throw-away PostgreSQL server on loopback for the tests and prints its URL.
# Installs PostgreSQL with apt when it is missing. Usage: scripts/postgres.sh start|stop
set -euo pipefail

PGPORT="${TSUMUGI_PGPORT:-54329}"
PGROOT="${TSUMUGI_PGROOT:-/tmp/tsumugi-pg}"

find_bin() {
  local b
  for b in "$(command -v "$1" 2>/dev/null || true)" /usr/lib/postgresql/*/bin/"$1"; do
    [ -x "$b" ] && { echo "$b"; return 0; }
  done
  return 1
}

ensure_installed() {
  if ! find_bin initdb >/dev/null || ! find_bin pg_ctl >/dev/null; then
    echo "postgres.sh: installing PostgreSQL with apt" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
  fi
}

as_pg_user() {
  # PostgreSQL refuses to run as root; use the postgres account (created by the package).
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir "$PGROOT" postgres
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

case "${1:-start}" in
  start)
    ensure_installed
    INITDB=$(find_bin initdb); PG_CTL=$(find_bin pg_ctl)
    if [ -f "$PGROOT/data/postmaster.pid" ] && as_pg_user "$PG_CTL" -D "$PGROOT/data" status >/dev/null 2>&1; then
      :
    else
      rm -rf "$PGROOT"; mkdir -p "$PGROOT"
      [ "$(id -u)" = 0 ] && { id postgres >/dev/null 2>&1 || useradd --system --home-dir "$PGROOT" postgres; chown postgres "$PGROOT"; }
      as_pg_user "$INITDB" -D "$PGROOT/data" -U tsumugi --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
      as_pg_user "$PG_CTL" -D "$PGROOT/data" -l "$PGROOT/log" -w \
        -o "-c listen_addresses=127.0.0.1 -p $PGPORT -k $PGROOT -c fsync=off -c max_connections=200" start >/dev/null
    fi
    echo "postgres://tsumugi@127.0.0.1:$PGPORT/postgres"
    ;;
  stop)
    PG_CTL=$(find_bin pg_ctl)
    as_pg_user "$PG_CTL" -D "$PGROOT/data" -m fast stop >/dev/null 2>&1 || true
    ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
