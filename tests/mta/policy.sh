#!/bin/bash
# policy.sh - the policy engine through a real, private Postfix: for each
# action the client sees the exact code and text, the decision is stored
# with the event it answered, monitor and shadow only record, and a
# reload (SIGHUP) is atomic: open sessions keep their rule set, a broken
# file keeps the old rules.
#
# Run as root from a built tree: tests/mta/policy.sh
# Ends with "N passed, N failed"; exit status 0 only if nothing failed.
set -u

here=$(cd "$(dirname "$0")" && pwd)
. "$here/harness.sh"
. "$here/lib.sh"

sw_test_begin policy

mkdir -p "$WORK/rules"
cat > "$WORK/rules/logins.map" <<'MAP'
# AUTH user    addresses and domains it may send as
alice@example.com   alice@example.com @alice.example
MAP
write_rules() {
    cat > "$WORK/rules/smtpwarden.rules" <<RULES
# Rules of the policy tests.
mode = ${1:-enforce}
list trusted = { "192.0.2.0/24", "2001:db8::/32" }
map login_map = file "logins.map"

rule helo-literal   helo  helo.is_address and not client.addr in @trusted
                    -> reject 550 5.7.1 "HELO must name a host"
rule tls-first      mail  auth.user and not tls
                    -> reject 530 5.7.0 "STARTTLS first"
rule own-sender     mail  auth.user and not sender in login_map[auth.user]
                    -> reject 553 5.7.1 "%{sender} is not yours, %{auth.user}"
rule shadowed       mail  sender == "shadow@example.com"
                    -> reject 550 5.7.1 "would refuse" shadow
rule multi-line     mail  sender == "multi@example.com"
                    -> reject 550 5.7.1 "first line\nsecond line"
rule percent        mail  sender like "pct*"
                    -> reject 550 5.7.1 "refused %{sender}"
rule burst          mail  sender == "burst@example.com"
                          and rate(sender, 1h) >= 2
                    -> tempfail 451 4.7.1 "Slow down"
rule rcpt-cap       rcpt  txn.rcpt_count > 3
                    -> tempfail 452 4.5.3 "Too many recipients"
rule no-unknown     unknown  true -> reject 500 5.5.1 "Command unrecognized"
rule too-big        eom   body.size > 100k
                    -> reject 552 5.3.4 "Message too big for us"
rule tag-it         eom   sender.domain == "tagged.example"
                    -> add-header X-Warden "tagged %{sender}"
rule hold-it        eom   has_header("X-Hold-Me") -> quarantine "held by rule"
rule drop-it        eom   sender == "drop@example.com" -> discard
rule spam-subject   header header.name == "Subject" and header.value like "*SPAM*"
                    -> reject 550 5.7.1 "No spam here"
rule need-header    eoh   sender == "needhdr@example.com"
                          and not has_header("X-Required")
                    -> tempfail 451 4.7.1 "X-Required missing"
rule tag-rcpt       rcpt  rcpt == "tagme@example.org"
                    -> add-header X-Rcpt-Tag "decided at rcpt"
${2:-}
RULES
}
write_rules

SW_RULES=$WORK/rules/smtpwarden.rules sw_setup "$WORK" || exit 1
sw_start_daemon || exit 1
sw_start_milter || exit 1
H_MILTER=$SW_MILTER_CONN
h_setup "$WORK/pf" || exit 1
# Headers the milter adds pass Postfix's milter_header_checks: log them.
h_postconf "milter_header_checks = regexp:{ {/^X-(Warden|Rcpt-Tag):/ WARN added by milter} }" >/dev/null
h_start || exit 1

session_port() { sed -n 's/^port //p' | head -1; }

# reply_of OUTPUT CMD - the reply lines smtpdialog printed after CMD
reply_line() { grep -E "^$2" <<< "$1" | head -1; }

# decision SID STAGE - rule|action|mode|reply of the stage's decisions
decision() {
    q "SELECT group_concat(rule || '|' || action || '|' || mode || '|' ||
       coalesce(reply, ''), ' ; ') FROM (SELECT * FROM decisions
       WHERE session_id = '$1' AND stage = '$2' ORDER BY seq, position)"
}

# maillog_wait REGEX - the Postfix log line, waiting for it
maillog_wait() {
    local i
    for ((i = 0; i < 100; i++)); do
        grep -E "$1" "$(h_maillog)" && return 0
        sleep 0.1
    done
    return 1
}

