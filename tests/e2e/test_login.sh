#!/bin/sh
# tests/e2e/test_login.sh: a person's login to `tallyman serve`: a password
# (Argon2id) then a TOTP code checked against oathtool, a session cookie
# (HttpOnly, SameSite=Strict, its id stored only as a hash), a CSRF token
# required for every change made with the cookie, logout; one answer for
# every failure; a replayed code refused; failures slowing down then
# locking the account, and the lock released by time; idle and absolute
# session expiry; a disabled person refused. The service's clock is given
# with TM_NOW and oathtool's with --now: nothing depends on today's date.
. "$(dirname "$0")/lib.sh"
T="$TM_BIN"
D="$E2E_TMP"
DB="$D/l.db"
ME=$(id -un)
SERVE_PID=""
trap '[ -n "$SERVE_PID" ] && kill -9 "$SERVE_PID" 2>/dev/null; rm -rf "$E2E_TMP"' EXIT
command -v oathtool >/dev/null || { echo "FAIL oathtool is not installed (tools/deps.sh)"; exit 1; }

# start_serve NOW: the service on a free loopback port with its clock at NOW.
start_serve() {
    TM_NOW="$1" "$T" --db "$DB" serve --workers 2 --listen 127.0.0.1:0 2>"$D/serve.log" &
    SERVE_PID=$!
    i=0
    while [ $i -lt 300 ]; do
        PORT=$(sed -n 's/^tallyman: serving .*(port \([0-9]*\),.*/\1/p' "$D/serve.log" | head -n 1)
        [ -n "$PORT" ] && return 0
        kill -0 "$SERVE_PID" 2>/dev/null || break
        sleep 0.1
        i=$((i + 1))
    done
    echo "the service did not start:"; cat "$D/serve.log"; return 1
}
stop_serve() {
    kill -TERM "$SERVE_PID" 2>/dev/null
    wait "$SERVE_PID"
    SERVE_PID=""
}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# req METHOD PATH [CURL ARGS...]: prints the status; body in $D/body, headers
# in $D/headers. Each reply is kept and listed in $D/replies, checked against
# docs/openapi.json at the end (in one go: the clock runs meanwhile).
mkdir -p "$D/r"
req() {
    m=$1 p=$2
    shift 2
    st=$(curl -s -S -o "$D/body" -D "$D/headers" -w '%{http_code}' -X "$m" "$@" "http://127.0.0.1:$PORT$p")
    n=$(($(cat "$D/replies" 2>/dev/null | wc -l) + 1))
    cp "$D/body" "$D/r/$n"
    echo "$m $(printf '%s' "$p" | sed 's|^/v1/debts/[^/]*|/v1/debts/{id}|') $st $D/r/$n" >>"$D/replies"
    echo "$st"
}
J='Content-Type: application/json'
login() { req POST /v1/login -H "$J" --data "$1"; }
code_at() { oathtool --totp -b "$SECRET" --now "$1"; }
audit_has() { "$T" --db "$DB" audit export 2>/dev/null | grep "\"action\":\"$1\"" | grep -c -- "$2"; }

cat >"$D/a.csv" <<'CSV'
external_id,debt_id,first_name,last_name,state,timezone,balance,currency,days_past_due
C1,D1,Zenobia,Quillfeather,MA,America/New_York,100.00,USD,10
CSV
"$T" --db "$DB" users add "$ME" --role admin >/dev/null 2>&1
"$T" --db "$DB" import accounts "$D/a.csv" >/dev/null 2>&1
"$T" --db "$DB" users add ann --role agent >/dev/null
printf 'violet kettle on the moor\n' | "$T" --db "$DB" users reset-password ann --password-stdin >/dev/null
SECRET=$("$T" --db "$DB" users totp-enroll ann | sed -n 's/.*secret=\([A-Z2-7]*\)&.*/\1/p')
expect_eq "the enrollment gave a secret" 1 "$(printf '%s' "$SECRET" | grep -c '^[A-Z2-7]\{32\}$')"
"$T" --db "$DB" users add bob --role auditor >/dev/null
printf 'seven silver herons wading\n' | "$T" --db "$DB" users reset-password bob --password-stdin >/dev/null

# The service's clock: 12:00:05 on a fixed day; each restart moves it on.
start_serve 2026-11-23T12:00:05Z || exit 1
PW='"user":"ann","password":"violet kettle on the moor"'

