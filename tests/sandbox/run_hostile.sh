#!/bin/sh
# run_hostile.sh TALLYMAN_BIN [DIR]
#
# Runs every hostile script DIR/*.lua (default: the hostile/ directory next to
# this file) through `TALLYMAN_BIN eval [args] FILE` and checks the outcome
# declared in the script header:
#
#   -- hostile: one sentence on the attack
#   -- expect: ok | error <substring> | limit memory|instructions|time|any
#   -- output: <exact stdout; "\n" separates lines, "\\" is a backslash>
#   -- args: <extra eval options; $DIR stands for the script directory,
#             e.g. --scripts $DIR to `require` other corpus files>
#   -- lua: 5.4   (optional: relies on Lua 5.4 syntax or library semantics;
#                  printed as SKIP, and not counted, when `BIN --version`
#                  says LuaJIT)
#
# Headers are read from the first 20 lines (a binary-chunk script starts with
# an ESC line, so the header cannot always be on line 1).
#
# Checks for every script:
#   - not killed by a signal, not timed out (exit > 128 or 124 = hang or crash);
#   - the expected outcome (exit code, stdout, stderr text);
#   - stderr at most one line (exactly one on failure) and at most 64 KiB;
#   - `limit time` / `limit any`: wall time <= time limit + 3 s.
# Prints PASS/FAIL per script and ends with "N passed, N failed"; exit 1 if
# anything failed.
#
# Guards around each run: `timeout -k 5 30` (kill if TERM is ignored), an
# output file size cap of 1 GiB (ulimit -f), and a 4 GiB address-space cap
# (ulimit -v) so a broken memory limit cannot take the machine down. The
# address-space cap is skipped for AddressSanitizer binaries (which reserve
# terabytes of shadow memory) and when HOSTILE_VMEM_KB=0; HOSTILE_VMEM_KB
# sets another cap in KiB.

LC_ALL=C
export LC_ALL

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: run_hostile.sh TALLYMAN_BIN [DIR]" >&2
    exit 2
fi
BIN=$1
case $BIN in
    */*) ;;
    *) BIN=./$BIN ;;
esac
DIR=${2:-$(dirname "$0")/hostile}
if [ ! -x "$BIN" ]; then
    echo "run_hostile.sh: $BIN is not an executable file" >&2
    exit 2
fi
if [ ! -d "$DIR" ]; then
    echo "run_hostile.sh: $DIR is not a directory" >&2
    exit 2
fi

LUAJIT=""
if "$BIN" --version 2>/dev/null | grep -q LuaJIT; then
    LUAJIT=1
fi

VMEM_KB=${HOSTILE_VMEM_KB:-4194304}
if grep -q __asan_init "$BIN" 2>/dev/null; then
    VMEM_KB=0
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/hostile.XXXXXX") || exit 2
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM

# Milliseconds since the epoch (GNU date %N; falls back to whole seconds).
now_ms() {
    _t=$(date +%s%N 2>/dev/null)
    case $_t in
        *[!0-9]*|'') echo $(( $(date +%s) * 1000 )) ;;
        *) echo $(( _t / 1000000 )) ;;
    esac
}

# header FILE KEY: value of "-- KEY:" in the first 20 lines ("" if absent).
header() {
    sed -n "1,20s/^-- $2:[ 	]*//p" "$1" | head -n 1 | tr -d '\r'
}
has_header() {
    sed -n "1,20p" "$1" | grep -q "^-- $2:"
}

# Decode an "-- output:" value: "\n" -> newline, "\\" -> backslash, anything
# else verbatim. Writes the expected stdout (each line newline-terminated, or
# nothing at all for an empty value).
decode_output() {
    if [ -z "$1" ]; then
        : > "$2"
        return
    fi
    printf '%s\n' "$1" | awk '{
        s = $0; out = ""
        while ((i = index(s, "\\")) > 0) {
            out = out substr(s, 1, i - 1)
            c = substr(s, i + 1, 1)
            if (c == "n") out = out "\n"
            else if (c == "\\") out = out "\\"
            else out = out "\\" c
            s = substr(s, i + 2)
        }
        printf "%s\n", out s
    }' > "$2"
}

pass=0
fail=0
skip=0

