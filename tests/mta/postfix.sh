#!/bin/bash
# postfix.sh - integration tests through a real, private Postfix: each
# scenario speaks SMTP to Postfix on 127.0.0.1, Postfix calls
# smtpwarden-milter, the milter ships the transcript to smtpwardend, and
# the assertions read the SQLite file as an auditor would.
#
# Run as root from a built tree: tests/mta/postfix.sh
# Ends with "N passed, N failed"; exit status 0 only if nothing failed.
set -u

here=$(cd "$(dirname "$0")" && pwd)
. "$here/harness.sh"
. "$here/lib.sh"
. "$here/scenarios.sh"

sw_test_begin pf

sw_setup "$WORK" || exit 1
sw_start_daemon || exit 1
sw_start_milter || exit 1
H_MILTER=$SW_MILTER_CONN
h_setup "$WORK/pf" || exit 1
h_start || exit 1

# session_port - the "port N" line smtpdialog.py prints first
session_port() { sed -n 's/^port //p' | head -1; }

# stages SID [TXN] - the stage sequence of a session (or transaction)
stages() {
    if [ $# -gt 1 ]; then
        q "SELECT group_concat(stage, ' ') FROM (SELECT stage FROM events
           WHERE session_id = '$1' AND txn_no = $2 ORDER BY seq)"
    else
        q "SELECT group_concat(stage, ' ') FROM (SELECT stage FROM events
           WHERE session_id = '$1' ORDER BY seq)"
    fi
}

# squash - collapse repeated words ("header header header" -> "header+")
squash() { sed -E 's/(header )(header )+/header+ /g; s/(header)( header)+$/header+/'; }

sha256_of() { printf '%b' "$1" | sha256sum | cut -d' ' -f1; }

echo "# 1. a plain message: every stage in order, body digest"
out=$(dialog <<'S'
send EHLO plain.example
send MAIL FROM:<alice@example.com>
send RCPT TO:<bob@example.org>
send DATA
expect 354
raw Subject: plain\r\nFrom: alice@example.com\r\n\r\nline one\r\n..dot line\r\nlast\r\n.\r\n
reply
expect 250
quit
S
)
port=$(session_port <<< "$out")
sid=$(wait_session "$port")
check_eq "plain: stages in order" "$(stages "$sid" | squash)" \
    "connect helo mail rcpt data header+ eoh body eom close"
check_eq "plain: body sha256" \
    "$(q "SELECT body_sha256 FROM transactions WHERE session_id='$sid'")" \
    "$(sha256_of 'line one\r\n.dot line\r\nlast\r\n')"
check_eq "plain: body size" \
    "$(q "SELECT body_size FROM transactions WHERE session_id='$sid'")" "27"
qid=$(sed -n 's/.*queued as \([0-9A-F]*\).*/\1/p' <<< "$out")
check_eq "plain: queue id as Postfix told the client" \
    "$(q "SELECT queue_id FROM transactions WHERE session_id='$sid'")" "$qid"
check_eq "plain: session row" \
    "$(q "SELECT client_addr, client_family, helo, n_transactions,
          n_messages, close_reason FROM sessions WHERE session_id='$sid'")" \
    "127.0.0.1|inet|plain.example|1|1|closed after eom"
check_eq "plain: messages view" \
    "$(q "SELECT sender, recipients, outcome FROM messages
          WHERE session_id='$sid'")" \
    "alice@example.com|bob@example.org|accepted"
check_match "plain: transcript view readable" \
    "$(q "SELECT group_concat(text, ' / ') FROM transcript
          WHERE session_id='$sid'")" \
    "^connect from localhost\[127\.0\.0\.1\]:$port .* / HELO plain\.example / MAIL FROM:<alice@example\.com> / RCPT TO:<bob@example\.org> / DATA / Subject: plain / .* / end of message queue_id=$qid / close: closed after eom"
