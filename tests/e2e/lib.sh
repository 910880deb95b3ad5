# tests/e2e/lib.sh: helpers for end-to-end tests through the tallyman CLI.
# Source it, call `expect_run` for each case, then `finish`.
# Each case runs a command with a timeout and checks exit code, stdout and
# stderr; failures are printed with what was seen. `finish` prints
# "N passed, N failed".
: "${TM_BIN:?TM_BIN must name the tallyman binary}"
E2E_PASS=0
E2E_FAIL=0
E2E_TMP=$(mktemp -d "${TMPDIR:-/tmp}/tallyman-e2e.XXXXXX")
trap 'rm -rf "$E2E_TMP"' EXIT

# expect_run NAME EXIT STDOUT_EXACT STDERR_SUBSTRING -- COMMAND...
# Use '*' for STDOUT_EXACT or STDERR_SUBSTRING to skip that check; '' means empty.
expect_run() {
    name=$1 want_rc=$2 want_out=$3 want_err=$4
    shift 4
    [ "$1" = "--" ] && shift
    timeout 60 "$@" >"$E2E_TMP/out" 2>"$E2E_TMP/err"
    rc=$?
    out=$(cat "$E2E_TMP/out")
    err=$(cat "$E2E_TMP/err")
    why=""
    [ "$rc" = "$want_rc" ] || why="exit $rc, wanted $want_rc"
    if [ -z "$why" ] && [ "$want_out" != "*" ] && [ "$out" != "$want_out" ]; then
        why="stdout differs"
    fi
    if [ -z "$why" ] && [ "$want_err" != "*" ]; then
        if [ -z "$want_err" ]; then
            [ -z "$err" ] || why="stderr not empty"
        else
            case "$err" in *"$want_err"*) ;; *) why="stderr lacks '$want_err'" ;; esac
        fi
    fi
    if [ -z "$why" ]; then
        E2E_PASS=$((E2E_PASS + 1))
    else
        E2E_FAIL=$((E2E_FAIL + 1))
        echo "FAIL $name: $why"
        echo "  stdout: $(printf '%s' "$out" | head -c 400)"
        echo "  stderr: $(printf '%s' "$err" | head -c 400)"
    fi
}

# lines_of FILE: number of lines.
lines_of() { wc -l <"$1" | tr -d ' '; }

# start_stopped POINT LOG COMMAND...: runs COMMAND in the background with
# TM_STOP_AT=POINT (core/stopat.h), stdout and stderr to LOG, and waits up to
# 60 s until it has stopped itself there. Sets STOPPED_PID. Returns 0 when the
# process is stopped at the point, 1 when it ended or never got there (then it
# is killed). The caller SIGKILLs it or lets it go on with `kill -CONT`.
start_stopped() {
    point=$1 log=$2
    shift 2
    TM_STOP_AT=$point "$@" >"$log" 2>&1 &
    STOPPED_PID=$!
    i=0
    while [ $i -lt 600 ]; do
        st=$(awk '{print $3}' "/proc/$STOPPED_PID/stat" 2>/dev/null)
        # The process names the point without its "@N".
        if [ "$st" = "T" ] && grep -q "stopped at ${point%@*} (pid $STOPPED_PID)" "$log"; then
            return 0
        fi
        [ -z "$st" ] || [ "$st" = "Z" ] && break
        sleep 0.1
        i=$((i + 1))
    done
    kill -9 "$STOPPED_PID" 2>/dev/null
    wait "$STOPPED_PID" 2>/dev/null
    return 1
}

# expect_eq NAME WANT GOT: one case that passes when GOT is exactly WANT.
expect_eq() {
    if [ "$3" = "$2" ]; then
        E2E_PASS=$((E2E_PASS + 1))
    else
        E2E_FAIL=$((E2E_FAIL + 1))
        echo "FAIL $1: got '$3', wanted '$2'"
    fi
}

# kill_stopped NAME: SIGKILLs the process start_stopped left stopped ($STOPPED_PID) and
# checks that the kill is what ended it: `wait` gives 137 (128 + SIGKILL), not an exit of
# its own. A case that fails names NAME.
kill_stopped() {
    kill -9 "$STOPPED_PID" 2>/dev/null
    wait "$STOPPED_PID" 2>/dev/null
    expect_eq "$1: the process died by SIGKILL" 137 "$?"
}

# expect_stopped NAME POINT LOG COMMAND...: start_stopped, counting a run that never
# reaches POINT as a failed case. Returns 0 when the process is stopped there.
expect_stopped() {
    sk_name=$1
    shift
    if start_stopped "$@"; then
        return 0
    fi
    E2E_FAIL=$((E2E_FAIL + 1))
    echo "FAIL $sk_name: never stopped at $1"
    echo "  output: $(head -c 400 "$2")"
    return 1
}