echo "# reject at HELO: Postfix reports it at the next MAIL (smtpd_delay_reject)"
out=$(dialog <<'S'
send EHLO [192.0.2.99]
send MAIL FROM:<alice@example.com>
send RCPT TO:<bob@example.org>
quit
S
)
check_eq "helo: the client sees the rule's reply" \
    "$(grep -E '^5[0-9][0-9] ' <<< "$out" | head -1)" \
    "550 5.7.1 HELO must name a host"
sid=$(wait_session "$(session_port <<< "$out")")
check_eq "helo: decision stored with its event" \
    "$(decision "$sid" helo)" \
    "helo-literal|reject|enforced|550 5.7.1 HELO must name a host"
check_eq "helo: the event carries the enforced answer" \
    "$(q "SELECT decision, rule FROM events WHERE session_id='$sid'
          AND stage='helo' ORDER BY seq LIMIT 1")" "reject|helo-literal"

echo "# AUTH without TLS, and a sender the login map does not allow"
out=$(dialog <<'S'
send EHLO client.example
authplain alice@example.com alicepw
send MAIL FROM:<alice@example.com>
S
)
check_eq "tls-first: reply" "$(grep -E '^530' <<< "$out")" \
    "530 5.7.0 STARTTLS first"
out=$(dialog <<'S'
send EHLO client.example
starttls
send EHLO client.example
authplain alice@example.com alicepw
send MAIL FROM:<mallory@example.net>
send MAIL FROM:<alice@alice.example>
expect 250
send RCPT TO:<bob@example.org>
expect 250
quit
S
)
check_eq "own-sender: reply names sender and user" \
    "$(grep -E '^553' <<< "$out")" \
    "553 5.7.1 mallory@example.net is not yours, alice@example.com"
check_match "own-sender: an address of the allowed domain passes" \
    "$(grep -cE '^250 2\.1\.0' <<< "$out")" '^1$'
sid=$(wait_session "$(session_port <<< "$out")")
check_eq "own-sender: stored" "$(decision "$sid" mail)" \
    "own-sender|reject|enforced|553 5.7.1 mallory@example.net is not yours, alice@example.com"
check_eq "own-sender: messages view shows the refused MAIL" \
    "$(q "SELECT outcome FROM messages WHERE session_id='$sid' AND txn=1")" \
    "reject by own-sender"

echo "# multi-line reply; client data with % stays literal"
out=$(dialog <<'S'
send EHLO client.example
send MAIL FROM:<multi@example.com>
send MAIL FROM:<pct%s%n%x@example.com>
quit
S
)
check_eq "multi-line: both lines" \
    "$(grep -E '^550' <<< "$out" | head -2 | tr '\n' '/')" \
    "550-5.7.1 first line/550 5.7.1 second line/"
check_eq "percent: no format directive is expanded" \
    "$(grep -E '^550 5\.7\.1 refused' <<< "$out")" \
    "550 5.7.1 refused pct%s%n%x@example.com"

echo "# shadow: recorded as would-have, mail flows"
out=$(dialog <<'S'
send EHLO client.example
send MAIL FROM:<shadow@example.com>
expect 250
quit
S
)
sid=$(wait_session "$(session_port <<< "$out")")
check_eq "shadow: MAIL accepted" "$(grep -cE '^250 2\.1\.0' <<< "$out")" "1"
check_eq "shadow: decision stored as shadow" "$(decision "$sid" mail)" \
    "shadowed|reject|shadow|550 5.7.1 would refuse"

echo "# recipient cap, unknown command, message size"
out=$(dialog <<'S'
send EHLO client.example
send XFOO bar
send MAIL FROM:<alice@example.com>
send RCPT TO:<r1@example.org>
send RCPT TO:<r2@example.org>
send RCPT TO:<r3@example.org>
send RCPT TO:<r4@example.org>
send DATA
raw Subject: three recipients\r\n\r\nx\r\n.\r\n
reply
quit
S
)
check_eq "unknown: reply" "$(grep -E '^500' <<< "$out")" \
    "500 5.5.1 Command unrecognized"
check_eq "rcpt-cap: the fourth recipient" "$(grep -E '^452' <<< "$out")" \
    "452 4.5.3 Too many recipients"
sid=$(wait_session "$(session_port <<< "$out")")
check_eq "rcpt-cap: three accepted, message went through" \
    "$(q "SELECT recipients, outcome FROM messages WHERE session_id='$sid'")" \
    "r1@example.org, r2@example.org, r3@example.org, r4@example.org|accepted"
check_eq "rcpt-cap: the decision is on the fourth RCPT" \
    "$(q "SELECT e.text FROM events e JOIN decisions d USING (session_id, seq)
          WHERE e.session_id='$sid' AND d.rule='rcpt-cap'")" \
    "RCPT TO:<r4@example.org>"
