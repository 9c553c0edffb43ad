# scenarios.sh - scenarios that run unchanged through Postfix and
# Sendmail: the same dialogue and the same assertions where the two MTAs
# agree.  Each takes the name of the function that speaks SMTP to the
# MTA under test (dialog for Postfix, sm for Sendmail).  Sourced by
# postfix.sh and sendmail.sh after lib.sh and their own helpers.
# shellcheck shell=bash

# sc_drop_in_data DIALOG - the client drops the connection in DATA (case C14)
sc_drop_in_data() {
    echo "# 7. the client drops the connection in DATA (case C14)"
    out=$("$1" <<'S'
send EHLO drop.example
send MAIL FROM:<alice@example.com>
send RCPT TO:<bob@example.org>
send DATA
expect 354
raw From: alice@example.com\r\nSubject: partial\r\nX-Hdr: 3\r\n
sleep 0.2
drop
S
    )
    sid=$(wait_session "$(session_port <<< "$out")")
    check_eq "drop: transaction aborted after DATA" \
        "$(q "SELECT state, last_stage FROM transactions
              WHERE session_id='$sid'")" "aborted|data"
    check_eq "drop: session closed, lost in DATA" \
        "$(q "SELECT close_reason, n_messages FROM sessions
              WHERE session_id='$sid'")" "lost connection in DATA|0"
    check_eq "drop: events end data, abort, close" \
        "$(stages "$sid")" "connect helo mail rcpt data abort close"
}

# sc_eightbit DIALOG - 8-bit header bytes and a NUL in the body, byte-exact
sc_eightbit() {
    echo "# 8. 8-bit header bytes and a NUL in the body, stored byte-exact"
    out=$("$1" <<'S'
send EHLO eightbit.example
send MAIL FROM:<alice@example.com> BODY=8BITMIME
send RCPT TO:<bob@example.org>
send DATA
raw X-Eight: caf\xc3\xa9 \xff\xfe end\r\nSubject: nul\r\n\r\na\x00b\r\n\xe9t\xe9\r\n.\r\n
reply
expect 250
quit
S
    )
    sid=$(wait_session "$(session_port <<< "$out")")
    check_eq "8bit: header value bytes exact (hex)" \
        "$(q "SELECT hex(value) FROM headers WHERE session_id='$sid'
              AND name_text='X-Eight'")" \
        "$(printf ' caf\xc3\xa9 \xff\xfe end' | od -An -tx1 | tr -d ' \n' |
           tr 'a-f' 'A-F')"
    check_eq "8bit: readable copy escapes what is not UTF-8" \
        "$(q "SELECT value_text FROM headers WHERE session_id='$sid'
              AND name_text='X-Eight'")" ' café \xff\xfe end'
    check_eq "8bit: body with NUL hashed exactly" \
        "$(q "SELECT body_size, body_sha256 FROM transactions
              WHERE session_id='$sid'")" \
        "10|$(sha256_of 'a\x00b\r\n\xe9t\xe9\r\n')"
}

# sc_empty_headers DIALOG - headers with empty values (case C06)
sc_empty_headers() {
    echo "# C06. headers with empty values"
    out=$("$1" <<'S'
send EHLO emptyhdr.example
send MAIL FROM:<alice@example.com>
send RCPT TO:<bob@example.org>
send DATA
raw From: Sender <sender@example.com>\r\nX-Empty:\r\nX-Blank:   \r\nSubject:\r\n\r\nx\r\n.\r\n
reply
expect 250
quit
S
    )
    sid=$(wait_session "$(session_port <<< "$out")")
    check_eq "C06: empty headers present, values exact" \
        "$(q "SELECT group_concat(name_text || '=' || hex(value) || '/' ||
              value_len, ' ') FROM (SELECT * FROM headers WHERE session_id='$sid'
              AND name_text IN ('X-Empty', 'X-Blank', 'Subject')
              ORDER BY position)")" \
        "X-Empty=/0 X-Blank=202020/3 Subject=/0"
}

# sc_folded_headers DIALOG - folded headers stored verbatim (case C20)
sc_folded_headers() {
    echo "# C20. folded headers stored verbatim"
    out=$("$1" <<'S'
send EHLO folded.example
send MAIL FROM:<alice@example.com>
send RCPT TO:<bob@example.org>
send DATA
raw Subject: first part of a rather long subject\r\n\tsecond part\r\n third part\r\nTo: a@example.com,\r\n  b@example.com\r\n\r\nx\r\n.\r\n
reply
expect 250
quit
S
    )
    sid=$(wait_session "$(session_port <<< "$out")")
    check_eq "C20: line breaks and continuation whitespace kept" \
        "$(q "SELECT value_text FROM headers WHERE session_id='$sid'
              AND name_text='Subject'")" \
        ' first part of a rather long subject\n\tsecond part\n third part'
    check_eq "C20: second folded header too" \
        "$(q "SELECT value_text FROM headers WHERE session_id='$sid'
              AND name_text='To'")" ' a@example.com,\n  b@example.com'
}