finish() {
    echo "$E2E_PASS passed, $E2E_FAIL failed"
    [ "$E2E_FAIL" -eq 0 ]
}

# People. Who acts is the operating system user (tallyman takes it from
# getpwuid(geteuid()), never from an option), and a script set is approved
# by someone other than its proposer. The tests run as root (here and in CI)
# and make a second person, the reviewer, a system user without a home or a
# shell; the reviewer acts through setpriv with root's file access kept
# (CAP_DAC_OVERRIDE) so it reads the test's store and key file.
E2E_REVIEWER=tm-e2e-reviewer

# as_reviewer COMMAND...: runs COMMAND as the reviewer; "$AS_REVIEWER" is
# the same as a program, for expect_run.
AS_REVIEWER="$E2E_TMP/as-reviewer"
cat >"$AS_REVIEWER" <<SH
#!/bin/sh
id "$E2E_REVIEWER" >/dev/null 2>&1 ||
    useradd --system --no-create-home --shell /usr/sbin/nologin "$E2E_REVIEWER" >/dev/null 2>&1 ||
    id "$E2E_REVIEWER" >/dev/null 2>&1 || { echo "cannot make the user $E2E_REVIEWER (run as root)" >&2; exit 1; }
exec setpriv --reuid="$E2E_REVIEWER" --regid="$E2E_REVIEWER" --clear-groups \\
    --inh-caps=+dac_override --ambient-caps=+dac_override -- "\$@"
SH
chmod +x "$AS_REVIEWER"
as_reviewer() { "$AS_REVIEWER" "$@"; }

# people DB [OPTIONS...]: the store's people: the one running the tests, its
# admin (the first person of a store), and the reviewer with the roles that
# approve any change. OPTIONS (--key-file ...) go before the command.
people() {
    pdb=$1
    shift
    "$TM_BIN" --db "$pdb" "$@" users add "$(id -un)" --role admin >/dev/null 2>&1
    "$TM_BIN" --db "$pdb" "$@" users add "$E2E_REVIEWER" --role compliance --role strategy \
        --role engineer >/dev/null 2>&1
}

# activate_set DB TREE [OPTIONS...]: makes TREE the active script set of DB
# the way an operator does: proposed by the one running the tests, approved
# by the reviewer, activated. Prints the set's hash; returns 1 (saying why
# on stderr) when a step is refused.
activate_set() {
    adb=$1 atree=$2
    shift 2
    people "$adb" "$@"
    agen=$("$TM_BIN" --db "$adb" "$@" scripts propose "$atree" 2>"$E2E_TMP/propose.err" | head -n 1)
    [ -n "$agen" ] || { cat "$E2E_TMP/propose.err" >&2; return 1; }
    as_reviewer "$TM_BIN" --db "$adb" "$@" scripts approve "$agen" >/dev/null || return 1
    "$TM_BIN" --db "$adb" "$@" scripts activate "$agen" >/dev/null || return 1
    echo "$agen"
}

# PostgreSQL. pg_start (called in the test's own shell, not in $(...))
# sets PG_URL to the database TM_TEST_DB_URL names or, when it is unset, to
# a throw-away cluster it starts (tests/pg/start.sh) and the test's end
# stops; it returns 1 (saying why) when no server can be had. pg_fresh NAME
# then prints the URL of a new, empty store: a schema NAME_PID in it.
E2E_ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
pg_start() {
    if [ -n "${TM_TEST_DB_URL:-}" ]; then
        PG_URL=$TM_TEST_DB_URL
        return 0
    fi
    E2E_PG_DIR=$(mktemp -d -u /tmp/tm-pg.XXXXXX)
    trap 'sh "$E2E_ROOT/tests/pg/stop.sh" "$E2E_PG_DIR"; rm -rf "$E2E_TMP"' EXIT
    trap 'exit 1' INT TERM # the EXIT trap then stops the cluster
    PG_URL=$(sh "$E2E_ROOT/tests/pg/start.sh" "$E2E_PG_DIR")
}
pg_fresh() {
    psch="$1_$$" # the test's pid: a database shared by several runs gets new schemas
    psql -q "$PG_URL" -c "CREATE SCHEMA $psch" >/dev/null || return 1
    case "$PG_URL" in *\?*) sep='&' ;; *) sep='?' ;; esac
    echo "$PG_URL${sep}options=-c%20search_path%3D$psch"
}