check_eq "plain: no auth, failures unknown" \
    "$(q "SELECT coalesce(auth_type,'NULL'), coalesce(auth_user,'NULL'),
          coalesce(auth_failures,'NULL') FROM sessions
          WHERE session_id='$sid'")" "NULL|NULL|NULL"
check_eq "plain: requested macros arrived (none missing at connect)" \
    "$(q "SELECT coalesce(connect_missing, '') FROM sessions
          WHERE session_id='$sid'")" ""
check_eq "plain: every event keyed once" \
    "$(q "SELECT count(*), count(DISTINCT seq), min(seq), max(seq)
          FROM events WHERE session_id='$sid'")" \
    "$(q "SELECT count(*), count(*), 1, count(*) FROM events
          WHERE session_id='$sid'")"

echo "# 2. two messages and an RSET in one connection (case C01)"
out=$(dialog <<'S'
send EHLO reuse.example
send MAIL FROM:<alice@example.com>
send RCPT TO:<bob@example.org>
send DATA
raw Subject: first\r\nX-First: 1\r\n\r\nbody one\r\n.\r\n
reply
expect 250
send MAIL FROM:<carol@example.com>
send RCPT TO:<dave@example.org>
send RSET
send RSET
send MAIL FROM:<erin@example.com>
send RCPT TO:<frank@example.org>
send DATA
raw Subject: third\r\n\r\nbody three\r\n.\r\n
reply
expect 250
quit
S
)
sid=$(wait_session "$(session_port <<< "$out")")
check_eq "reuse: three transactions, states" \
    "$(q "SELECT group_concat(txn_no || ':' || state || ':' || sender, ' ')
          FROM (SELECT * FROM transactions WHERE session_id='$sid'
          ORDER BY txn_no)")" \
    "1:completed:alice@example.com 2:aborted:carol@example.com 3:completed:erin@example.com"
check_eq "reuse: aborted transaction has its recipient, no headers, no body" \
    "$(q "SELECT n_recipients, n_headers, coalesce(body_size, 'NULL'),
          (SELECT group_concat(recipient) FROM recipients r
           WHERE r.session_id=t.session_id AND r.txn_no=t.txn_no)
          FROM transactions t WHERE session_id='$sid' AND txn_no=2")" \
    "1|0|NULL|dave@example.org"
check_eq "reuse: third message carries only its own recipient" \
    "$(q "SELECT group_concat(recipient) FROM recipients
          WHERE session_id='$sid' AND txn_no=3")" "frank@example.org"
check_eq "reuse: third message has none of the first one's headers" \
    "$(q "SELECT count(*) FROM headers WHERE session_id='$sid' AND txn_no=3
          AND name_text IN ('X-First')")" "0"
check_eq "reuse: first message's header kept with it" \
    "$(q "SELECT count(*) FROM headers WHERE session_id='$sid' AND txn_no=1
          AND name_text = 'X-First'")" "1"
check_eq "reuse: one abort event only (second RSET is a no-op)" \
    "$(q "SELECT count(*) FROM events WHERE session_id='$sid'
          AND stage='abort'")" "1"
check_eq "reuse: connection data survives the abort" \
    "$(q "SELECT helo, n_transactions, n_messages FROM sessions
          WHERE session_id='$sid'")" "reuse.example|3|2"

echo "# 3. STARTTLS and EHLO again (case C10)"
out=$(dialog <<'S'
send EHLO first.example
starttls
send EHLO second.example
send MAIL FROM:<alice@example.com>
send RCPT TO:<bob@example.org>
send DATA
raw Subject: tls\r\n\r\nsecret\r\n.\r\n
reply
quit
S
)
sid=$(wait_session "$(session_port <<< "$out")")
check_eq "tls: both HELOs in order, TLS between" \
    "$(q "SELECT group_concat(CASE stage WHEN 'tls' THEN 'TLS' ELSE text END,
          ' / ') FROM (SELECT stage, text FROM events WHERE session_id='$sid'
          AND stage IN ('helo','tls') ORDER BY seq)")" \
    "HELO first.example / TLS / HELO second.example"
