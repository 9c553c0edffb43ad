#!/bin/bash
# harness-selftest.sh - checks tests/mta/harness.sh itself, with no milter:
# starts the private Postfix + Dovecot, sends mail with swaks and checks the
# SMTP replies and Postfix's maillog (plain delivery, STARTTLS, AUTH PLAIN and
# LOGIN, a bad password, a recipient rejected by Postfix), then a second
# instance whose milter socket does not exist (milter_default_action).
# Prints "N passed, N failed"; exit 0 if all passed, 1 if not, 77 (skip) if
# not root or the MTA packages are missing.  Set H_KEEP=1 to keep the work
# directories for inspection.

set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$here/harness.sh"

if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP: must run as root"
    exit 77
fi
for tool in postfix dovecot swaks openssl; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "SKIP: $tool not installed"
        exit 77
    fi
done
if ! perl -MNet::SSLeay -e 1 2>/dev/null; then
    echo "SKIP: Net::SSLeay (libnet-ssleay-perl) not installed"
    exit 77
fi

passed=0
failed=0
workdirs=()
started=$SECONDS

ok() {
    passed=$((passed + 1))
    printf 'ok     %s\n' "$1"
}

not_ok() {
    failed=$((failed + 1))
    printf 'FAILED %s\n' "$1"
    if [ -n "${2:-}" ]; then
        printf '%s\n' "$2" | sed 's/^/       | /'
    fi
}

# check NAME TEXT ERE... : every ERE must match somewhere in TEXT.
check() {
    local name=$1 text=$2 re
    shift 2
    for re in "$@"; do
        if ! printf '%s\n' "$text" | grep -Eq -- "$re"; then
            not_ok "$name (missing /$re/)" "$text"
            return 1
        fi
    done
    ok "$name"
}

# check_absent NAME TEXT ERE : ERE must not match anywhere in TEXT.
check_absent() {
    if printf '%s\n' "$2" | grep -Eq -- "$3"; then
        not_ok "$1 (unexpected /$3/)" "$2"
        return 1
    fi
    ok "$1"
}

# wait_log ERE : wait up to 10 s for ERE in the maillog (postlogd writes
# asynchronously); prints the matching lines.
wait_log() {
    local i=0
    while [ "$i" -lt 100 ]; do
        if grep -E -- "$1" "$(h_maillog)" 2>/dev/null; then
            return 0
        fi
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

# check_log NAME ERE : ERE shows up in the maillog.
check_log() {
    if wait_log "$2" >/dev/null; then
        ok "$1"
    else
        not_ok "$1 (maillog lacks /$2/)" "$(tail -n 20 "$(h_maillog)" 2>/dev/null)"
    fi
}

# queue_id TEXT : the queue id from swaks' "250 ... queued as ID" line.
queue_id() {
    printf '%s\n' "$1" | sed -n 's/.*<[-~]  250 .*queued as \([0-9A-Za-z]*\).*/\1/p' | tail -n 1
}

cleanup() {
    h_stop
    if [ "${H_KEEP:-0}" = 1 ]; then
        echo "work directories kept: ${workdirs[*]}"
    else
        local d
        for d in "${workdirs[@]}"; do
            rm -rf -- "$d"
        done
    fi
}
trap cleanup EXIT

# --- instance 1: no milter ---------------------------------------------------
unset H_MILTER
w1=$(mktemp -d)
workdirs+=("$w1")
if ! h_setup "$w1"; then
    not_ok "h_setup (no milter)"
    echo "$passed passed, $failed failed"
    exit 1
fi
ok "h_setup (no milter), port $H_PORT"
check "main.cf: smtpd_milters empty" \
    "$(postconf -c "$H_DIR/pf-conf" -h smtpd_milters)" '^$'
if ! h_start; then
    not_ok "h_start (no milter)"
    echo "$passed passed, $failed failed"
    exit 1
fi
ok "h_start (no milter)"

from=sender@example.com

# Plain message, no TLS, no AUTH.
out=$(h_swaks --from "$from" --to plain@example.net --helo client.test.example </dev/null)
rc=$?
check "plain: swaks exit 0 and 250 queued" "rc=$rc
$out" '^rc=0$' '<[-~]  250 2\.0\.0 Ok: queued as '
qid=$(queue_id "$out")
if [ -n "$qid" ]; then
    check_log "plain: maillog status=sent (discard)" \
        "$qid: to=<plain@example\.net>, relay=none, .*status=sent"
else
    not_ok "plain: no queue id in swaks output" "$out"
fi
check_absent "plain: no TLS used" "$out" 'TLS started'

# STARTTLS.
out=$(h_swaks --tls --from "$from" --to tls@example.net </dev/null)
rc=$?
check "starttls: handshake and 250 queued" "rc=$rc
$out" '^rc=0$' '<-  220 2\.0\.0 Ready to start TLS' '=== TLS started with cipher' \
    '<[-~]  250 2\.0\.0 Ok: queued as '
check_log "starttls: maillog TLS connection established" \
    'TLS connection established from localhost\[127\.0\.0\.1\]'
qid=$(queue_id "$out")
[ -n "$qid" ] && check_log "starttls: maillog status=sent" \
    "$qid: to=<tls@example\.net>, .*status=sent"

# AUTH PLAIN and AUTH LOGIN, good credentials.
for mech in PLAIN LOGIN; do
    out=$(h_swaks --auth "$mech" --auth-user alice@example.com --auth-password alicepw \
        --from "$from" --to "auth-$mech@example.net" </dev/null)
    rc=$?
    check "auth $mech alice: 235 and 250 queued" "rc=$rc
$out" '^rc=0$' "-> AUTH $mech" '<[-~]  235 2\.7\.0 Authentication successful' \
        '<[-~]  250 2\.0\.0 Ok: queued as '
    check_log "auth $mech alice: maillog sasl_username" \
        "client=localhost\[127\.0\.0\.1\], sasl_method=$mech, sasl_username=alice@example\.com"
done

# bob has no domain part.
out=$(h_swaks --auth PLAIN --auth-user bob --auth-password bobpw \
    --from "$from" --to auth-bob@example.net </dev/null)
rc=$?
check "auth PLAIN bob: 235" "rc=$rc
$out" '^rc=0$' '<[-~]  235 2\.7\.0 Authentication successful'

# AUTH with a wrong password.
for mech in PLAIN LOGIN; do
    out=$(h_swaks --auth "$mech" --auth-user alice@example.com --auth-password wrongpw \
        --from "$from" --to badauth@example.net </dev/null)
    rc=$?
    check "auth $mech wrong password: 535, swaks fails" "rc=$rc
$out" '^rc=[1-9][0-9]*$' '<\*\* +535 5\.7\.8 '
    check_log "auth $mech wrong password: maillog" \
        "SASL $mech authentication failed"
done

# Recipient rejected by Postfix itself, next to an accepted one.
out=$(h_swaks --from "$from" --to rejected@example.org,kept@example.net </dev/null)
rc=$?
check "rejected rcpt: 550 5.1.1 for one, 250 for the other, message queued" "rc=$rc
$out" '^rc=0$' '<\*\* +550 5\.1\.1 <rejected@example\.org>: Recipient address rejected: No such user here' \
    '-> RCPT TO:<kept@example\.net>' '<[-~]  250 2\.1\.5 Ok' '<[-~]  250 2\.0\.0 Ok: queued as '
check_log "rejected rcpt: maillog NOQUEUE reject" \
    'NOQUEUE: reject: RCPT from localhost\[127\.0\.0\.1\]: 550 5\.1\.1 <rejected@example\.org>'
qid=$(queue_id "$out")
if [ -n "$qid" ]; then
    check_log "rejected rcpt: other recipient delivered" \
        "$qid: to=<kept@example\.net>, .*status=sent"
    check_log "rejected rcpt: message has one recipient" "$qid: from=<$from>, .*nrcpt=1 "
fi

# Nothing went to a real transport.
check_absent "no smtp/local delivery attempted" "$(cat "$(h_maillog)")" \
    'postfix/(smtp|local|lmtp|virtual)\['

pf_pid=$(cat "$H_DIR/state/postfix.pid")
dc_pid=$(cat "$H_DIR/state/dovecot.pid")
port1=$H_PORT
h_stop
if kill -0 "$pf_pid" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$pf_pid/stat" 2>/dev/null)" != Z ]; then
    not_ok "h_stop: postfix master $pf_pid still running"
