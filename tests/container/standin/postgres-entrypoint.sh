#!/bin/sh
# docker-entrypoint.sh of the postgres stand-in: the official image's documented contract
# (POSTGRES_DB, POSTGRES_USER, POSTGRES_PASSWORD[_FILE]; initdb into an empty PGDATA on the first
# start; local socket connections trusted, network ones need the password), on Debian's PostgreSQL.
set -eu
if [ "${1:-postgres}" != postgres ]; then exec "$@"; fi
: "${PGDATA:=/var/lib/postgresql/data}"
user=${POSTGRES_USER:-postgres}
db=${POSTGRES_DB:-$user}
if [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then password=$(cat "$POSTGRES_PASSWORD_FILE"); else password=${POSTGRES_PASSWORD:-}; fi
mkdir -p "$PGDATA" /var/run/postgresql
chown postgres:postgres "$PGDATA" /var/run/postgresql
chmod 700 "$PGDATA"
as_postgres() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  [ -n "$password" ] || { echo "postgres stand-in: POSTGRES_PASSWORD or POSTGRES_PASSWORD_FILE is required" >&2; exit 1; }
  pwfile=$(mktemp); chown postgres "$pwfile"; printf '%s' "$password" > "$pwfile"
  as_postgres initdb --pgdata="$PGDATA" --username="$user" --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  rm -f "$pwfile"
  echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
  echo "listen_addresses = '*'" >> "$PGDATA/postgresql.auto.conf"
  # A socket-only server for the set-up, as the official image does, then the real one below.
  as_postgres pg_ctl --pgdata="$PGDATA" --wait --silent -o "-c listen_addresses=''" start
  if [ "$db" != postgres ]; then as_postgres psql --username="$user" --dbname=postgres --quiet \
      --set=ON_ERROR_STOP=1 --command="CREATE DATABASE \"$db\""; fi
  as_postgres pg_ctl --pgdata="$PGDATA" --wait --silent --mode=fast stop
  echo "postgres stand-in: initialised $PGDATA (database $db, role $user)"
fi
exec setpriv --reuid=postgres --regid=postgres --init-groups postgres -D "$PGDATA"
