#!/bin/bash
# run.sh - milter-protocol tests: starts smtpwardend and smtpwarden-milter
# (tests/mta/lib.sh), runs each miltertest script in this directory and
# quit_nc.py against the milter, and after each one checks in the
# database what a user would check: the sessions, transactions, headers
# and decisions the dialogue should have left.
#
# These cover what no MTA makes easy to provoke: an abort with nothing
# open, QUIT_NC carrying several sessions on one milter connection,
# 65,535-byte body chunks with a CRLF across two, header values with and
# without SMFIP_HDR_LEADSPC, macros an MTA does not send, an MTA offering
# fewer actions than the milter asks for, and Sendmail's spellings of
# macro values.
#
# Run as root from a built tree: tests/miltertest/run.sh
# Ends with "N passed, N failed"; exit status 0 only if nothing failed.
set -u

here=$(cd "$(dirname "$0")" && pwd)
. "$here/../mta/lib.sh"

sw_test_begin miltertest
command -v miltertest >/dev/null 2>&1 ||
    { echo "miltertest not found (Debian package miltertest)" >&2; exit 1; }

# The rules fewer-actions.lua needs: a header to add, a quarantine.
cat >"$WORK/smtpwarden.rules" <<'RULES'
# Rules of the miltertest tests.
mode = enforce
rule tag-it   eom  sender.domain == "tagged.example"
              -> add-header X-Warden "tagged"
rule hold-it  eom  sender.domain == "held.example"
              -> quarantine "held by rule"
RULES
SW_RULES=$WORK/smtpwarden.rules sw_setup "$WORK" || exit 1
sw_start_daemon || exit 1
sw_start_milter || exit 1

# mt NAME - run NAME.lua; pass if it said "ok:" and exited 0
mt() {
    local out rc
    out=$(timeout 60 miltertest -s "$here/$1.lua" -D SOCKET="$SW_MILTER_CONN" \
        2>&1)
    rc=$?
    if [ "$rc" -eq 0 ] && grep -q "^ok: $1 " <<< "$out"; then
        pass "$1: miltertest dialogue ran"
    else
        fail "$1: miltertest exit $rc: ${out:-no output}"
    fi
}

# sessions_by_helo NAME [COUNT] - ids of the COUNT (default 1) closed
# sessions with HELO NAME, oldest first, once all are stored
sessions_by_helo() {
    local i ids n
    for ((i = 0; i < 100; i++)); do
        ids=$(q "SELECT session_id FROM sessions WHERE helo = '$1'
                 AND ended_us IS NOT NULL ORDER BY started_us")
        n=$(grep -c . <<< "$ids")
        if [ -n "$ids" ] && [ "$n" -ge "${2:-1}" ]; then
            echo "$ids"
            return 0
        fi
        sleep 0.1
    done
    echo "no closed session with HELO $1 within 10 s" >&2
    return 1
}

# stages SID - the stage sequence of a session
stages() {
    q "SELECT group_concat(stage, ' ') FROM (SELECT stage FROM events
       WHERE session_id = '$1' ORDER BY seq)"
}

# hexheaders SID - NAME=HEX of every header of the session, in order
hexheaders() {
    q "SELECT group_concat(name_text || '=' || hex(value), ' ') FROM
       (SELECT * FROM headers WHERE session_id = '$1' ORDER BY position)"
}

echo "# an abort with no transaction is a no-op"
mt abort-no-txn
sid=$(sessions_by_helo mt-abort.example)
check_eq "abort-no-txn: no abort event, no phantom transaction" \
    "$(stages "$sid")" "connect helo mail rcpt data header eoh body eom close"
check_eq "abort-no-txn: one transaction, completed, with its recipient" \
    "$(q "SELECT txn_no || ':' || state || ':' || n_recipients FROM
          transactions WHERE session_id = '$sid'")" "1:completed:1"
check_eq "abort-no-txn: session counts and close" \
    "$(q "SELECT n_transactions, n_messages, close_reason FROM sessions
          WHERE session_id = '$sid'")" "1|1|closed after eom"

