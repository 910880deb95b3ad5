# tests/e2e/serve_lib.sh: what the service's end-to-end tests share (it
# sources lib.sh): T (the binary), D (a scratch folder), DB (the store), ROOT
# (the tree); starting `tallyman serve` on a free loopback port, stopping it
# with SIGTERM, one request checked against docs/openapi.json.
. "$(dirname "$0")/lib.sh"
T="$TM_BIN"
D="$E2E_TMP"
DB="$D/s.db"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SPEC="$ROOT/docs/openapi.json"
CHECK="python3 $ROOT/tests/e2e/openapi_check.py"
SERVE_PID=""
trap '[ -n "$SERVE_PID" ] && kill -9 "$SERVE_PID" 2>/dev/null; rm -rf "$E2E_TMP"' EXIT

# start_serve LOG ARGS...: starts the service on a free loopback port; sets
# SERVE_PID and PORT. Returns 1 when it did not come up within 30 s.
start_serve() {
    log=$1
    shift
    env ${SERVE_ENV:-} "$T" --db "$DB" ${SERVE_GLOBAL:-} serve --workers 2 "$@" 2>"$log" &
    SERVE_PID=$!
    i=0
    while [ $i -lt 300 ]; do
        PORT=$(sed -n 's/^tallyman: serving .*(port \([0-9]*\),.*/\1/p' "$log" | head -n 1)
        [ -n "$PORT" ] && return 0
        kill -0 "$SERVE_PID" 2>/dev/null || break
        sleep 0.1
        i=$((i + 1))
    done
    echo "the service did not start:"
    cat "$log"
    return 1
}

# stop_serve NAME: SIGTERM; the service must end with exit 0 within 20 s.
stop_serve() {
    kill -TERM "$SERVE_PID" 2>/dev/null
    i=0
    while kill -0 "$SERVE_PID" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
    wait "$SERVE_PID"
    expect_eq "$1: SIGTERM ends the service with exit 0" 0 "$?"
    SERVE_PID=""
}

# call NAME METHOD ROUTE URLPATH WANT_STATUS [CURL ARGS...]: one request; the
# status must be WANT_STATUS and the response must fit the OpenAPI file.
# The body is left in $D/body, the headers in $D/headers.
call() {
    name=$1 method=$2 route=$3 path=$4 want=$5
    shift 5
    got=$(curl -s -S -o "$D/body" -D "$D/headers" -w '%{http_code}' -X "$method" "$@" \
        "${BASE:-http://127.0.0.1:$PORT}$path")
    expect_eq "$name: status" "$want" "$got"
    echo "$method $route $got" >>"$D/called"
    why=$($CHECK "$SPEC" "$method" "$route" "$got" "$D/body" 2>&1)
    expect_eq "$name: fits docs/openapi.json" "" "$why"
}
body_has() {
    case "$(cat "$D/body")" in *"$2"*) E2E_PASS=$((E2E_PASS + 1)) ;; *)
        E2E_FAIL=$((E2E_FAIL + 1)); echo "FAIL $1: body lacks '$2': $(head -c 300 "$D/body")" ;; esac
}
body_lacks() {
    case "$(cat "$D/body")" in *"$2"*)
        E2E_FAIL=$((E2E_FAIL + 1)); echo "FAIL $1: body holds '$2': $(head -c 300 "$D/body")" ;;
        *) E2E_PASS=$((E2E_PASS + 1)) ;; esac
}
J='Content-Type: application/json'

# The routes test_serve_routes.sh covers (a regular expression on the
# OpenAPI path); test_serve.sh covers the others.
SERVE_ROUTES_ELSEWHERE='^/v1/(payments|debts/[{]id[}]/|audit|queues|simulations)'

# spec_covered NAME INCLUDE EXCLUDE: every route of docs/openapi.json whose
# path matches the regular expression INCLUDE ('' : all) and not EXCLUDE
# ('' : none) was called (call above), with every status documented for it
# but 413 and 503, which are provoked apart, and 429 (test_rate_limit.sh,
# and the simulations' limit where its test provokes it).
spec_covered() {
    why=$(python3 - "$SPEC" "$D/called" "$2" "$3" <<'PY'
import json, re, sys
spec = json.load(open(sys.argv[1]))
called = set(tuple(l.split()) for l in open(sys.argv[2]))
inc, exc = sys.argv[3], sys.argv[4]
for path, ops in spec["paths"].items():
    if inc and not re.search(inc, path) or exc and re.search(exc, path):
        continue
    for method, op in ops.items():
        for status in op["responses"]:
            if status in ("413", "503", "429"):
                continue
            if status == "405":
                # Documented on the method a route takes, provoked with another.
                if not any(c[1] == path and c[2] == "405" for c in called):
                    print(f"{path} 405 never called")
            elif (method.upper(), path, status) not in called:
                print(f"{method.upper()} {path} {status} never called")
PY
)
    expect_eq "$1" "" "$why"
}
