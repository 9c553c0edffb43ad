#!/bin/bash
# compare.sh - one SMTP dialogue through a private Postfix and through a
# private Sendmail, both calling the same smtpwarden-milter and daemon:
# the normalised rows (session, transactions, recipients, ESMTP
# parameters, headers, body digest, AUTH, TLS, the transcript) must be
# the same, except for fields one MTA does not provide, which must be
# NULL with the macro named in the missing-macro list, and a short list
# of fields whose value is each MTA's own (its version, its daemon name,
# its routing, its queue ids, its spelling of certificate names).
#
# Run as root from a built tree: tests/mta/compare.sh
# Ends with "N passed, N failed"; exit status 0 only if nothing failed.
set -u

here=$(cd "$(dirname "$0")" && pwd)
. "$here/harness.sh"
. "$here/sendmail-harness.sh"
. "$here/lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "compare.sh must run as root" >&2; exit 77; }

WORK=$(mktemp -d /tmp/smtpwarden-cmp.XXXXXX)
cleanup() {
    s_stop
    h_stop
    sw_stop_all
    if [ "$SW_FAILED" -eq 0 ] && [ -z "${KEEP:-}" ]; then
        rm -rf "$WORK"
    else
        echo "work directory kept: $WORK"
    fi
}
trap cleanup EXIT

sw_setup "$WORK" || exit 1
sw_start_daemon || exit 1
sw_start_milter || exit 1
S_MILTER=$SW_MILTER_CONN
s_setup "$WORK/sm" || exit 1
H_MILTER=$SW_MILTER_CONN
h_setup "$WORK/pf" || exit 1
# Postfix asks for the client certificate and trusts the test CA, as
# Sendmail does by default, so both see the same certificate.
h_postconf "smtpd_tls_ask_ccert = yes" "smtpd_tls_CAfile = $S_CA" || exit 1
h_start || exit 1
s_start || exit 1

# cdialog PORT - smtpdialog.py, its STARTTLS presenting the test client
# certificate (the script is on stdin)
cdialog() {
    timeout 120 python3 -c '
import runpy, ssl, sys
cert, key, script = sys.argv[1:4]
plain = ssl.create_default_context
def with_cert(*args, **kwargs):
    ctx = plain(*args, **kwargs)
    ctx.load_cert_chain(cert, key)
    return ctx
ssl.create_default_context = with_cert
sys.argv = [script] + sys.argv[4:]
runpy.run_path(script, run_name="__main__")
' "$S_CLIENT_CERT" "$S_CLIENT_KEY" "$here/smtpdialog.py" "$@"
}

# The dialogue: STARTTLS with a client certificate, EHLO again, AUTH,
# MAIL and RCPT with ESMTP parameters, a message with folded, 8-bit and
# empty headers and a NUL and a stuffed dot in the body, then a second
# transaction with the null sender, reset.
cat >"$WORK/dialogue" <<'S'
send EHLO compare.example
starttls
send EHLO compare.example
authplain alice@example.com alicepw
expect 235
send MAIL FROM:<alice@example.com> SIZE=300 BODY=8BITMIME AUTH=<alice@example.com>
expect 250
send RCPT TO:<bob@example.org> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob@example.org
expect 250
send RCPT TO:<carol@example.net>
expect 250
send DATA
expect 354
raw From: Alice <alice@example.com>\r\nTo: bob@example.org\r\nCc: carol@example.net\r\nDate: Thu, 01 Jan 2026 00:00:00 +0000\r\nMessage-ID: <compare.1@example.com>\r\nSubject: compare\r\n\tfolded\r\nX-Eight: caf\xc3\xa9 \xff\r\nX-Empty:\r\nX-Blank:  \r\n\r\nline one\r\n..dot\r\na\x00b\r\n.\r\n
reply
expect 250
send MAIL FROM:<>
expect 250
send RCPT TO:<dave@example.org>
expect 250
send RSET
quit
S

echo "# the dialogue through Postfix, then through Sendmail"
out_pf=$(cdialog "$H_PORT" <"$WORK/dialogue")
check_eq "Postfix: the dialogue ran to QUIT" "$(tail -1 <<< "$out_pf")" \
    "221 2.0.0 Bye"
out_sm=$(cdialog "$S_PORT" <"$WORK/dialogue")
check_match "Sendmail: the dialogue ran to QUIT" "$(tail -1 <<< "$out_sm")" \
    '^221 2\.0\.0 .* closing connection$'
pf=$(wait_session "$(sed -n 's/^port //p' <<< "$out_pf" | head -1)")
sm=$(wait_session "$(sed -n 's/^port //p' <<< "$out_sm" | head -1)")
check_match "both sessions stored" "$pf $sm" '^[0-9a-f]{16} [0-9a-f]{16}$'