echo "# 65,535-byte body chunks, a CRLF split across two"
mt body-chunks
sid=$(sessions_by_helo mt-chunks.example)
want=$(python3 -c '
import hashlib
body = (b"a" * 65534 + b"\r") + (b"\n" + b"b" * 65532 + b"\r\n") + b"end\r\n"
print(len(body), hashlib.sha256(body).hexdigest())')
check_eq "body-chunks: size and SHA-256 of the bytes as sent" \
    "$(q "SELECT body_size || ' ' || body_sha256 FROM transactions
          WHERE session_id = '$sid'")" "$want"
check_eq "body-chunks: three chunks counted" \
    "$(q "SELECT body_chunks FROM transactions WHERE session_id = '$sid'")" "3"

echo "# header values with and without SMFIP_HDR_LEADSPC"
mt headers
with=$(sessions_by_helo mt-hdr-leadspc.example)
without=$(sessions_by_helo mt-hdr-noleadspc.example)
check_eq "headers: with LEADSPC, values as the MTA sent them" \
    "$(hexheaders "$with")" "Subject=206869 X-Empty=20 X-Spaced=202074776F"
check_eq "headers: without, the stripped space put back; empty stays empty" \
    "$(hexheaders "$without")" "Subject=206869 X-Empty= X-Spaced=202074776F"
check_eq "headers: lengths match the stored bytes" \
    "$(q "SELECT count(*) FROM headers WHERE session_id IN ('$with',
          '$without') AND value_len != length(value)")" "0"

echo "# macros the MTA does not send: NULL, and named as missing"
mt missing-macros
sid=$(sessions_by_helo mt-missing.example)
check_eq "missing-macros: no client address, family unknown" \
    "$(q "SELECT client_host, client_family, quote(client_addr),
          quote(client_port), quote(client_name) FROM sessions
          WHERE session_id = '$sid'")" "localhost|unknown|NULL|NULL|NULL"
check_eq "missing-macros: connect_missing names what was not sent" \
    "$(q "SELECT connect_missing FROM sessions WHERE session_id = '$sid'")" \
    "{client_addr} {client_name} {client_ptr} {daemon_name} {daemon_addr} v"
check_eq "missing-macros: what was sent is stored" \
    "$(q "SELECT mta_name, quote(mta_version) FROM sessions
          WHERE session_id = '$sid'")" "mt.test.example|NULL"
check_eq "missing-macros: each later stage names its missing macros" \
    "$(q "SELECT group_concat(stage || ':' || missing_macros, ' / ') FROM
          (SELECT * FROM events WHERE session_id = '$sid'
           AND stage != 'connect' AND missing_macros IS NOT NULL
           ORDER BY seq)")" \
    "rcpt:{rcpt_host} {rcpt_addr} / data:i / eoh:i / eom:i"
check_eq "missing-macros: recipient macros NULL, not empty" \
    "$(q "SELECT rcpt_mailer, quote(rcpt_host), quote(rcpt_addr) FROM
          recipients WHERE session_id = '$sid'")" "esmtp|NULL|NULL"
check_eq "missing-macros: no queue id invented, no (null) text" \
    "$(q "SELECT quote(queue_id), (SELECT count(*) FROM events WHERE
          session_id = '$sid' AND text LIKE '%(null)%') FROM transactions
          WHERE session_id = '$sid'")" "NULL|0"

echo "# an MTA offering fewer actions than the milter asks for"
mt fewer-actions
all=$(sessions_by_helo mt-actions-all.example)
none=$(sessions_by_helo mt-actions-none.example)
hdrs=$(sessions_by_helo mt-actions-hdrs.example)
check_eq "fewer-actions: every message still recorded whole" \
    "$(for s in "$all" "$none" "$hdrs"; do stages "$s"; done | sort -u)" \
    "connect helo mail rcpt data header eoh body eom close"
check_eq "fewer-actions: the rules still decided, as with all actions" \
    "$(for s in "$all" "$none" "$hdrs"; do
         q "SELECT rule || ' ' || action || ' ' || mode FROM decisions
            WHERE session_id = '$s'"; done)" \
    "tag-it add-header enforced
tag-it add-header enforced
hold-it quarantine enforced"
check_match "fewer-actions: the skipped header is logged" \
    "$(grep -c 'change-skipped rule=tag-it (adding headers was not negotiated)' \
       "$SW_DIR/log/milter.log")" '^1$'
check_match "fewer-actions: the skipped quarantine is logged" \
    "$(grep -c 'change-skipped rule=hold-it (quarantine was not negotiated)' \
       "$SW_DIR/log/milter.log")" '^1$'
check_match "fewer-actions: the narrow negotiation is logged" \
    "$(grep -c 'negotiate actions=0x2 (the MTA does not allow' \
       "$SW_DIR/log/milter.log")" '^[1-9]'

echo "# Sendmail's spellings of macro values, and Postfix's"
mt decode
sm=$(sessions_by_helo '[IPv6:::1]')
pf=$(sessions_by_helo mt-decode-postfix.example)
check_eq "decode: Sendmail's IPv6 addresses stored plain and short" \
    "$(q "SELECT client_addr, client_family, daemon_addr, mta_version
          FROM sessions WHERE session_id = '$sm'")" "::1|inet6|::1|8.17.1.9"
check_eq "decode: Sendmail's xtext certificate names decoded" \
    "$(q "SELECT cert_subject || ' / ' || cert_issuer || ' / ' || verify
          FROM tls_results WHERE session_id = '$sm'")" \
    "/O=Example Org/CN=Mt Client+1 / /CN=Mt CA / OK"
check_eq "decode: a Postfix name's \"+20\" is literal and kept" \
    "$(q "SELECT cert_subject || ' / ' || cert_issuer FROM tls_results
          WHERE session_id = '$pf'")" "Mt+20Client / /CN=Mt+20CA"
check_eq "decode: the author without angle brackets, parameter as sent" \
    "$(q "SELECT a.author, t.auth_author, p.value_text FROM auth_results a
          JOIN transactions t ON t.session_id = a.session_id
          JOIN esmtp_params p ON p.session_id = a.session_id
          AND p.keyword = 'AUTH' WHERE a.session_id IN ('$sm', '$pf')")" \
    "alice@example.com|alice@example.com|<alice@example.com>
alice@example.com|alice@example.com|<alice@example.com>"
check_eq "decode: the queue id Sendmail gives at MAIL" \
    "$(q "SELECT queue_id FROM transactions WHERE session_id = '$sm'")" \
    "MTQUEUEID1"

echo "# QUIT_NC: three SMTP sessions on one milter connection"
out=$(timeout 60 python3 "$here/quit_nc.py" "$SW_MILTER_SOCK" 2>&1)
rc=$?
if [ "$rc" -eq 0 ] && grep -q '^ok: quit_nc ' <<< "$out"; then
    pass "quit_nc: milter-protocol dialogue ran"
else
    fail "quit_nc: exit $rc: ${out:-no output}"
fi
s1=$(sessions_by_helo qnc-one.example)
s2=$(sessions_by_helo qnc-two.example)
s3=$(sessions_by_helo qnc-three.example)
check_eq "quit_nc: three sessions, none merged into another" \
    "$(q "SELECT count(DISTINCT session_id) FROM sessions
          WHERE session_id IN ('$s1', '$s2', '$s3')")" "3"
check_eq "quit_nc: each with its own client, counts and close" \
    "$(for s in "$s1" "$s2" "$s3"; do
         q "SELECT client_addr, client_port, helo_count, n_transactions,
            n_messages, n_unknown, close_reason FROM sessions
            WHERE session_id = '$s'"; done)" \
    "192.0.2.21|40001|1|1|1|0|closed after eom
192.0.2.22|40002|1|2|2|1|closed after unknown
192.0.2.23|40003|1|1|1|0|closed after eom"
check_eq "quit_nc: every session's transcript starts at connect, seq 1" \
    "$(q "SELECT group_concat(stage, ' ') FROM events WHERE seq = 1
          AND session_id IN ('$s1', '$s2', '$s3')")" "connect connect connect"
check_eq "quit_nc: recipients stay with their session and message" \
    "$(for s in "$s1" "$s2" "$s3"; do
         q "SELECT group_concat(txn_no || ':' || recipient, ' ') FROM
            (SELECT * FROM recipients WHERE session_id = '$s'
             ORDER BY txn_no)"; done)" \
    "1:r1.1@example.org
1:r2.1@example.org 2:r2.2@example.org
1:r3.1@example.org"
check_eq "quit_nc: the negotiation (no LEADSPC) still applies after QUIT_NC" \
    "$(q "SELECT hex(value) FROM headers WHERE session_id = '$s3'")" \
    "$(printf ' session 3 message 1' | od -An -tx1 | tr -d ' \n' |
       tr 'a-f' 'A-F')"
kill -0 "$SW_MILTER_PID" 2>/dev/null && pass "quit_nc: the milter still runs" ||
    fail "quit_nc: the milter died"

sw_summary
