# lib.sh - bash library for the integration tests: starts smtpwardend and
# smtpwarden-milter from the build tree on a private configuration,
# queries the SQLite file, and counts passed and failed assertions.
#
# Source it after harness.sh:
#
#     . tests/mta/harness.sh; . tests/mta/lib.sh
#     sw_setup "$WORKDIR"          # config, directories; exports SW_*
#     sw_start_daemon && sw_start_milter
#     H_MILTER=$SW_MILTER_CONN h_setup "$WORKDIR/pf" && h_start
#     port=$(dialog <<< "send EHLO x ..." | sed -n 's/^port //p')
#     sid=$(wait_session "$port")
#     check_eq "helo stored" "$(q "SELECT helo FROM sessions ...")" "x"
#     sw_summary                   # prints "N passed, N failed"
#
# The programs run as user nobody and group postfix, so that Postfix's
# smtpd (user postfix) can reach the milter socket, as on a real system
# where postfix is in smtpwarden's group.
# shellcheck shell=bash

SW_TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SW_TOP=${SW_TOP:-$(cd "$SW_TESTS_DIR/../.." && pwd)}
SW_MILTER_BIN=${SW_MILTER_BIN:-$SW_TOP/milter/smtpwarden-milter}
SW_DAEMON_BIN=${SW_DAEMON_BIN:-$SW_TOP/daemon/smtpwardend}
SW_PASSED=0
SW_FAILED=0
SW_DAEMON_PID=
SW_MILTER_PID=

# sw_test_begin NAME - as root: a work directory in WORK, and the cleanup
# that stops everything at exit (the directory is kept if a check failed
# or KEEP is set)
sw_test_begin() {
    [ "$(id -u)" -eq 0 ] || { echo "$1 must run as root" >&2; exit 77; }
    WORK=$(mktemp -d "/tmp/smtpwarden-$1.XXXXXX") || exit 1
    trap sw_test_end EXIT
}

sw_test_end() {
    declare -F h_stop >/dev/null && h_stop
    sw_stop_all
    if [ "$SW_FAILED" -eq 0 ] && [ -z "${KEEP:-}" ]; then
        rm -rf "$WORK"
    else
        echo "work directory kept: $WORK"
    fi
}

# sw_setup WORKDIR - configuration and directories under WORKDIR/sw
sw_setup() {
    SW_DIR=$1/sw
    mkdir -p "$SW_DIR/run" "$SW_DIR/db" "$SW_DIR/spool" "$SW_DIR/log"
    chmod 0755 "$1" "$SW_DIR"
    chown nobody:postfix "$SW_DIR/run" "$SW_DIR/db" "$SW_DIR/spool"
    chmod 0750 "$SW_DIR/run" "$SW_DIR/db" "$SW_DIR/spool"
    SW_CONF=$SW_DIR/smtpwarden.conf
    SW_DB=$SW_DIR/db/smtpwarden.db
    SW_MILTER_SOCK=$SW_DIR/run/milter.sock
    SW_DAEMON_SOCK=$SW_DIR/run/smtpwardend.sock
    SW_MILTER_CONN=unix:$SW_MILTER_SOCK
    cat > "$SW_CONF" <<CONF
# Written by the integration tests.
milter_socket = "$SW_MILTER_CONN"
daemon_socket = "$SW_DAEMON_SOCK"
database = "$SW_DB"
spool_dir = "$SW_DIR/spool"
user = "nobody"
group = "postfix"
log_level = "${SW_LOG_LEVEL:-debug}"
max_header_bytes = ${SW_MAX_HEADER_BYTES:-65536}
rules = "${SW_RULES:-}"
CONF
    export SW_DIR SW_CONF SW_DB SW_MILTER_SOCK SW_DAEMON_SOCK SW_MILTER_CONN
}

# wait_for_socket PATH SECONDS - until something accepts on a unix socket
# (a stale socket file from a killed process does not count)
wait_for_socket() {
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        if [ -S "$1" ] && python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])' "$1" 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    echo "socket $1 did not answer within $2 s" >&2
    return 1
}

# sw_start_daemon - smtpwardend in the foreground, log in SW_DIR/log
sw_start_daemon() {
    "$SW_DAEMON_BIN" -f -c "$SW_CONF" </dev/null \
        >>"$SW_DIR/log/daemon.log" 2>&1 &
    SW_DAEMON_PID=$!
    wait_for_socket "$SW_DAEMON_SOCK" 10 || { cat "$SW_DIR/log/daemon.log"; return 1; }
}

# sw_start_milter - smtpwarden-milter in the foreground
sw_start_milter() {
    "$SW_MILTER_BIN" -f -c "$SW_CONF" </dev/null \
        >>"$SW_DIR/log/milter.log" 2>&1 &
    SW_MILTER_PID=$!
    wait_for_socket "$SW_MILTER_SOCK" 10 || { cat "$SW_DIR/log/milter.log"; return 1; }
}

# stop_pid PID SECONDS - SIGTERM, wait, then SIGKILL; returns its status
stop_pid() {
    local pid=$1 i
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < $2 * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "pid $pid did not stop within $2 s; killing it" >&2
        kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
}

sw_stop_milter() { stop_pid "$SW_MILTER_PID" 20; local rc=$?; SW_MILTER_PID=; return $rc; }
sw_stop_daemon() { stop_pid "$SW_DAEMON_PID" 20; local rc=$?; SW_DAEMON_PID=; return $rc; }
sw_stop_all() { sw_stop_milter; sw_stop_daemon; }

# q SQL - one query against the test database, values separated by |
q() {
    sqlite3 -batch -noheader "$SW_DB" "$@"
}

# dialog - run smtpdialog.py against the private Postfix (script on stdin)
dialog() {
    timeout 120 python3 "$SW_TESTS_DIR/smtpdialog.py" "$H_PORT" "$@"
}

# wait_session PORT - session id of the client on PORT once it is closed
wait_session() {
    local i sid
    for ((i = 0; i < 100; i++)); do
        # Client ports are reused: the newest session on the port is ours.
        sid=$(q "SELECT session_id FROM sessions WHERE client_port = $1
                 AND ended_us IS NOT NULL ORDER BY started_us DESC LIMIT 1" \
                 2>/dev/null)
        if [ -n "$sid" ]; then
            echo "$sid"
            return 0
        fi
        sleep 0.1
    done
    echo "no closed session for client port $1 within 10 s" >&2
    return 1
}

pass() {
    SW_PASSED=$((SW_PASSED + 1))
    echo "ok - $1"
}

fail() {
    SW_FAILED=$((SW_FAILED + 1))
    echo "FAIL - $1"
}

# check_eq NAME GOT WANT
check_eq() {
    if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: got '$2', want '$3'"; fi
}

# check_match NAME GOT EXTENDED-REGEX
check_match() {
    if [[ $2 =~ $3 ]]; then pass "$1"; else fail "$1: got '$2', want /$3/"; fi
}

# sw_summary - the closing line, and the exit status
sw_summary() {
    echo "$SW_PASSED passed, $SW_FAILED failed"
    [ "$SW_FAILED" -eq 0 ]
}