check_eq "tls: session keeps the second HELO, count 2" \
    "$(q "SELECT helo, helo_count FROM sessions WHERE session_id='$sid'")" \
    "second.example|2"
check_match "tls: version and cipher stored" \
    "$(q "SELECT version, cipher, cipher_bits FROM tls_results
          WHERE session_id='$sid'")" '^TLSv1\.[23]\|[A-Z0-9_-]+\|(128|256)$'
check_match "tls: session shows the TLS version" \
    "$(q "SELECT tls_version FROM sessions WHERE session_id='$sid'")" \
    '^TLSv1\.[23]$'
check_eq "tls: one TLS result (recorded once, not per stage)" \
    "$(q "SELECT count(*) FROM tls_results WHERE session_id='$sid'")" "1"

echo "# 3b. TLS handshake abandoned: session closed, no TLS row"
out=$(dialog <<'S'
send EHLO tlsdrop.example
send STARTTLS
expect 220
drop
S
)
sid=$(wait_session "$(session_port <<< "$out")")
check_eq "tls-drop: no TLS result, no transactions" \
    "$(q "SELECT (SELECT count(*) FROM tls_results WHERE session_id='$sid'),
          n_transactions, coalesce(tls_version, 'NULL') FROM sessions
          WHERE session_id='$sid'")" "0|0|NULL"

