#!/bin/sh
# tests/e2e/test_access_walk.sh: every route of the service with a token of
# every role, checked against the one role table (app/access.c): a role the
# table does not allow gets 403 and one it allows gets past the credentials
# check (neither 401 nor 403). The routes and roles come from the binary
# itself (`serve --routes`), so a route added to the table is walked without
# changing this test; the service's own answers do the checking.
. "$(dirname "$0")/lib.sh"
T="$TM_BIN"
D="$E2E_TMP"
DB="$D/w.db"
SERVE_PID=""
trap '[ -n "$SERVE_PID" ] && kill -9 "$SERVE_PID" 2>/dev/null; rm -rf "$E2E_TMP"' EXIT

"$T" serve --routes >"$D/routes" || { echo "FAIL serve --routes"; exit 1; }
expect_eq "the table lists roles" 1 "$(grep -c '^role admin person$' "$D/routes")"
expect_eq "the table lists routes" 1 "$(grep -c '^route POST /v1/decide ' "$D/routes")"
"$T" --db "$DB" users add "$(id -un)" --role admin >/dev/null 2>&1
for role in $(sed -n 's/^role \([a-z_]*\) .*/\1/p' "$D/routes"); do
    "$T" --db "$DB" tokens create --role "$role" --name "walk-$role" | tail -n 1 >"$D/tok.$role"
done
"$T" --db "$DB" serve --workers 2 --listen 127.0.0.1:0 2>"$D/serve.log" &
SERVE_PID=$!
i=0
while [ $i -lt 300 ]; do
    PORT=$(sed -n 's/^tallyman: serving .*(port \([0-9]*\),.*/\1/p' "$D/serve.log" | head -n 1)
    [ -n "$PORT" ] && break
    sleep 0.1
    i=$((i + 1))
done
[ -n "$PORT" ] || { echo "FAIL the service did not start"; cat "$D/serve.log"; exit 1; }

walked=0
while read -r kind method path perm allowed; do
    [ "$kind" = route ] || continue
    url=$(printf '%s' "$path" | sed 's/{}/D1/g')
    for role in $(sed -n 's/^role \([a-z_]*\) .*/\1/p' "$D/routes"); do
        tok=$(cat "$D/tok.$role")
        got=$(curl -s -o "$D/body" -w '%{http_code}' -X "$method" -H 'Content-Type: application/json' \
            -H "Authorization: Bearer $tok" --data '{}' "http://127.0.0.1:$PORT$url")
        [ "$method" = GET ] && got=$(curl -s -o "$D/body" -w '%{http_code}' \
            -H "Authorization: Bearer $tok" "http://127.0.0.1:$PORT$url")
        if [ "$perm" = "-" ]; then
            want="not 403"
            [ "$got" != 403 ] && ok=1 || ok=0
        else
            case ",$allowed," in
            *",$role,"*) want="not 401/403"; [ "$got" != 401 ] && [ "$got" != 403 ] && ok=1 || ok=0 ;;
            *) want=403; [ "$got" = 403 ] && ok=1 || ok=0 ;;
            esac
        fi
        if [ "$ok" = 1 ]; then
            E2E_PASS=$((E2E_PASS + 1))
        else
            E2E_FAIL=$((E2E_FAIL + 1))
            echo "FAIL $method $path as $role: got $got, wanted $want ($(head -c 200 "$D/body"))"
        fi
        walked=$((walked + 1))
    done
done <"$D/routes"
expect_eq "every route was walked with every role" \
    "$(($(grep -c '^route ' "$D/routes") * $(grep -c '^role ' "$D/routes")))" "$walked"
kill -TERM "$SERVE_PID"; wait "$SERVE_PID"; SERVE_PID=""
finish
