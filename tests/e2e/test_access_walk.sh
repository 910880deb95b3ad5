#!/bin/sh
# tests/e2e/test_access_walk.sh: every route of the service with a token of
# every role, checked against the one role table (app/access.c): a role the
# table does not allow gets 403 and one it allows gets past the credentials
# check (neither 401 nor 403). Each role is walked with a machine's token,
# and each person's role also as a person (a personal token of the reviewer,
# given that role alone): a route only a person may use refuses every
# machine's token. The routes and roles come from the binary itself (`serve
# --routes`), so a route added to the table is walked without changing this
# test; the service's own answers do the checking.
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
"$T" --db "$DB" users add "$E2E_REVIEWER" --role auditor >/dev/null 2>&1
chmod 0777 "$D"
as_reviewer "$T" --db "$DB" tokens create --user "$E2E_REVIEWER" --name walk-person | tail -n 1 \
    >"$D/tok.person"
expect_eq "the reviewer has a personal token" 1 "$(grep -c . "$D/tok.person")"
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
# walk AS TOKEN ROLE: every route with TOKEN, which holds ROLE; AS is
# "machine" or "person".
walk() {
    as=$1 tok=$2 role=$3
    while read -r kind method path perm allowed who; do
        [ "$kind" = route ] || continue
        url=$(printf '%s' "$path" | sed 's/{}/D1/g')
        if [ "$method" = GET ]; then
            got=$(curl -s -o "$D/body" -w '%{http_code}' \
                -H "Authorization: Bearer $tok" "http://127.0.0.1:$PORT$url")
        else
            got=$(curl -s -o "$D/body" -w '%{http_code}' -X "$method" \
                -H 'Content-Type: application/json' -H "Authorization: Bearer $tok" --data '{}' \
                "http://127.0.0.1:$PORT$url")
        fi
        if [ "$perm" = "-" ]; then
            want="not 403"
            [ "$got" != 403 ] && ok=1 || ok=0
        else
            case ",$allowed," in
            *",$role,"*)
                if [ "$who" = person ] && [ "$as" = machine ]; then
                    want=403; [ "$got" = 403 ] && ok=1 || ok=0
                else
                    want="not 401/403"; [ "$got" != 401 ] && [ "$got" != 403 ] && ok=1 || ok=0
                fi ;;
            *) want=403; [ "$got" = 403 ] && ok=1 || ok=0 ;;
            esac
        fi
        if [ "$ok" = 1 ]; then
            E2E_PASS=$((E2E_PASS + 1))
        else
            E2E_FAIL=$((E2E_FAIL + 1))
            echo "FAIL $method $path as $role ($as): got $got, wanted $want ($(head -c 200 "$D/body"))"
        fi
        walked=$((walked + 1))
    done <"$D/routes"
}
for role in $(sed -n 's/^role \([a-z_]*\) .*/\1/p' "$D/routes"); do
    walk machine "$(cat "$D/tok.$role")" "$role"
done
people_roles=$(sed -n 's/^role \([a-z_]*\) person$/\1/p' "$D/routes")
for role in $people_roles; do
    "$T" --db "$DB" users roles "$E2E_REVIEWER" --set "$role" >/dev/null 2>"$D/err" ||
        { echo "FAIL users roles --set $role: $(cat "$D/err")"; E2E_FAIL=$((E2E_FAIL + 1)); }
    walk person "$(cat "$D/tok.person")" "$role"
done
expect_eq "every route was walked with every role, and with each person's role as a person" \
    "$(($(grep -c '^route ' "$D/routes") * ($(grep -c '^role ' "$D/routes") + $(grep -c '^role .* person$' "$D/routes"))))" "$walked"
kill -TERM "$SERVE_PID"; wait "$SERVE_PID"; SERVE_PID=""
finish