# --- one answer for every failure -------------------------------------------------------
expect_eq "a wrong password: 401" 401 "$(login '{"user":"ann","password":"not the password at all"}')"
cp "$D/body" "$D/wrong_pw"
expect_eq "an unknown person: 401" 401 "$(login '{"user":"nobody","password":"not the password at all"}')"
expect_eq "  ...the same answer as a wrong password" "$(cat "$D/wrong_pw")" "$(cat "$D/body")"
expect_eq "a code with no password first: 401" 401 "$(login "{\"user\":\"ann\",\"code\":\"$(code_at '2026-11-23 12:00:05 UTC')\"}")"
expect_eq "  ...the same answer" "$(cat "$D/wrong_pw")" "$(cat "$D/body")"
expect_eq "a person with no second factor: refused after the password" 403 "$(login '{"user":"bob","password":"seven silver herons wading"}')"
expect_eq "malformed: 400" 400 "$(login '{"user":"ann","password":5}')"
head -c 5000 /dev/zero | tr '\0' 'a' >"$D/big"
expect_eq "an oversize login body: 401" 401 "$(req POST /v1/login -H "$J" --data-binary @"$D/big")"
expect_eq "  ...the same answer" "$(cat "$D/wrong_pw")" "$(cat "$D/body")"
expect_eq "  ...audited" 1 "$(audit_has login.failed 'oversize body')"
expect_eq "the failures are audited with why" 1 "$(audit_has login.failed '"why":"password"')"
expect_eq "  ...an unknown person too" 1 "$(audit_has login.failed 'unknown person')"

# --- password, then code ------------------------------------------------------------------
expect_eq "the password alone: 401 naming what is needed" 401 "$(login "{$PW}")"
expect_eq "  ...a code" 1 "$(grep -c '"needs":\["code"\]' "$D/body")"
C1=$(code_at '2026-11-23 12:00:05 UTC')
expect_eq "then the code (oathtool's, at the same time): 200" 200 "$(login "{\"user\":\"ann\",\"code\":\"$C1\"}")"
COOKIE=$(sed -n 's/^Set-Cookie: tallyman_session=\([0-9a-f]*\);.*/\1/p' "$D/headers" | tr -d '\r')
CSRF=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["csrf_token"])' "$D/body")
expect_eq "  ...a 256-bit session id" 64 "${#COOKIE}"
expect_eq "  ...HttpOnly, SameSite=Strict, not Secure on plain HTTP" 1 "$(grep -c '^Set-Cookie: tallyman_session=.*; HttpOnly; SameSite=Strict.$' "$D/headers")"
expect_eq "  ...the roles" 1 "$(grep -c '"roles":\["agent"\]' "$D/body")"
expect_eq "  ...the id is stored only as its hash" 0 "$(sqlite3 "$DB" "SELECT count(*) FROM sessions WHERE hash = '$COOKIE'")"
expect_eq "  ...the login audited" 1 "$(audit_has login.succeeded 'session')"
expect_eq "the same code again: refused" 401 "$(login "{$PW,\"code\":\"$C1\"}")"
expect_eq "  ...the same answer as a wrong password" "$(cat "$D/wrong_pw")" "$(cat "$D/body")"
expect_eq "  ...audited as a replay" 1 "$(audit_has login.failed 'replayed code')"

# --- the session and CSRF -------------------------------------------------------------------
EV='[{"key":"e1","type":"payment","debt_id":"D1","at":"2026-11-20T10:00:00Z","amount":"34.56"}]'
N0=$(sqlite3 "$DB" "SELECT count(*) FROM events")
expect_eq "a read with the cookie" 200 "$(req GET /v1/debts/D1 -H "Cookie: tallyman_session=$COOKIE")"
expect_eq "a change with the cookie and no CSRF token: 403" 403 "$(req POST /v1/events -H "$J" -H "Cookie: tallyman_session=$COOKIE" --data "$EV")"
expect_eq "  ...nothing changed" "$N0" "$(sqlite3 "$DB" "SELECT count(*) FROM events")"
expect_eq "a change with a wrong CSRF token: 403" 403 "$(req POST /v1/events -H "$J" -H "Cookie: tallyman_session=$COOKIE" -H "X-CSRF-Token: $COOKIE" --data "$EV")"
expect_eq "  ...nothing changed" "$N0" "$(sqlite3 "$DB" "SELECT count(*) FROM events")"
expect_eq "  ...both audited" 2 "$(audit_has access.refused 'CSRF token')"
expect_eq "a change with the CSRF token" 200 "$(req POST /v1/events -H "$J" -H "Cookie: tallyman_session=$COOKIE" -H "X-CSRF-Token: $CSRF" --data "$EV")"
expect_eq "  ...applied, by the person" 1 "$(grep -c '"status":"applied"' "$D/body")"
expect_eq "a route the role may not use: 403" 403 "$(req POST /v1/decide -H "$J" -H "Cookie: tallyman_session=$COOKIE" -H "X-CSRF-Token: $CSRF" --data '{}')"
expect_eq "a forged cookie: 401" 401 "$(req GET /v1/debts/D1 -H "Cookie: tallyman_session=$(printf '%064d' 7)")"
expect_eq "logout without the CSRF token: 403" 403 "$(req POST /v1/logout -H "Cookie: tallyman_session=$COOKIE")"
expect_eq "logout" 200 "$(req POST /v1/logout -H "Cookie: tallyman_session=$COOKIE" -H "X-CSRF-Token: $CSRF")"
expect_eq "  ...audited" 1 "$(audit_has logout 'user:ann')"
expect_eq "the cookie after logout: 401" 401 "$(req GET /v1/debts/D1 -H "Cookie: tallyman_session=$COOKIE")"