# same NAME SQL - run SQL for each session ($1 in it stands for the
# session id) and compare the results; also shows they are not empty
same() {
    local name=$1 sql=$2 a b
    a=$(q "${sql//\$1/$pf}")
    b=$(q "${sql//\$1/$sm}")
    if [ -z "$a" ]; then
        fail "$name: no rows for the Postfix session"
    elif [ "$a" = "$b" ]; then
        pass "$name"
    else
        fail "$name: Postfix and Sendmail differ:
--- Postfix
$a
--- Sendmail
$b"
    fi
}

echo "# the same normalised rows"
same "sessions: client, HELO, TLS, AUTH, counts, close" \
    "SELECT client_host, client_family, client_addr, client_name,
            client_ptr, name_status, daemon_addr, mta_name, helo,
            helo_count, tls_version, auth_type, auth_user,
            quote(auth_failures), close_reason, n_transactions, n_messages,
            n_recipients, n_unknown, quote(connect_missing)
     FROM sessions WHERE session_id = '\$1'"
same "transactions: envelope, AUTH, counts, body digest" \
    "SELECT txn_no, state, last_stage, quote(abort_reason), hex(sender_path),
            quote(sender), quote(sender_domain), is_null_sender, auth_type,
            auth_user, quote(auth_author), n_recipients, n_rejected,
            n_headers, quote(body_size), quote(body_sha256),
            quote(body_chunks)
     FROM transactions WHERE session_id = '\$1' ORDER BY txn_no"
same "recipients: paths, addresses, MTA verdicts" \
    "SELECT txn_no, rcpt_no, hex(path), recipient, accepted,
            quote(mta_status), quote(mta_reply), rcpt_addr
     FROM recipients WHERE session_id = '\$1' ORDER BY txn_no, rcpt_no"
same "esmtp_params: MAIL and RCPT parameters in order" \
    "SELECT txn_no, rcpt_no, position, keyword, hex(value)
     FROM esmtp_params WHERE session_id = '\$1'
     ORDER BY txn_no, rcpt_no, position"
same "headers: names and values byte for byte" \
    "SELECT txn_no, position, hex(name), hex(value), value_len, cut
     FROM headers WHERE session_id = '\$1' ORDER BY txn_no, position"
same "auth_results: mechanism, user, author" \
    "SELECT seq, mechanism, authen, quote(author)
     FROM auth_results WHERE session_id = '\$1'"
same "tls_results: version, cipher, bits" \
    "SELECT seq, version, cipher, cipher_bits
     FROM tls_results WHERE session_id = '\$1'"
same "events: the transcript, stage by stage" \
    "SELECT seq, stage, quote(txn_no), CASE stage
            WHEN 'connect' THEN 'connect' WHEN 'eom' THEN 'eom'
            WHEN 'tls' THEN 'tls' ELSE text END, hex(arg)
     FROM events WHERE session_id = '\$1' AND stage != 'connect'
     ORDER BY seq"
check_eq "body digest: what the client sent, dots unstuffed" \
    "$(q "SELECT body_size || ' ' || body_sha256 FROM transactions
          WHERE session_id = '$pf' AND txn_no = 1")" \
    "21 $(printf 'line one\r\n.dot\r\na\0b\r\n' | sha256sum | cut -d' ' -f1)"
check_eq "headers: the leading space kept, empty and blank values exact" \
    "$(q "SELECT group_concat(name_text || '=' || hex(value), ' ') FROM
          (SELECT * FROM headers WHERE session_id = '$sm'
           AND name_text IN ('From', 'X-Empty', 'X-Blank')
           ORDER BY position)")" \
    "From=20416C696365203C616C696365406578616D706C652E636F6D3E X-Empty= X-Blank=2020"
check_eq "auth: Sendmail's <...> around the author is not stored" \
    "$(q "SELECT author FROM auth_results WHERE session_id = '$sm'")" \
    "alice@example.com"

echo "# fields one MTA does not provide: NULL, and named as missing"
# Every event whose missing-macro list differs between the MTAs.
missing_diff=$(q "
    SELECT p.seq || ' ' || p.stage || ': Postfix ' ||
           coalesce(p.missing_macros, '-') || ', Sendmail ' ||
           coalesce(s.missing_macros, '-')
    FROM events p JOIN events s ON s.session_id = '$sm' AND s.seq = p.seq
    WHERE p.session_id = '$pf'
      AND coalesce(p.missing_macros, '') != coalesce(s.missing_macros, '')
    ORDER BY p.seq")
check_eq "missing macros: only Postfix lacks {verify} and {auth_ssf}" \
    "$missing_diff" \
    "3 tls: Postfix {verify}, Sendmail -
5 auth: Postfix {auth_ssf}, Sendmail -
6 mail: Postfix {auth_ssf}, Sendmail -
22 mail: Postfix {auth_author} {auth_ssf}, Sendmail {auth_author}"
check_eq "TLS verify: Postfix NULL (not provided), Sendmail OK" \
    "$(q "SELECT quote(verify) FROM tls_results WHERE session_id = '$pf'") $(
       q "SELECT quote(verify) FROM tls_results WHERE session_id = '$sm'")" \
    "NULL 'OK'"
