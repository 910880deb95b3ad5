#!/bin/sh
# tests/e2e/test_users.sh: `tallyman users`: people and their roles from the
# one role table (a machine role is refused for a person), passwords read
# from standard input and checked (length, the name, the common list),
# hashed with Argon2id and never stored in clear; reset-password printing a
# one-time password; roles --set; disable; a TOTP enrollment URI; only an
# admin changes others, a person may set their own password; every change
# and refusal audited, and a refusal changes nothing.
. "$(dirname "$0")/lib.sh"
T="$TM_BIN"
D="$E2E_TMP"
DB="$D/u.db"
ME=$(id -un)
R="$E2E_REVIEWER"
as_reviewer true || { echo "FAIL the reviewer cannot be made (run as root)"; exit 1; }
audit_count() { "$T" --db "$DB" audit export 2>/dev/null | grep -c -- "\"action\":\"$1\""; }

expect_run "the first person adds themselves, made admin" 0 "$ME: given admin" "*" -- "$T" --db "$DB" users add "$ME" --role admin
expect_run "roles as one comma-separated list" 0 "$R: given compliance, auditor" "" -- "$T" --db "$DB" users add "$R" --role compliance,auditor
expect_run "a machine role is not a person's" 2 "" "'dialer' is a role for machines' tokens" -- "$T" --db "$DB" users add "$R" --role dialer
expect_run "an unknown role is a usage error" 2 "" "not a role" -- "$T" --db "$DB" users add "$R" --role boss

# Passwords: checked before anything is written.
expect_run "a short password is refused" 1 "" "at least 12 characters" -- sh -c "printf 'short\n' | '$T' --db '$DB' users reset-password '$R' --password-stdin"
expect_run "a common password is refused" 1 "" "common passwords" -- sh -c "printf 'Password1234\n' | '$T' --db '$DB' users reset-password '$R' --password-stdin"
expect_run "the name as password is refused" 1 "" "the person's name" -- sh -c "printf '%s\n' '$R' | '$T' --db '$DB' users reset-password '$R' --password-stdin"
expect_run "  ...nothing was set" 0 "0" "" -- sh -c "'$T' --db '$DB' users list | grep '^$R ' | grep -c password || true"
expect_run "an admin sets a password" 0 "$R: password set" "" -- sh -c "printf 'violet kettle on the moor\n' | '$T' --db '$DB' users reset-password '$R' --password-stdin"
expect_run "  ...listed as set" 0 "1" "" -- sh -c "'$T' --db '$DB' users list | grep '^$R ' | grep -c password"
expect_run "  ...kept as an Argon2id hash, never in clear" 0 "\$argon2id\$v=19\$m=19456,t=2,p=1" "" -- sqlite3 "$DB" "SELECT substr(password_hash, 1, 30) FROM users WHERE name = '$R'"
expect_run "  ...the text is nowhere in the store" 1 "" "" -- grep -q "violet kettle" "$DB"
expect_run "  ...audited without the password" 0 "1" "" -- sh -c "'$T' --db '$DB' audit export | grep '\"users.password_set\"' | grep -v kettle | grep -c '\"how\":\"stdin\"'"

# A reset without stdin prints a new random password, once.
"$T" --db "$DB" users reset-password "$R" >"$D/reset.out" 2>&1
expect_run "reset-password prints a one-time password" 0 "$R: a new password; it is shown only this once:" "" -- head -n 1 "$D/reset.out"
expect_run "  ...20 characters on its own line" 0 "1" "" -- sh -c "sed -n 2p '$D/reset.out' | grep -Ec '^[A-Za-z0-9]{20}\$'"

# Only an admin changes others; a person may set their own password.
expect_run "a non-admin may not add people" 1 "" "only an admin" -- "$AS_REVIEWER" "$T" --db "$DB" users add someone --role agent
expect_run "a non-admin may not reset another's password" 1 "" "only an admin" -- "$AS_REVIEWER" "$T" --db "$DB" users reset-password "$ME"
expect_run "a non-admin may not change roles" 1 "" "only an admin" -- "$AS_REVIEWER" "$T" --db "$DB" users roles "$R" --set admin
expect_run "  ...the refusals audited" 0 "3" "" -- sh -c "'$T' --db '$DB' audit export | grep -c '\"action\":\"users.refused\"'"
expect_run "  ...the roles unchanged" 0 "1" "" -- sh -c "'$T' --db '$DB' users list | grep '^$R ' | grep -v admin | grep -c 'compliance, auditor'"
expect_run "a person sets their own password" 0 "$R: password set" "" -- sh -c "printf 'amber lanterns drift slowly\n' | '$AS_REVIEWER' '$T' --db '$DB' users reset-password '$R' --password-stdin"

# roles --set gives and takes, each audited.
expect_run "roles --set gives and takes" 0 "$R: given strategy; no longer holds auditor" "" -- "$T" --db "$DB" users roles "$R" --set compliance,strategy
expect_run "  ...audited" 0 "1" "" -- sh -c "'$T' --db '$DB' audit export | grep '\"users.revoked\"' | grep -c auditor"

# TOTP: a URI once, the secret encrypted in the store.
"$T" --db "$DB" users totp-enroll "$R" >"$D/totp.out" 2>&1
expect_run "totp-enroll prints an otpauth URI" 0 "1" "" -- sh -c "grep -Ec '^otpauth://totp/tallyman:$R\\?secret=[A-Z2-7]{32}&issuer=tallyman\$' '$D/totp.out'"
SECRET=$(sed -n 's/.*secret=\([A-Z2-7]*\)&.*/\1/p' "$D/totp.out")
expect_run "  ...the secret is not in the store in clear" 1 "" "" -- grep -q "$SECRET" "$DB"
expect_run "  ...listed as enrolled" 0 "1" "" -- sh -c "'$T' --db '$DB' users list | grep '^$R ' | grep -c totp"

# disable: the person stops acting, in the lifecycle too.
expect_run "an admin may not disable themselves" 1 "" "may not disable themselves" -- "$T" --db "$DB" users disable "$ME"
expect_run "disable" 0 "$R: disabled; their sessions are ended" "" -- "$T" --db "$DB" users disable "$R"
expect_run "  ...listed as disabled" 0 "1" "" -- sh -c "'$T' --db '$DB' users list | grep '^$R ' | grep -c disabled"
expect_run "  ...nor set their own password" 1 "" "only an admin" -- sh -c "printf 'amber lanterns drift slowly\n' | '$AS_REVIEWER' '$T' --db '$DB' users reset-password '$R' --password-stdin"
expect_run "enable" 0 "$R: enabled" "" -- "$T" --db "$DB" users enable "$R"
expect_run "  ...every change audited" 0 "1 1 1" "" -- sh -c "echo \$(audit_count() { '$T' --db '$DB' audit export | grep -c \"\\\"action\\\":\\\"\$1\\\"\"; }; audit_count users.disabled; audit_count users.enabled; audit_count users.totp_enrolled)"
expect_run "no such person" 1 "" "no such person" -- "$T" --db "$DB" users disable nobody-here
expect_run "the audit chain holds" 0 "*" "" -- "$T" --db "$DB" audit verify
finish