# --- slowing down, then the lock ---------------------------------------------------------------
BAD='{"user":"ann","password":"not the password at all"}'
# The replayed code above was the first failure since the login.
login "$BAD" >/dev/null
expect_eq "a third failure" 401 "$(login "$BAD")"
expect_eq "the next attempt at once: 429" 429 "$(login "$BAD")"
expect_eq "  ...with Retry-After (up to 5 s)" 1 "$(grep -c '^Retry-After: [1-5]' "$D/headers")"
stop_serve
start_serve 2026-11-23T12:01:30Z || exit 1
expect_eq "a fourth failure after the wait" 401 "$(login "$BAD")"
login "$BAD" >/dev/null
expect_eq "  ...the wait grows (up to 10 s)" 1 "$(grep -Ec '^Retry-After: ([6-9]|10)' "$D/headers")"
stop_serve
start_serve 2026-11-23T12:02:30Z || exit 1
expect_eq "the fifth failure" 401 "$(login "$BAD")"
expect_eq "  ...locks the account" 1 "$(audit_has login.locked 'until')"
C2=$(code_at '2026-11-23 12:02:30 UTC')
expect_eq "locked: the right password and code get 429" 429 "$(login "{$PW,\"code\":\"$C2\"}")"
stop_serve

# Twenty minutes on, the lock has run out.
start_serve 2026-11-23T12:20:05Z || exit 1
C3=$(code_at '2026-11-23 12:20:05 UTC')
expect_eq "after the lock: the right password and code" 200 "$(login "{$PW,\"code\":\"$C3\"}")"
expect_eq "  ...the release audited" 1 "$(audit_has login.released 'locked_until')"
COOKIE=$(sed -n 's/^Set-Cookie: tallyman_session=\([0-9a-f]*\);.*/\1/p' "$D/headers" | tr -d '\r')
expect_eq "  ...the session works" 200 "$(req GET /v1/debts/D1 -H "Cookie: tallyman_session=$COOKIE")"
stop_serve

# 31 minutes idle: the session is over.
start_serve 2026-11-23T12:51:30Z || exit 1
expect_eq "an idle session: 401" 401 "$(req GET /v1/debts/D1 -H "Cookie: tallyman_session=$COOKIE")"
C4=$(code_at '2026-11-23 12:51:30 UTC')
login "{$PW,\"code\":\"$C4\"}" >/dev/null
COOKIE=$(sed -n 's/^Set-Cookie: tallyman_session=\([0-9a-f]*\);.*/\1/p' "$D/headers" | tr -d '\r')
expect_eq "a new one works" 200 "$(req GET /v1/debts/D1 -H "Cookie: tallyman_session=$COOKIE")"
"$T" --db "$DB" users disable ann >/dev/null
expect_eq "disabling the person ends it at once" 401 "$(req GET /v1/debts/D1 -H "Cookie: tallyman_session=$COOKIE")"
C5=$(code_at '2026-11-23 12:52:00 UTC')
expect_eq "a disabled person cannot log in" 401 "$(login "{$PW,\"code\":\"$C5\"}")"
expect_eq "  ...the same answer as a wrong password" "$(cat "$D/wrong_pw")" "$(cat "$D/body")"
"$T" --db "$DB" users enable ann >/dev/null
expect_eq "enabled again, a login" 200 "$(login "{$PW,\"code\":\"$C5\"}")"
COOKIE=$(sed -n 's/^Set-Cookie: tallyman_session=\([0-9a-f]*\);.*/\1/p' "$D/headers" | tr -d '\r')
stop_serve

# Thirteen hours on, past the absolute end even if used all along.
start_serve 2026-11-24T01:00:00Z || exit 1
expect_eq "past the absolute end: 401" 401 "$(req GET /v1/debts/D1 -H "Cookie: tallyman_session=$COOKIE")"
expect_eq "  ...audited" 1 "$(audit_has access.refused 'expired session')"
stop_serve
"$T" --db "$DB" audit export --actor ann >"$D/ann.jsonl"
expect_eq "audit export --actor: what ann did and was refused" 1 "$(grep -c '"action":"logout"' "$D/ann.jsonl")"
expect_eq "  ...her logins" 4 "$(grep -c '"action":"login.succeeded"' "$D/ann.jsonl")"
expect_eq "  ...and nobody else's records" 0 "$(grep -vc '"actor":"ann"' "$D/ann.jsonl")"
expect_run "the audit chain holds" 0 "*" "" -- "$T" --db "$DB" audit verify
expect_eq "every reply fits docs/openapi.json" "" \
    "$(python3 "$ROOT/tests/e2e/openapi_check.py" "$ROOT/docs/openapi.json" --batch "$D/replies")"
finish
