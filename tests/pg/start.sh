#!/bin/sh
# tests/pg/start.sh DIR: makes a throw-away PostgreSQL cluster in DIR (a new
# folder), starts it on a Unix socket in DIR (no TCP port), creates
# the database "tallyman" and prints its URL. The user tallyman logs in with
# the password "tallyman" (so a wrong one can be tried). As root the server
# runs as the `postgres` user. tests/pg/stop.sh DIR stops it and removes DIR;
# given a DIR whose cluster `stop.sh DIR --keep` stopped, it starts it again.
set -eu
dir=${1:?usage: tests/pg/start.sh DIR}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    echo "start.sh: PostgreSQL is not installed (Debian package postgresql; tools/deps.sh installs it)" >&2
    exit 1
fi
as=""
if [ "$(id -u)" = 0 ]; then
    as="runuser -u postgres --"
fi
# A cluster made before (and stopped with stop.sh DIR --keep) is started again.
if [ -d "$dir/data" ]; then
    $as "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
        -o "-k $dir -c listen_addresses= -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=60" \
        start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    echo "postgresql://tallyman:tallyman@/tallyman?host=$dir"
    exit 0
fi
mkdir -p "$dir"
[ -z "$as" ] || chown postgres "$dir"
echo tallyman >"$dir/pw"
[ -z "$as" ] || chown postgres "$dir/pw"
$as "$bin/initdb" -D "$dir/data" -U tallyman --pwfile="$dir/pw" -A scram-sha-256 -E UTF8 \
    --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; exit 1; }
# Durability off: a test cluster is thrown away, and fsync only slows the tests.
$as "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
    -o "-k $dir -c listen_addresses= -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=60" \
    start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
PGPASSWORD=tallyman $as "$bin/createdb" -h "$dir" -U tallyman tallyman
echo "postgresql://tallyman:tallyman@/tallyman?host=$dir"