python3 -c 'import sys; sys.stdout.write("Subject: big\r\n\r\n" + ("y" * 998 + "\r\n") * 120 + ".\r\n")' > "$WORK/big.eml"
out=$(dialog <<S
send EHLO client.example
send MAIL FROM:<alice@example.com>
send RCPT TO:<bob@example.org>
send DATA
rawfile $WORK/big.eml
reply
quit
S
)
check_eq "too-big: reply at end of data" "$(grep -E '^552' <<< "$out")" \
    "552 5.3.4 Message too big for us"

echo "# refusals decided at a header or end of headers, given at end of data"
out=$(dialog <<'S'
send EHLO client.example
send MAIL FROM:<alice@example.com>
send RCPT TO:<bob@example.org>
send DATA
raw Subject: buy SPAM now\r\nX-Other: 1\r\n\r\nx\r\n.\r\n
reply
send MAIL FROM:<needhdr@example.com>
send RCPT TO:<bob@example.org>
send DATA
raw Subject: fine\r\n\r\nx\r\n.\r\n
reply
send MAIL FROM:<needhdr@example.com>
send RCPT TO:<bob@example.org>
send DATA
raw Subject: fine\r\nX-Required: yes\r\n\r\nx\r\n.\r\n
reply
quit
S
)
check_eq "header: refused at end of data with the rule's text" \
    "$(grep -E '^550' <<< "$out")" "550 5.7.1 No spam here"
check_eq "eoh: tempfailed at end of data" "$(grep -E '^451' <<< "$out")" \
    "451 4.7.1 X-Required missing"
check_eq "eoh: with the header the message passes" \
    "$(grep -cE '^250 2\.0\.0 Ok: queued' <<< "$out")" "1"
sid=$(wait_session "$(session_port <<< "$out")")
check_eq "header: the decision is stored on the header event" \
    "$(q "SELECT e.text FROM events e JOIN decisions d USING (session_id, seq)
          WHERE e.session_id='$sid' AND d.rule='spam-subject'")" \
    "Subject: buy SPAM now"

echo "# C02: after a refusal at end of message the next message is clean"
out=$(dialog <<S
send EHLO client.example
send MAIL FROM:<alice@example.com>
send RCPT TO:<bob@example.org>
send DATA
rawfile $WORK/big.eml
reply
expect 552
send RSET
send MAIL FROM:<alice@example.com>
expect 250
send RCPT TO:<tagme@example.org>
expect 250
send DATA
raw Subject: small\r\n\r\nx\r\n.\r\n
reply
expect 250
quit
S
)
check_match "C02: the second message is accepted" \
    "$(grep -E '^250 2\.0\.0 Ok: queued' <<< "$out")" "queued as"
qid=$(sed -n 's/.*queued as \([0-9A-F]*\).*/\1/p' <<< "$out")
check_match "C32: a header decided at RCPT is added at end of message" \
    "$(maillog_wait "$qid: milter-header-warning: header X-Rcpt-Tag: decided at rcpt")" \
    "added by milter"

echo "# changes at end of message: add-header, quarantine, discard"
out=$(dialog <<'S'
send EHLO client.example
send MAIL FROM:<someone@tagged.example>
send RCPT TO:<bob@example.org>
send DATA
raw Subject: tag me\r\n\r\nx\r\n.\r\n
reply
expect 250
send MAIL FROM:<alice@example.com>
send RCPT TO:<bob@example.org>
send DATA
raw Subject: hold me\r\nX-Hold-Me: yes\r\n\r\nx\r\n.\r\n
reply
expect 250
send MAIL FROM:<drop@example.com>
send RCPT TO:<bob@example.org>
send DATA
raw Subject: drop me\r\n\r\nx\r\n.\r\n
reply
expect 250
quit
S
)
sid=$(wait_session "$(session_port <<< "$out")")
qids=($(sed -n 's/.*queued as \([0-9A-F]*\).*/\1/p' <<< "$out"))
check_match "add-header: Postfix saw the header" \
    "$(maillog_wait "${qids[0]}: milter-header-warning: header X-Warden: tagged someone@tagged.example")" \
    "added by milter"
check_match "quarantine: Postfix held the message" \
    "$(maillog_wait "${qids[1]}: milter-hold: .*milter triggers HOLD")" "HOLD"
check_match "discard: Postfix discarded the message" \
    "$(maillog_wait "${qids[2]}: milter-discard: .*milter triggers DISCARD")" \
    "DISCARD"
check_eq "changes: decisions stored at eom" \
    "$(q "SELECT group_concat(rule || '|' || reply, ' ; ') FROM (SELECT *
          FROM decisions WHERE session_id='$sid' AND stage='eom'
          ORDER BY seq)")" \
    "tag-it|X-Warden: tagged someone@tagged.example ; hold-it|held by rule ; drop-it|"