echo "# 4. AUTH PLAIN and LOGIN through Dovecot (case C09)"
for mech in PLAIN LOGIN; do
    out=$(h_swaks --ehlo "auth-$mech.example" --from alice@example.com \
        --to bob@example.org -a "$mech" --auth-user alice@example.com \
        --auth-password alicepw </dev/null 2>&1)
    sid=
    for ((i = 0; i < 100; i++)); do
        sid=$(q "SELECT session_id FROM sessions WHERE helo='auth-$mech.example'
                 AND ended_us IS NOT NULL")
        [ -n "$sid" ] && break
        sleep 0.1
    done
    check_eq "auth $mech: mechanism and user stored" \
        "$(q "SELECT mechanism, authen FROM auth_results
              WHERE session_id='$sid'")" "$mech|alice@example.com"
    check_eq "auth $mech: transaction carries the AUTH user" \
        "$(q "SELECT auth_type, auth_user FROM transactions
              WHERE session_id='$sid'")" "$mech|alice@example.com"
done

echo "# 4b. failed AUTH then good AUTH, MAIL with AUTH=<> (case C09)"
out=$(dialog <<'S'
send EHLO authfail.example
authplain alice@example.com wrongpassword
expect 535
authplain alice@example.com alicepw
expect 235
send MAIL FROM:<alice@example.com> AUTH=<>
expect 250
send RCPT TO:<bob@example.org>
send DATA
raw Subject: auth\r\n\r\nx\r\n.\r\n
reply
send MAIL FROM:<alice@example.com>
send RCPT TO:<bob@example.org>
send DATA
raw Subject: auth2\r\n\r\ny\r\n.\r\n
reply
quit
S
)
sid=$(wait_session "$(session_port <<< "$out")")
check_eq "auth-fail: both transactions carry the user" \
    "$(q "SELECT group_concat(auth_user, ',') FROM transactions
          WHERE session_id='$sid'")" "alice@example.com,alice@example.com"
check_eq "auth-fail: AUTH=<> kept as an ESMTP parameter" \
    "$(q "SELECT keyword, value_text FROM esmtp_params
          WHERE session_id='$sid' AND txn_no=1 AND rcpt_no=0")" "AUTH|<>"
check_eq "auth-fail: failures not claimed as zero" \
    "$(q "SELECT coalesce(auth_failures, 'NULL') FROM sessions
          WHERE session_id='$sid'")" "NULL"

echo "# 5. unknown commands and garbage lines (case C26)"
long=$(printf 'Z%.0s' $(seq 1 2000))
out=$(dialog <<S
send EHLO unknown.example
send XYZZY plugh
send $long
send MAIL FROM:<alice@example.com>
send RCPT TO:<bob@example.org>
send DATA
raw Subject: after unknown\r\n\r\nx\r\n.\r\n
reply
expect 250
send \\x01\\x02\\x1b[31m binary
S
)
sid=$(wait_session "$(session_port <<< "$out")")
check_eq "unknown: XYZZY recorded as Postfix passes it (verb only)" \
    "$(q "SELECT text FROM events WHERE session_id='$sid' AND stage='unknown'
          ORDER BY seq LIMIT 1")" "unknown command: XYZZY"
check_eq "unknown: 2000-byte verb stored whole" \
    "$(q "SELECT length(arg) FROM events WHERE session_id='$sid'
          AND stage='unknown' ORDER BY seq LIMIT 1 OFFSET 1")" "2000"
check_eq "unknown: no raw control bytes in stored text" \
    "$(q "SELECT count(*) FROM events WHERE session_id='$sid'
          AND (instr(text, char(27)) OR instr(text, char(1)))")" "0"
check_eq "unknown: client never got 2xx for them" \
    "$(grep -cE '^2[0-9][0-9] .*(XYZZY|plugh|ZZZZ)' <<< "$out")" "0"
check_eq "unknown: counted in the session" \
    "$(q "SELECT n_unknown FROM sessions WHERE session_id='$sid'")" "2"
check_eq "unknown: the message after them still completed" \
    "$(q "SELECT state FROM transactions WHERE session_id='$sid'")" "completed"
check_eq "unknown: Postfix drops a control-byte line; session closed" \
    "$(q "SELECT close_reason FROM sessions WHERE session_id='$sid'")" \
    "closed after eom"

echo "# 6. a recipient Postfix rejects (SMFIP_RCPT_REJ)"
out=$(dialog <<'S'
send EHLO rcptrej.example
send MAIL FROM:<alice@example.com>
send RCPT TO:<rejected@example.org>
expect 550
send RCPT TO:<bob@example.org>
expect 250
send DATA
raw Subject: one rejected\r\n\r\nx\r\n.\r\n
reply
expect 250
quit
S
)
sid=$(wait_session "$(session_port <<< "$out")")
check_eq "rcpt-rej: stored as rejected with the MTA's status and reply" \
    "$(q "SELECT rcpt_no, recipient, accepted, mta_status, mta_reply
          FROM recipients WHERE session_id='$sid' ORDER BY rcpt_no")" \
    "1|rejected@example.org|0|5.1.1|Recipient address rejected: No such user here
2|bob@example.org|1||"
check_eq "rcpt-rej: transaction went on" \
    "$(q "SELECT state, n_recipients, n_rejected FROM transactions
          WHERE session_id='$sid'")" "completed|2|1"
check_eq "rcpt-rej: rejected_recipients view" \
    "$(q "SELECT recipient, mta_status FROM rejected_recipients
          WHERE session_id='$sid'")" "rejected@example.org|5.1.1"

sc_drop_in_data dialog

sc_eightbit dialog

echo "# C03. null reverse-path, plain and after AUTH"
out=$(dialog <<'S'
send EHLO nullsender.example
send MAIL FROM:<>
expect 250
send RCPT TO:<postmaster@example.org>
send DATA
raw From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\nSubject: bounce\r\n\r\nreport\r\n.\r\n
reply
expect 250
authplain alice@example.com alicepw
send MAIL FROM:<>
send RCPT TO:<postmaster@example.org>
send DATA
raw Subject: bounce 2\r\n\r\nreport\r\n.\r\n
reply
expect 250
quit
S
)
sid=$(wait_session "$(session_port <<< "$out")")
check_eq "C03: null sender kept apart from unknown" \
    "$(q "SELECT group_concat(quote(sender) || ',' || is_null_sender || ','
          || quote(sender_domain) || ',' || state, ' ') FROM (SELECT *
          FROM transactions WHERE session_id='$sid' ORDER BY txn_no)")" \
    "'',1,NULL,completed '',1,NULL,completed"
check_eq "C03: messages view shows <>" \
    "$(q "SELECT group_concat(sender, ' ') FROM messages
          WHERE session_id='$sid'")" "<> <>"
check_eq "C03: AUTH fields stored with the null sender" \
    "$(q "SELECT coalesce(auth_user, 'NULL') FROM transactions
          WHERE session_id='$sid' ORDER BY txn_no")" \
    "NULL
alice@example.com"

echo "# C04. a body of many chunks, with a CRLF across a chunk boundary"
python3 - "$WORK/big.eml" "$WORK/big.body" <<'PY'
import sys
# 1,048,583 bytes of body: sixteen 65,535-byte chunks and a remainder,
# with lines that end on and straddle the 65,535-byte marks.
size = 1048583
body = bytearray()
while len(body) < size:
    body += b"x" * 76 + b"\r\n"
body = body[:size - 2] + b"\r\n"
cr = 3 * 65535 - 1          # CR last byte of chunk 3, LF first of chunk 4
body[cr - 4:cr] = b"yyyy"
body[cr] = 0x0d
body[cr + 1] = 0x0a
open(sys.argv[2], "wb").write(body)
# Dot-stuff for the wire (no line here starts with a dot) and end it.
open(sys.argv[1], "wb").write(b"Subject: big\r\n\r\n" + bytes(body) +
                              b".\r\n")
PY
out=$(dialog <<S
send EHLO bigbody.example
send MAIL FROM:<alice@example.com>
send RCPT TO:<bob@example.org>
send DATA
rawfile $WORK/big.eml
reply
expect 250
quit
S
)
sid=$(wait_session "$(session_port <<< "$out")")
check_eq "C04: body size and sha256 over all chunks" \
    "$(q "SELECT body_size, body_sha256 FROM transactions
          WHERE session_id='$sid'")" \
    "1048583|$(sha256sum < "$WORK/big.body" | cut -d' ' -f1)"
check_match "C04: arrived in several chunks" \
    "$(q "SELECT body_chunks FROM transactions WHERE session_id='$sid'")" \
    '^([2-9]|[1-9][0-9]+)$'

sc_empty_headers dialog

echo "# C08. macros: queue id from its first stage, no \"(null)\" stored"
check_eq "C08: every completed message has its queue id" \
    "$(q "SELECT count(*) FROM transactions WHERE state='completed'
          AND queue_id IS NULL")" "0"
check_eq "C08: no (null) text anywhere" \
    "$(q "SELECT count(*) FROM events WHERE text LIKE '%(null)%'")" "0"
check_eq "C08: queue id missing at MAIL is not an error in the log" \
    "$(grep -c 'missing.*\bi\b.*mail' "$SW_DIR/log/milter.log")" "0"

echo "# C11. several ESMTP parameters on MAIL and RCPT, in order"
out=$(dialog <<'S'
send EHLO params.example
send MAIL FROM:<sender@example.com> SIZE=2048 BODY=8BITMIME RET=HDRS ENVID=QQ314159 AUTH=<>
expect 250
send RCPT TO:<user@example.org> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;user@example.net
expect 250
send RSET
quit
S
)
sid=$(wait_session "$(session_port <<< "$out")")
check_eq "C11: MAIL has five parameters, in order" \
    "$(q "SELECT group_concat(keyword || '=' || coalesce(value_text, ''), ' ')
          FROM (SELECT * FROM esmtp_params WHERE session_id='$sid'
          AND rcpt_no=0 ORDER BY position)")" \
    "SIZE=2048 BODY=8BITMIME RET=HDRS ENVID=QQ314159 AUTH=<>"
check_eq "C11: RCPT has two, split on the first = only" \
    "$(q "SELECT group_concat(keyword || '=' || coalesce(value_text, ''), ' ')
          FROM (SELECT * FROM esmtp_params WHERE session_id='$sid'
          AND rcpt_no=1 ORDER BY position)")" \
    "NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;user@example.net"

echo "# C13. a client that resets right after connecting"
since=$(($(date +%s%6N) - 1000))
out=$(dialog --no-banner <<'S'
drop
S
)
port=$(session_port <<< "$out")
for ((i = 0; i < 100; i++)); do
    row=$(q "SELECT quote(client_addr), quote(client_port), client_family,
             name_status, n_transactions, close_reason FROM sessions
             WHERE started_us > $since AND helo IS NULL
             AND ended_us IS NOT NULL")
    [ -n "$row" ] && break
    sleep 0.1
done
# Whether Postfix saw the peer address before the reset is a race; both
# outcomes must be stored faithfully.
check_match "C13: one session, no transactions, closed after connect" \
    "$row" "^(NULL\|NULL\|unknown\|unknown|'127\.0\.0\.1'\|$port\|inet\|resolved)\|0\|closed after connect$"

sc_folded_headers dialog

echo "# C25. messages with no body"
out=$(dialog <<'S'
send EHLO nobody.example
send MAIL FROM:<alice@example.com>
send RCPT TO:<bob@example.org>
send DATA
raw Subject: headers only\r\n.\r\n
reply
expect 250
send MAIL FROM:<alice@example.com>
send RCPT TO:<bob@example.org>
send DATA
raw Subject: blank line then end\r\n\r\n.\r\n
reply
expect 250
quit
S
)
sid=$(wait_session "$(session_port <<< "$out")")
empty=$(sha256_of '')
check_eq "C25: both completed with an empty body" \
    "$(q "SELECT group_concat(state || ',' || body_size || ',' ||
          body_sha256, ' ') FROM (SELECT * FROM transactions
          WHERE session_id='$sid' ORDER BY txn_no)")" \
    "completed,0,$empty completed,0,$empty"
check_eq "C25: headers, eoh, eom with no body chunk" \
    "$(stages "$sid" 1 | squash)" "mail rcpt data header+ eoh body eom"

echo "# C17. non-milter bytes on the sockets"
python3 - "$SW_MILTER_SOCK" "$SW_DAEMON_SOCK" <<'PY'
import socket, sys, struct
for path, payloads in ((sys.argv[1], [b"GET / HTTP/1.0\r\n\r\n",
                                      b"\x16\x03\x01\x00\xa5\x01\x00",
                                      struct.pack(">I", 0xffffffff)]),
                       (sys.argv[2], [b"GET / HTTP/1.0\r\n\r\n",
                                      struct.pack(">I", 0),
                                      struct.pack(">I", 0xffffffff),
                                      struct.pack(">I", 100) + b"x" * 10])):
    for p in payloads:
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(5)
        s.connect(path)
        s.sendall(p)
        try:
            s.recv(100)
        except OSError:
            pass
        s.close()
PY
out=$(dialog <<'S'
send EHLO aftergarbage.example
send MAIL FROM:<alice@example.com>
send RCPT TO:<bob@example.org>
send DATA
raw Subject: still here\r\n\r\nx\r\n.\r\n
reply
expect 250
quit
S
)
sid=$(wait_session "$(session_port <<< "$out")")
check_eq "C17: both programs serve on after garbage" \
    "$(q "SELECT state FROM transactions WHERE session_id='$sid'")" \
    "completed"
check_match "C17: daemon named the bad frames" \
    "$(grep -c 'frame length out of bounds\|batch does not decode' \
       "$SW_DIR/log/daemon.log")" '^[1-9]'
kill -0 "$SW_MILTER_PID" && kill -0 "$SW_DAEMON_PID" &&
    pass "C17: neither process died" || fail "C17: a process died"

# simple_message HELO - one ordinary message; prints the client port
simple_message() {
    dialog <<S | session_port
send EHLO $1
send MAIL FROM:<alice@example.com>
send RCPT TO:<bob@example.org>
send DATA
raw Subject: $1\r\n\r\nx\r\n.\r\n
reply
quit
S
}

echo "# daemon stopped and started again: queued records arrive"
sw_stop_daemon
check_eq "daemon: SIGTERM exits 0" "$?" "0"
port=$(simple_message daemon-away.example)
sleep 0.5
sw_start_daemon
sid=$(wait_session "$port")
check_eq "daemon: session sent while it was away is stored" \
    "$(q "SELECT state FROM transactions WHERE session_id='$sid'")" \
    "completed"
check_match "daemon: the milter said the daemon was unreachable" \
    "$(grep -c 'daemon-unreachable\|daemon-error' "$SW_DIR/log/milter.log")" \
    '^[1-9]'

echo "# C30. milter socket life cycle"
kill -KILL "$SW_MILTER_PID"
wait "$SW_MILTER_PID" 2>/dev/null
SW_MILTER_PID=
[ -S "$SW_MILTER_SOCK" ] && pass "C30: SIGKILL leaves a stale socket" ||
    fail "C30: no stale socket after SIGKILL"
sw_start_milter && pass "C30: restart replaces the stale socket" ||
    fail "C30: restart over a stale socket failed"
sid=$(wait_session "$(simple_message after-restart.example)")
check_eq "C30: Postfix reaches the restarted milter without a reload" \
    "$(q "SELECT state FROM transactions WHERE session_id='$sid'")" \
    "completed"
"$SW_MILTER_BIN" -f -c "$SW_CONF" </dev/null >"$WORK/second.log" 2>&1
check_eq "C30: a second instance refuses to start" "$?" "69"
check_match "C30: and says why" "$(cat "$WORK/second.log")" \
    "in use by a running instance"
check_eq "C30: socket mode and owner" \
    "$(stat -c '%a %U %G' "$SW_MILTER_SOCK")" "660 nobody postfix"
sid=$(wait_session "$(simple_message after-second.example)")
check_eq "C30: the first instance still serves" \
    "$(q "SELECT state FROM transactions WHERE session_id='$sid'")" \
    "completed"
echo "not a socket" > "$WORK/plain-file"
sed "s|^milter_socket = .*|milter_socket = \"unix:$WORK/plain-file\"|" \
    "$SW_CONF" > "$WORK/plain-file.conf"
"$SW_MILTER_BIN" -f -c "$WORK/plain-file.conf" </dev/null \
    >"$WORK/plain-file.log" 2>&1
check_eq "C30: a regular file at the socket path is an error" "$?" "69"
check_eq "C30: and is left alone" "$(cat "$WORK/plain-file")" "not a socket"

echo "# configuration errors name file, line and reason"
printf '# test\nlog_level = "info"\nmax_header_bytes = 10\n' > "$WORK/bad.conf"
for prog in "$SW_MILTER_BIN" "$SW_DAEMON_BIN"; do
    err=$("$prog" -n -c "$WORK/bad.conf" 2>&1)
    rc=$?
    check_eq "config: $(basename "$prog") -n exits 78" "$rc" "78"
    check_eq "config: $(basename "$prog") names file:line: reason" "$err" \
        "$WORK/bad.conf:3: max_header_bytes = 10 is out of range 64..1048576"
done
printf 'log_level = "info"\nno_such_key = 1\n' > "$WORK/unknown.conf"
err=$("$SW_DAEMON_BIN" -n -c "$WORK/unknown.conf" 2>&1)
check_match "config: unknown key named with its line" "$err" \
    "unknown.conf:2: .*no_such_key"
"$SW_DAEMON_BIN" -n -c "$SW_CONF" >/dev/null 2>&1
check_eq "config: the test configuration checks clean" "$?" "0"

sw_summary
