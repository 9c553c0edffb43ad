#!/bin/bash
# durability.sh - fault tests through a real, private Postfix: load from
# smtp-source while smtpwardend is killed, stopped, locked out of its
# database by an auditor, or stopped with SIGTERM; spool files torn and
# corrupted; a spool directory that cannot be written.  Every check
# reads the SQLite file (and Postfix's own log) as a user would: what
# Postfix accepted is stored, once, with no gaps.
#
# Run as root from a built tree: tests/mta/durability.sh
# Sizes (bounded; defaults keep the run near two minutes on two cores):
#   SW_STORM_MSGS (3000), SW_STORM_KILLS (5), SW_OUTAGE_MSGS (1000),
#   SW_AUDIT_MSGS (800), SW_TERM_MSGS (4000, cut short by the milter stop).
# Ends with "N passed, N failed"; exit status 0 only if nothing failed.
set -u

here=$(cd "$(dirname "$0")" && pwd)
. "$here/harness.sh"
. "$here/lib.sh"

sw_test_begin dur
command -v smtp-source >/dev/null ||
    { echo "smtp-source not found (Debian: postfix)" >&2; exit 1; }

STORM_MSGS=${SW_STORM_MSGS:-3000}
STORM_KILLS=${SW_STORM_KILLS:-5}
OUTAGE_MSGS=${SW_OUTAGE_MSGS:-1000}
AUDIT_MSGS=${SW_AUDIT_MSGS:-800}
TERM_MSGS=${SW_TERM_MSGS:-4000}
# No scenario may run longer than this many seconds.
LOAD_TIMEOUT=300

# The load still running and a spool left unwritable go first.
SRC_PID=
dur_end() {
    [ -n "$SRC_PID" ] && kill "$SRC_PID" 2>/dev/null
    [ -d "${SW_DIR:-}/spool" ] && chmod 0750 "$SW_DIR/spool"
    sw_test_end
}
trap dur_end EXIT

SW_LOG_LEVEL=info sw_setup "$WORK" || exit 1
# Short busy timeout, so an auditor's lock shows as store-busy quickly;
# a high-water mark a few seconds of load reach.
cat >> "$SW_CONF" <<'CONF'
busy_timeout_ms = 300
queue_high_water = 2000
shutdown_timeout_ms = 10000
CONF
SPOOL=$SW_DIR/spool
MLOG=$SW_DIR/log/milter.log
DLOG=$SW_DIR/log/daemon.log
sw_start_daemon || exit 1
sw_start_milter || exit 1
H_MILTER=$SW_MILTER_CONN
h_setup "$WORK/pf" >/dev/null || exit 1
h_postconf "smtpd_client_connection_rate_limit = 0" \
    "smtpd_client_connection_count_limit = 0" >/dev/null
h_start || exit 1
MAILLOG=$(h_maillog)

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# load NAME COUNT [ARGS] - smtp-source in the background, sender NAME@
load() {
    timeout "$LOAD_TIMEOUT" smtp-source -s 10 -m "$2" ${3:-} \
        -f "$1@example.com" -t "rcpt@example.org" "127.0.0.1:$H_PORT" \
        >"$WORK/$1.out" 2>&1 &
    SRC_PID=$!
}

# load_wait - the exit status of the background load
load_wait() {
    wait "$SRC_PID"
    local rc=$?
    SRC_PID=
    return $rc
}

# stored NAME - completed transactions of sender NAME in the database
stored() {
    q "SELECT count(*) FROM transactions WHERE sender = '$1@example.com'
       AND state = 'completed'" 2>/dev/null
}

# accepted_qids NAME - queue ids Postfix accepted from NAME, sorted
accepted_qids() {
    local re="s/.*postfix\/qmgr\[[0-9]*\]: \([0-9A-F]*\): "
    sed -n "${re}from=<$1@example.com>.*/\1/p" "$MAILLOG" | sort -u
}

# stored_qids NAME - queue ids of NAME's completed messages, sorted
stored_qids() {
    q "SELECT queue_id FROM transactions WHERE sender = '$1@example.com'
       AND state = 'completed'" | sort -u
}