check_eq "changes: outcomes in the messages view" \
    "$(q "SELECT group_concat(outcome, ' ; ') FROM messages
          WHERE session_id='$sid'")" \
    "accepted ; accepted, quarantined by hold-it ; discard by drop-it"

echo "# rates: only accepted messages count, counters shared by sessions"
for n in 1 2 3; do
    out=$(dialog <<'S'
send EHLO client.example
send MAIL FROM:<burst@example.com>
send RCPT TO:<bob@example.org>
send DATA
raw Subject: burst\r\n\r\nx\r\n.\r\n
reply
quit
S
)
    last=$(grep -E '^(250 2\.0\.0|451)' <<< "$out" | head -1)
    [ "$n" -lt 3 ] && check_match "burst: message $n accepted" "$last" '^250'
done
check_eq "burst: the third MAIL is slowed down" "$last" "451 4.7.1 Slow down"

echo "# reload: an open session keeps its rules, new ones get the new set"
( dialog <<'S'
send EHLO keeper.example
sleep 4
send MAIL FROM:<multi@example.com>
quit
S
) > "$WORK/keeper.out" &
keeper=$!
sleep 1
write_rules enforce 'rule everything mail true -> reject 550 5.7.1 "new rules"'
kill -HUP "$SW_MILTER_PID"
for ((i = 0; i < 50; i++)); do
    grep -q 'reload rules=.* result=ok' "$SW_DIR/log/milter.log" && break
    sleep 0.1
done
out=$(dialog <<'S'
send EHLO newcomer.example
send MAIL FROM:<alice@example.com>
quit
S
)
check_eq "reload: a new session gets the new rules" \
    "$(grep -E '^550' <<< "$out")" "550 5.7.1 new rules"
wait "$keeper"
check_eq "reload: the open session kept its rule set" \
    "$(grep -E '^550' "$WORK/keeper.out" | tr '\n' '/')" \
    "550-5.7.1 first line/550 5.7.1 second line/"
kill -0 "$SW_MILTER_PID" && pass "reload: SIGHUP did not stop the milter" ||
    fail "reload: the milter died on SIGHUP"

echo "# a broken file on reload keeps the old rules, errors named"
cat >> "$WORK/rules/smtpwarden.rules" <<'BAD'
rule broken mail no.such.field == 1 -> reject 550 5.7.1 "x"
rule broken2 rcpt sender == "a" -> reject 450 4.7.1 "wrong class"
BAD
kill -HUP "$SW_MILTER_PID"
for ((i = 0; i < 50; i++)); do
    grep -q 'result=failed' "$SW_DIR/log/milter.log" && break
    sleep 0.1
done
check_match "broken: the error names file, line, column and reason" \
    "$(grep 'rules-error' "$SW_DIR/log/milter.log" | head -1)" \
    "smtpwarden.rules:[0-9]+:[0-9]+: unknown field \"no\.such\.field\""
check_match "broken: every error is reported" \
    "$(grep -c 'rules-error' "$SW_DIR/log/milter.log")" '^[2-9]'
out=$(dialog <<'S'
send EHLO after-broken.example
send MAIL FROM:<alice@example.com>
quit
S
)
check_eq "broken: the previous rules are still in force" \
    "$(grep -E '^550' <<< "$out")" "550 5.7.1 new rules"
err=$("$SW_MILTER_BIN" -n -c "$SW_CONF" 2>&1)
rc=$?
check_eq "broken: -n exits 78" "$rc" "78"
check_match "broken: -n prints every error" \
    "$(grep -c 'smtpwarden.rules:' <<< "$err")" '^2$'

echo "# monitor mode: would-have decisions, mail flows"
write_rules monitor
kill -HUP "$SW_MILTER_PID"
sleep 0.5
out=$(dialog <<'S'
send EHLO [192.0.2.99]
send MAIL FROM:<multi@example.com>
expect 250
quit
S
)
sid=$(wait_session "$(session_port <<< "$out")")
check_eq "monitor: nothing refused" "$(grep -cE '^5' <<< "$out")" "0"
check_eq "monitor: would-have decisions stored" \
    "$(q "SELECT group_concat(rule || '|' || mode, ' ; ') FROM (SELECT *
          FROM decisions WHERE session_id='$sid' ORDER BY seq)")" \
    "helo-literal|monitor ; multi-line|monitor"
check_match "monitor: hits per rule per day" \
    "$(q "SELECT enforced || '|' || would_have FROM rule_hits_per_day
          WHERE rule='helo-literal'")" '^1\|1$'

sw_summary