check_eq "AUTH ssf: Postfix NULL (not provided), Sendmail 0" \
    "$(q "SELECT quote(ssf) FROM auth_results WHERE session_id = '$pf'") $(
       q "SELECT quote(ssf) FROM auth_results WHERE session_id = '$sm'")" \
    "NULL '0'"
check_eq "author of MAIL FROM:<> without AUTH=: not provided by either" \
    "$(q "SELECT quote(auth_author) FROM transactions WHERE txn_no = 2
          AND session_id IN ('$pf', '$sm')")" "NULL
NULL"

echo "# fields whose value is each MTA's own"
check_eq "certificate names: Postfix the common name, Sendmail the DN" \
    "$(q "SELECT cert_subject || ' / ' || cert_issuer FROM tls_results
          WHERE session_id = '$pf'")
$(q "SELECT cert_subject || ' / ' || cert_issuer FROM tls_results
     WHERE session_id = '$sm'")" \
    'Test Client / Test CA
/O=Example Org/OU=R\\+D/CN=Test Client / /O=Example Test CA/CN=Test CA'
check_eq "certificate names: the same certificate (Sendmail's DN ends in Postfix's CN)" \
    "$(q "SELECT count(*) FROM tls_results p JOIN tls_results s
          ON s.session_id = '$sm' WHERE p.session_id = '$pf'
          AND s.cert_subject LIKE '%/CN=' || p.cert_subject
          AND s.cert_issuer LIKE '%/CN=' || p.cert_issuer")" "1"
check_match "mta_version: each MTA's own" \
    "$(q "SELECT mta_version FROM sessions WHERE session_id = '$pf'") / $(
       q "SELECT mta_version FROM sessions WHERE session_id = '$sm'")" \
    '^Postfix 3\.[0-9.]+ / 8\.[0-9.]+$'
check_eq "daemon_name: Postfix its host name, Sendmail the DAEMON_OPTIONS Name" \
    "$(q "SELECT daemon_name FROM sessions WHERE session_id = '$pf'") $(
       q "SELECT daemon_name FROM sessions WHERE session_id = '$sm'")" \
    "mail.test.example MTA"
check_eq "rcpt_mailer and rcpt_host: each MTA's routing" \
    "$(q "SELECT group_concat(rcpt_mailer || ' ' || rcpt_host, ', ') FROM
          recipients WHERE session_id = '$pf'") / $(
       q "SELECT group_concat(rcpt_mailer || ' ' || rcpt_host, ', ') FROM
          recipients WHERE session_id = '$sm'")" \
    "discard example.org, discard example.net, discard example.org / relay [127.0.0.2], relay [127.0.0.2], relay [127.0.0.2]"
check_eq "queue ids: as each MTA told the client" \
    "$(q "SELECT queue_id FROM transactions WHERE session_id = '$pf'
          AND txn_no = 1") $(q "SELECT queue_id FROM transactions
          WHERE session_id = '$sm' AND txn_no = 1")" \
    "$(sed -n 's/^250 2\.0\.0 Ok: queued as \([0-9A-F]*\)$/\1/p' <<< "$out_pf") $(
       sed -n 's/^250 2\.0\.0 \([0-9A-Za-z]*\) Message accepted.*/\1/p' <<< "$out_sm")"
# Postfix opens its queue file after the first valid RCPT and sends the
# queue id from DATA on; Sendmail has one from MAIL on.
check_eq "queue id of a transaction reset before DATA: Postfix none" \
    "$(q "SELECT quote(queue_id) FROM transactions WHERE session_id = '$pf'
          AND txn_no = 2") $(q "SELECT queue_id IS NOT NULL FROM
          transactions WHERE session_id = '$sm' AND txn_no = 2")" "NULL 1"

echo "# STARTTLS without a client certificate"
tls_nocert() {
    timeout 60 python3 "$here/smtpdialog.py" "$1" <<'S' |
send EHLO nocert.example
starttls
send EHLO nocert.example
quit
S
        sed -n 's/^port //p' | head -1
}
pf=$(wait_session "$(tls_nocert "$H_PORT")")
sm=$(wait_session "$(tls_nocert "$S_PORT")")
# tls_row SID - the names, verify and the TLS event's missing macros
tls_row() {
    q "SELECT quote(cert_subject), quote(cert_issuer), quote(verify),
       quote(missing_macros) FROM tls_results t JOIN events e
       ON e.session_id = t.session_id AND e.seq = t.seq
       WHERE t.session_id = '$1'"
}
check_eq "no certificate: Postfix sends no names (NULL, named missing)" \
    "$(tls_row "$pf")" \
    "NULL|NULL|NULL|'{cert_subject} {cert_issuer} {verify}'"
check_eq "no certificate: Sendmail sends empty names and verify NO" \
    "$(tls_row "$sm")" "''|''|'NO'|NULL"

sw_summary