spool_files() { find "$SPOOL" -maxdepth 1 -name '*.spool' | wc -l; }
spool_bytes() { find "$SPOOL" -maxdepth 1 -name '*.spool' -printf '%s\n' |
    awk '{ s += $1 } END { print s + 0 }'; }

# open_sessions NAME - sessions of sender NAME without their close
open_sessions() {
    q "SELECT count(*) FROM sessions s WHERE ended_us IS NULL AND EXISTS
       (SELECT 1 FROM transactions t WHERE t.session_id = s.session_id
       AND t.sender = '$1@example.com')"
}

# wait_stored NAME WANT SECONDS [OPEN] - until WANT messages are stored,
# at most OPEN (default 0) sessions unclosed, and the spool empty; true
# if that happened in time
wait_stored() {
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        if [ "$(stored "$1")" = "$2" ] && [ "$(spool_files)" = 0 ] &&
           [ "$(open_sessions "$1")" -le "${4:-0}" ]; then
            return 0
        fi
        sleep 0.1
    done
    return 1
}

# wait_maillog NAME WANT - until Postfix has logged WANT messages of NAME
wait_maillog() {
    local i
    for ((i = 0; i < 100; i++)); do
        [ "$(accepted_qids "$1" | wc -l)" -ge "$2" ] && return 0
        sleep 0.1
    done
    return 1
}

# settled_count NAME - the number of NAME's messages Postfix accepted,
# once its log has stopped growing (qmgr logs a little after the 250)
settled_count() {
    local i n prev=-1
    for ((i = 0; i < 30; i++)); do
        n=$(accepted_qids "$1" | wc -l)
        [ "$n" = "$prev" ] && break
        prev=$n
        sleep 0.5
    done
    echo "$n"
}

# check_complete NAME N [OPEN] - what a user checks after a fault: N
# messages stored and N sessions closed (or more, up to OPEN sessions
# cut short by a milter stop), the same queue ids Postfix logged, every
# session whole (sequence 1..max without a gap), nothing stored twice
check_complete() {
    local name=$1 n=$2
    wait_maillog "$name" "$n"
    check_eq "$name: messages stored" "$(stored "$name")" "$n"
    if [ -z "${3:-}" ]; then
        check_eq "$name: sessions stored, all closed" \
            "$(q "SELECT count(DISTINCT s.session_id) FROM sessions s JOIN
                  transactions t USING (session_id) WHERE t.sender =
                  '$name@example.com' AND s.ended_us IS NOT NULL")" "$n"
    fi
    check_eq "$name: the queue ids Postfix logged are the ones stored" \
        "$(accepted_qids "$name" | md5sum)" "$(stored_qids "$name" | md5sum)"
    check_eq "$name: every session's events run 1..max without a gap" \
        "$(q "SELECT count(*) FROM (SELECT e.session_id FROM events e
              JOIN transactions t USING (session_id) WHERE t.sender =
              '$name@example.com' GROUP BY e.session_id
              HAVING count(*) != max(e.seq) OR min(e.seq) != 1)")" "0"
    check_eq "$name: no (session, sequence) stored twice" \
        "$(q "SELECT count(*) FROM (SELECT session_id, seq FROM events
              GROUP BY session_id, seq HAVING count(*) > 1)")" "0"
    check_eq "$name: no record applied twice (recipients, HELO counts)" \
        "$(q "SELECT count(*) FROM transactions t JOIN sessions s
              USING (session_id) WHERE t.sender = '$name@example.com'
              AND t.state = 'completed'
              AND (t.n_recipients != 1 OR s.helo_count != 1
              OR (SELECT count(*) FROM recipients r WHERE
                  r.session_id = t.session_id) != 1)")" "0"
}

# log_since FILE MARK - the lines of FILE after line MARK
log_since() { tail -n +$(($2 + 1)) "$1"; }
lines() { wc -l < "$1"; }

