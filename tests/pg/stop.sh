#!/bin/sh
# tests/pg/stop.sh DIR [--keep]: stops the cluster tests/pg/start.sh made in
# DIR at once (as a crash would) and removes DIR, or with --keep leaves it
# for start.sh DIR to start again.
set -u
dir=${1:?usage: tests/pg/stop.sh DIR}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
as=""
[ "$(id -u)" = 0 ] && as="runuser -u postgres --"
if [ -f "$dir/data/postmaster.pid" ]; then
    $as "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1
fi
[ "${2:-}" = --keep ] || rm -rf "$dir"