for f in "$DIR"/*.lua; do
    [ -f "$f" ] || continue
    name=$(basename "$f" .lua)
    base=$(basename "$f")
    expect=$(header "$f" expect)
    args=$(header "$f" args)
    case $args in
        *'$DIR'*) args=$(printf '%s\n' "$args" | awk -v d="$DIR" '{ gsub(/\$DIR/, d); print }') ;;
    esac
    why=""

    if [ -z "$expect" ]; then
        echo "FAIL $name: no '-- expect:' header"
        fail=$((fail + 1))
        continue
    fi
    if [ -n "$LUAJIT" ] && [ "$(header "$f" lua)" = 5.4 ]; then
        echo "SKIP $name: needs Lua 5.4 (the binary is built on LuaJIT)"
        skip=$((skip + 1))
        continue
    fi

    start=$(now_ms)
    # The inner subshell runs the binary; the outer one only absorbs the
    # shell's own "Segmentation fault"-style report when it dies by a signal.
    # shellcheck disable=SC2086  # args are deliberately word-split
    (
        (
            ulimit -f 2097152 2>/dev/null
            if [ "$VMEM_KB" -gt 0 ]; then ulimit -v "$VMEM_KB" 2>/dev/null; fi
            exec timeout -k 5 30 "$BIN" eval $args "$f"
        ) > "$TMP/out" 2> "$TMP/err" < /dev/null
        exit $?
    ) 2> /dev/null
    rc=$?
    end=$(now_ms)
    elapsed=$((end - start))

    errsize=$(wc -c < "$TMP/err")
    errlines=$(wc -l < "$TMP/err")
    if [ "$errsize" -gt 0 ] && [ "$(tail -c 1 "$TMP/err" | wc -l)" -eq 0 ]; then
        errlines=$((errlines + 1))        # last line without a newline
    fi
    errline=$(head -n 1 "$TMP/err" | head -c 65536)
    errshow=$(printf '%s' "$errline" | head -c 200)

    # 1. hang or crash
    if [ $rc -eq 124 ]; then
        why="hang: still running after 30 s"
    elif [ $rc -eq 153 ]; then
        why="wrote more than 1 GiB to stdout/stderr (SIGXFSZ)"
    elif [ $rc -gt 128 ]; then
        why="crash: killed by signal $((rc - 128))"
    elif [ $rc -eq 125 ] || [ $rc -eq 126 ] || [ $rc -eq 127 ]; then
        why="could not run $BIN (timeout exit $rc)"
    fi

    # 2. stderr shape
    if [ -z "$why" ] && [ "$errlines" -gt 1 ]; then
        why="stderr has $errlines lines, expected at most one"
    fi
    if [ -z "$why" ] && [ "$errsize" -gt 65536 ]; then
        why="stderr is $errsize bytes (error message not truncated)"
    fi

    # 3. expected outcome
    if [ -z "$why" ]; then
        case $expect in
        ok)
            if [ $rc -ne 0 ]; then
                why="expected exit 0"
            elif has_header "$f" output; then
                decode_output "$(header "$f" output)" "$TMP/want"
                if ! cmp -s "$TMP/want" "$TMP/out"; then
                    got=$(head -c 200 "$TMP/out" | awk 'NR > 1 { printf "\\n" } { printf "%s", $0 }')
                    why="stdout differs: want '$(header "$f" output)', got '$got'"
                fi
            fi
            ;;
        error\ *)
            sub=${expect#error }
            if [ $rc -ne 1 ]; then
                why="expected exit 1"
            elif [ "$errsize" -eq 0 ]; then
                why="expected one line on stderr, got none"
            else
                case $errline in
                    *"$sub"*) ;;
                    *) why="stderr does not contain '$sub'" ;;
                esac
            fi
            ;;
        limit\ memory|limit\ instructions|limit\ time|limit\ any)
            kind=${expect#limit }
            if [ $rc -ne 1 ]; then
                why="expected exit 1"
            elif [ "$errsize" -eq 0 ]; then
                why="expected one line on stderr, got none"
            else
                case $kind in
                    memory) msgs="memory limit exceeded" ;;
                    instructions) msgs="instruction limit exceeded" ;;
                    time) msgs="time limit exceeded" ;;
                    any) msgs="memory instruction time" ;;
                esac
                matched=""
                if [ "$kind" = any ]; then
                    for m in memory instruction time; do
                        case $errline in *"$m limit exceeded") matched=1 ;; esac
                    done
                else
                    case $errline in *"$msgs") matched=1 ;; esac
                fi
                if [ -z "$matched" ]; then
                    if [ "$kind" = any ]; then
                        why="stderr does not end with a limit message"
                    else
                        why="stderr does not end with '$msgs'"
                    fi
                else
                    case $errline in
                        "$f":*|"$base":*|*/"$base":*) ;;
                        *) why="limit message does not start with the file name" ;;
                    esac
                fi
            fi
            if [ -z "$why" ] && { [ "$kind" = time ] || [ "$kind" = any ]; }; then
                tl=2000
                set -- $args
                while [ $# -gt 0 ]; do
                    case $1 in
                        --time-limit) [ $# -gt 1 ] && tl=$2; shift ;;
                        --time-limit=*) tl=${1#--time-limit=} ;;
                    esac
                    shift
                done
                case $tl in *[!0-9]*|'') tl=2000 ;; esac
                if [ "$elapsed" -gt $((tl + 3000)) ]; then
                    why="took ${elapsed} ms, time limit ${tl} ms + 3 s"
                fi
            fi
            ;;
        *)
            why="unknown expectation '$expect'"
            ;;
        esac
    fi

    if [ -z "$why" ]; then
        echo "PASS $name"
        pass=$((pass + 1))
    else
        echo "FAIL $name: $why (exit=$rc, stderr=$errshow)"
        fail=$((fail + 1))
    fi
done

if [ "$skip" -gt 0 ]; then
    echo "($skip skipped: Lua 5.4 only)"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