echo "# 1. load while smtpwardend is killed with SIGKILL $STORM_KILLS times"
t0=$(now)
load storm "$STORM_MSGS"
kills=0
for ((k = 0; k < STORM_KILLS; k++)); do
    sleep 1
    kill -0 "$SRC_PID" 2>/dev/null || break
    kill -KILL "$SW_DAEMON_PID"
    wait "$SW_DAEMON_PID" 2>/dev/null
    kills=$((kills + 1))
    sleep 0.3
    sw_start_daemon || fail "storm: daemon restart $kills"
done
load_wait
check_eq "storm: smtp-source sent everything without an error" "$?" "0"
load_s=$(since "$t0")
check_eq "storm: the daemon was killed under load $STORM_KILLS times" \
    "$kills" "$STORM_KILLS"
t1=$(now)
wait_stored storm "$STORM_MSGS" 120
catchup_s=$(since "$t1")
check_complete storm "$STORM_MSGS"
check_match "storm: the milter spooled while the daemon was away" \
    "$(grep -c 'spooling reason=' "$MLOG")" '^[1-9]'
per_session=$(q "SELECT max(seq) FROM events e JOIN transactions t
                 USING (session_id) WHERE t.sender = 'storm@example.com'
                 GROUP BY e.session_id" | sort -u)
check_match "storm: every session has the same number of events" \
    "$per_session" '^[0-9]+$'
echo "# figures: storm sent=$STORM_MSGS kills=$kills stored=$(stored storm)" \
    "events=$(q "SELECT count(*) FROM events e JOIN transactions t
        USING (session_id) WHERE t.sender = 'storm@example.com'")" \
    "load_s=$load_s caught_up_after_load_s=$catchup_s"

echo "# 2. daemon stopped for a whole load, the milter crashes, both restart"
sw_stop_daemon
check_eq "outage: daemon SIGTERM exits 0" "$?" "0"
t0=$(now)
load outage "$OUTAGE_MSGS"
load_wait
check_eq "outage: smtp-source sent everything without an error" "$?" "0"
load_s=$(since "$t0")
# Everything is on disk once the spool stops growing.
prev=-1
for ((i = 0; i < 100; i++)); do
    cur=$(spool_bytes)
    [ "$cur" = "$prev" ] && break
    prev=$cur
    sleep 0.5
done
files=$(spool_files)
check_match "outage: the records are in spool files" "$files" '^[1-9]'
old_instance=$(find "$SPOOL" -maxdepth 1 -name '*.spool' -printf '%f\n' |
    sort | tail -1 | cut -d- -f2)
kill -KILL "$SW_MILTER_PID"
wait "$SW_MILTER_PID" 2>/dev/null
SW_MILTER_PID=
sw_start_milter || fail "outage: milter restart"
check_eq "outage: nothing reached the database meanwhile" \
    "$(stored outage)" "0"
spooled=$(spool_bytes)
t1=$(now)
sw_start_daemon || fail "outage: daemon start"
wait_stored outage "$OUTAGE_MSGS" 120
drain_s=$(since "$t1")
check_complete outage "$OUTAGE_MSGS"
check_eq "outage: stored under the instance id of the milter that spooled" \
    "$(q "SELECT group_concat(DISTINCT e.instance_id) FROM events e JOIN
          transactions t USING (session_id) WHERE t.sender =
          'outage@example.com'")" "$old_instance"
echo "# figures: outage sent=$OUTAGE_MSGS stored=$(stored outage)" \
    "spool_files=$files spool_bytes=$spooled load_s=$load_s" \
    "drain_s=$drain_s"

echo "# 3. a spool file torn mid-frame and one with a flipped byte"
sw_stop_daemon
load torn 5 "-s 1"
load_wait
sleep 0.5
sw_stop_milter
check_eq "damage: milter SIGTERM with the daemon away exits 0" "$?" "0"
sw_start_milter
load flip 5 "-s 1"
load_wait
sleep 0.5
sw_stop_milter
mapfile -t damaged < <(find "$SPOOL" -maxdepth 1 -name '*.spool' \
    -printf '%f\n' | sort)
check_match "damage: spool files from two milter runs" \
    "$(printf '%s\n' "${damaged[@]}" | cut -d- -f2 | sort -u | wc -l)" '^2$'
last=${damaged[${#damaged[@]} - 1]}
# Cut the oldest file inside its last frame; flip a payload byte in the
# middle frame of the newest.  Frames are parsed as spool.h documents
# them; the good ones are listed as "session seq".
python3 - "${damaged[@]/#/$SPOOL/}" > "$WORK/damage.txt" <<'PY'
import struct, sys

def uint(b, i):
    t = b[i]
    if t < 0x80:
        return t, i + 1
    size = {0xcc: 1, 0xcd: 2, 0xce: 4, 0xcf: 8}[t]
    return int.from_bytes(b[i + 1:i + 1 + size], "big"), i + 1 + size

def frames(path):
    b = open(path, "rb").read()
    off, out = 0, []
    while off < len(b):
        assert b[off:off + 4] == b"\x89SWS", (path, off)
        n = struct.unpack(">I", b[off + 8:off + 12])[0]
        p = b[off + 20:off + 20 + n]
        i = 1                           # past the array header
        _, i = uint(p, i)               # version
        _, i = uint(p, i)               # instance
        sess, i = uint(p, i)
        seq, i = uint(p, i)
        out.append((off, 20 + n, "%016x" % sess, seq))
        off += 20 + n
    return out

files = [frames(p) for p in sys.argv[1:]]
torn, flip = files[0], files[-1]
t = torn[-1]
v = flip[len(flip) // 2]
with open(sys.argv[1], "r+b") as f:
    f.truncate(t[0] + t[1] // 2)
with open(sys.argv[-1], "r+b") as f:
    f.seek(v[0] + 20 + 3)
    c = f.read(1)
    f.seek(v[0] + 20 + 3)
    f.write(bytes([c[0] ^ 0x01]))
print("torn %d" % t[0])
print("flip %d" % v[0])
print("frames %d" % sum(len(x) for x in files))
for fr in [x for fs in files for x in fs]:
    print("%s %s %d" % ("lost" if fr is t or fr is v else "good",
                        fr[2], fr[3]))
PY
torn_off=$(sed -n 's/^torn //p' "$WORK/damage.txt")
flip_off=$(sed -n 's/^flip //p' "$WORK/damage.txt")
sessions=$(awk '$1 == "good" || $1 == "lost" { print "'\''" $2 "'\''" }' \
    "$WORK/damage.txt" | sort -u | paste -sd, -)
mark=$(lines "$MLOG")
sw_start_daemon
sw_start_milter
for ((i = 0; i < 100 && $(spool_files) > 0; i++)); do sleep 0.1; done
check_eq "damage: both files replayed and removed" "$(spool_files)" "0"
check_match "damage: the torn frame is named with file and offset" \
    "$(log_since "$MLOG" "$mark" |
       grep -F "spool-corrupt file=${damaged[0]} offset=$torn_off ")" \
    'torn write'
check_match "damage: the flipped frame is named with file and offset" \
    "$(log_since "$MLOG" "$mark" |
       grep -F "spool-corrupt file=$last offset=$flip_off ")" \
    'checksum mismatch'
check_eq "damage: exactly the good frames are stored, before and after" \
    "$(q "SELECT session_id || ' ' || seq FROM events WHERE session_id IN
          ($sessions)" | sort | md5sum)" \
    "$(sed -n 's/^good //p' "$WORK/damage.txt" | sort | md5sum)"
echo "# figures: damage frames=$(sed -n 's/^frames //p' "$WORK/damage.txt")" \
    "stored=$(q "SELECT count(*) FROM events
                 WHERE session_id IN ($sessions)")" \
    "skipped=2"

echo "# 4. an auditor holds BEGIN EXCLUSIVE for 4 s under load"
dmark=$(lines "$DLOG")
mmark=$(lines "$MLOG")
t0=$(now)
load audit "$AUDIT_MSGS"
sleep 1
lock_out=$( (printf '.timeout 10000\nBEGIN EXCLUSIVE;\nSELECT 42;\n'
             sleep 4
             printf 'COMMIT;\n') | sqlite3 "$SW_DB" 2>&1)
check_eq "audit: the auditor got and released the lock" "$lock_out" "42"
load_wait
check_eq "audit: smtp-source sent everything without an error" "$?" "0"
wait_stored audit "$AUDIT_MSGS" 120
catchup_s=$(since "$t0")
check_complete audit "$AUDIT_MSGS"
check_match "audit: the daemon said it was busy and not acknowledging" \
    "$(log_since "$DLOG" "$dmark" | grep 'store-busy')" \
    'nothing acknowledged'
check_match "audit: and that it recovered" \
    "$(log_since "$DLOG" "$dmark" | grep -c 'store-recovered')" '^[1-9]'
check_match "audit: the milter spooled above the high-water mark" \
    "$(log_since "$MLOG" "$mmark" |
       grep -c 'queue above queue_high_water\|daemon-slow')" \
    '^[1-9]'
echo "# figures: audit sent=$AUDIT_MSGS stored=$(stored audit)" \
    "lock_s=4 all_stored_after_s=$catchup_s"

echo "# 5. a spool directory that cannot be written"
# 5a. on_store_failure = tempfail (the default): clients see 451.
sw_stop_daemon
chmod 0500 "$SPOOL"
mmark=$(lines "$MLOG")
before=$(q "SELECT count(*) FROM sessions WHERE ended_us IS NOT NULL")
# The first session finds out; it may itself see 451 or not.
timeout 30 smtp-source -m 1 -f probe@example.com -t rcpt@example.org \
    "127.0.0.1:$H_PORT" >"$WORK/probe.out" 2>&1
for ((i = 0; i < 50; i++)); do
    log_since "$MLOG" "$mmark" | grep -q 'store-failing action=tempfail' &&
        break
    sleep 0.1
done
check_match "tempfail: the milter says what it does and why" \
    "$(log_since "$MLOG" "$mmark" | grep 'store-failing')" \
    'action=tempfail .*Permission denied'
out=$(dialog <<'S'
send EHLO tempfail.example
send MAIL FROM:<tempfail@example.com>
send RCPT TO:<rcpt@example.org>
quit
S
)
check_match "tempfail: the client sees 451 4.3.0" "$out" \
    $'\n451 4\\.3\\.0 Transcript store unavailable'
chmod 0750 "$SPOOL"
sw_start_daemon
for ((i = 0; i < 100; i++)); do
    [ "$(q "SELECT count(*) FROM sessions WHERE ended_us IS NOT NULL")" = \
      $((before + 2)) ] && break
    sleep 0.1
done
check_eq "tempfail: the sessions held in memory meanwhile are stored" \
    "$(q "SELECT count(*) FROM sessions WHERE ended_us IS NOT NULL")" \
    "$((before + 2))"
check_match "tempfail: and the milter says it recovered" \
    "$(log_since "$MLOG" "$mmark" | grep -c 'store-recovered')" '^[1-9]'

# 5b. on_store_failure = accept: mail goes on, losses are counted.
sw_stop_milter
sed -e '/^queue_high_water/d' "$SW_CONF" > "$WORK/accept.conf"
printf '%s\n' 'on_store_failure = "accept"' 'queue_max_records = 100' \
    'queue_high_water = 100' >> "$WORK/accept.conf"
conf=$SW_CONF
SW_CONF=$WORK/accept.conf
sw_start_milter
SW_CONF=$conf
sw_stop_daemon
chmod 0500 "$SPOOL"
mmark=$(lines "$MLOG")
t_us=$(date +%s%6N)
load accept 30 "-s 2"
load_wait
check_eq "accept: smtp-source sent everything (no tempfail)" "$?" "0"
wait_maillog accept 30
check_eq "accept: Postfix accepted all 30 messages" \
    "$(accepted_qids accept | wc -l)" "30"
check_match "accept: the milter says it accepts and loses" \
    "$(log_since "$MLOG" "$mmark" | grep 'store-failing')" 'action=accept'
check_match "accept: lost records are logged" \
    "$(log_since "$MLOG" "$mmark" | grep -c 'record-lost')" '^[1-9]'
# The spool stays unwritable: with nothing spooled, what the milter kept
# goes to the daemon directly.
sw_start_daemon
sleep 2
sw_stop_milter
chmod 0750 "$SPOOL"
lost=$(log_since "$MLOG" "$mmark" |
    sed -n 's/.*shutdown .*lost_total=\([0-9]*\).*/\1/p' | tail -1)
kept=$(q "SELECT count(*) FROM events WHERE time_us >= $t_us")
check_match "accept: some records were lost" "${lost:-0}" '^[1-9]'
if [[ $per_session =~ ^[0-9]+$ ]]; then
    check_eq "accept: stored + counted as lost = all records made" \
        "$((kept + ${lost:-0}))" "$((30 * per_session))"
else
    fail "accept: no record count per session from scenario 1"
fi
echo "# figures: accept records_made=$((30 * ${per_session%%[^0-9]*}))" \
    "stored=$kept lost=${lost:-?}"
sw_start_milter

echo "# 6. SIGTERM to the daemon, then to the milter, under load"
# smtp-source stops at the first 4xx, which Postfix gives while no
# milter answers (milter_default_action = tempfail); a second load after
# the restart sends the rest.
t0=$(now)
load term "$TERM_MSGS"
sleep 1
ts=$(now)
sw_stop_daemon
check_eq "term: daemon SIGTERM under load exits 0" "$?" "0"
dstop_s=$(since "$ts")
check_eq "term: the daemon logged a clean stop" \
    "$(tail -1 "$DLOG" | grep -c ' stop records=')" "1"
sleep 0.3
sw_start_daemon
sleep 1
kill -0 "$SRC_PID" 2>/dev/null && pass "term: still under load" ||
    fail "term: the load ended before the milter's SIGTERM"
ts=$(now)
sw_stop_milter
check_eq "term: milter SIGTERM under load exits 0" "$?" "0"
mstop_s=$(since "$ts")
check_match "term: the milter shipped or spooled its whole queue" \
    "$(grep 'shutdown queue=' "$MLOG" | tail -1)" 'queue=empty'
sleep 0.5
sw_start_milter
load_wait
first=$(settled_count term)
load term 300
load_wait
check_eq "term: after the restarts smtp-source runs clean" "$?" "0"
n=$(settled_count term)
check_match "term: Postfix accepted messages before the stop" "$first" \
    '^[1-9][0-9]+$'
# The sessions open in the milter when it stopped have no close; Postfix
# tempfailed their messages, so none of them is in its log.
wait_stored term "$n" 120 10
check_complete term "$n" open
check_match "term: at most the 10 sessions open at the stop lack a close" \
    "$(open_sessions term)" '^([0-9]|10)$'
echo "# figures: term accepted=$n (before the milter stop: $first)" \
    "stored=$(stored term) daemon_stop_s=$dstop_s milter_stop_s=$mstop_s" \
    "load_s=$(since "$t0")"

echo "# 7. spool_policy = always: every record passes through the spool"
sw_stop_milter
cp "$SW_CONF" "$WORK/always.conf"
printf 'spool_policy = "always"\nspool_fsync = "close"\n' >> "$WORK/always.conf"
conf=$SW_CONF
SW_CONF=$WORK/always.conf
sw_start_milter
SW_CONF=$conf
mmark=$(lines "$MLOG")
load always 300
load_wait
check_eq "always: smtp-source sent everything without an error" "$?" "0"
wait_stored always 300 60
check_complete always 300
check_match "always: the records came through spool files" \
    "$(log_since "$MLOG" "$mmark" | grep -c 'spool-replayed')" '^[1-9]'
check_eq "always: and never directly" \
    "$(log_since "$MLOG" "$mmark" | grep -c 'spool-drained')" "0"
sw_stop_milter
check_eq "always: SIGTERM exits 0" "$?" "0"
sw_start_milter

sw_summary