elif kill -0 "$dc_pid" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$dc_pid/stat" 2>/dev/null)" != Z ]; then
    not_ok "h_stop: dovecot $dc_pid still running"
elif _h_port_listening "$port1"; then
    not_ok "h_stop: port $port1 still listening"
else
    ok "h_stop: postfix and dovecot gone, port closed"
fi
if h_stop; then ok "h_stop again (idempotent)"; else not_ok "h_stop again"; fi

# --- instance 2: milter socket that does not exist ---------------------------
w2=$(mktemp -d)
workdirs+=("$w2")
H_MILTER=unix:$w2/absent-milter.sock
if h_setup "$w2" && h_start; then
    ok "h_setup + h_start with H_MILTER=$H_MILTER"
    check "main.cf: smtpd_milters from H_MILTER" \
        "$(postconf -c "$H_DIR/pf-conf" -h smtpd_milters)" "^unix:$w2/absent-milter\.sock\$"
    out=$(h_swaks --from "$from" --to m@example.net </dev/null)
    rc=$?
    check "absent unix milter: 451 4.7.1 at MAIL (tempfail)" "rc=$rc
$out" '^rc=[1-9][0-9]*$' '<\*\* +451 4\.7\.1 '
    check_log "absent unix milter: maillog connect warning" \
        "warning: connect to Milter service unix:$w2/absent-milter\.sock: No such file or directory"

    # Same via h_postconf + h_reload, with an inet: milter nobody listens on.
    dead_port=$(_h_free_port)
    if h_postconf "smtpd_milters = inet:127.0.0.1:$dead_port" && h_reload; then
        ok "h_postconf + h_reload"
        sleep 1   # reload is asynchronous; let old smtpd processes go
        out=$(h_swaks --from "$from" --to m2@example.net </dev/null)
        rc=$?
        check "absent inet milter: 451 4.7.1 at MAIL" "rc=$rc
$out" '^rc=[1-9][0-9]*$' '<\*\* +451 4\.7\.1 '
        check_log "absent inet milter: maillog connect warning" \
            "warning: connect to Milter service inet:127\.0\.0\.1:$dead_port: Connection refused"
    else
        not_ok "h_postconf + h_reload"
    fi
else
    not_ok "h_setup + h_start with H_MILTER=$H_MILTER"
fi
h_stop

echo "selftest took $((SECONDS - started)) s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
