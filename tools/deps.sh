#!/bin/sh
# tools/deps.sh: installs the Debian packages tallyman builds and tests with,
# when any is missing. Run by the Makefile before the first build; safe to
# run again (does nothing when everything is present).
set -e
# libevent-dev carries libevent_openssl.pc (the webhook's https); the runtime library is named
# too, so a half-removed install is noticed. ca-certificates is the store https verifies with.
# faketime moves the clock for `make test-clock`; wrk loads the service for `make bench`;
# GNU time gives the benchmarks' CPU time and peak memory, linux-perf profiles them.
# libargon2-dev hashes people's passwords; oathtool is the TOTP reference the tests check against.
# postgresql gives `make test-pg` its throw-away cluster.
PKGS="gcc make pkg-config liblua5.4-dev lua5.4 libluajit-5.1-dev luajit libevent-dev libevent-openssl-2.1-7 libjansson-dev libsqlite3-dev sqlite3 libssl-dev libpq-dev postgresql tzdata ca-certificates faketime wrk time linux-perf libargon2-dev oathtool"
missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0
echo "tallyman: installing missing Debian packages:$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends $missing
