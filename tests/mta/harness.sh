# harness.sh - bash library for smtpwarden integration tests: runs a private,
# throw-away Postfix (plus a private Dovecot for SASL AUTH) on 127.0.0.1 so
# tests can send real SMTP sessions through smtpwarden-milter.
#
# Source it, do not execute it:
#
#     . tests/mta/harness.sh
#     H_MILTER=unix:/some/dir/milter.sock   # optional, before h_setup
#     h_setup "$(mktemp -d)"  || exit 1
#     trap h_stop EXIT
#     h_start                 || exit 1
#     h_swaks --to x@example.net --from y@example.com
#     grep status=sent "$(h_maillog)"
#
# Functions (all return 0 on success, non-zero with a message on stderr):
#   h_setup WORKDIR   create WORKDIR, configs, TLS cert; start Dovecot only.
#                     Exports H_DIR, H_PORT, H_AUTH_SOCKET.
#   h_start           postfix check + postfix start; waits for the port.
#   h_stop            stop Postfix and Dovecot (only the ones started here,
#                     by PID).  Idempotent, always returns 0, trap-safe.
#   h_maillog         print the path of Postfix's log file.
#   h_swaks ARGS...   swaks against the private Postfix, under a timeout;
#                     transcript on stdout, swaks' exit status returned.
#   h_postconf 'name = value'...
#                     change the private main.cf (extra helper; use before
#                     h_start, or follow it with h_reload).
#   h_reload          postfix reload of the private instance (extra helper).
#
# Environment read: H_MILTER (becomes smtpd_milters; may be empty/unset),
# H_SWAKS_TIMEOUT (seconds, default 60).
#
# Requirements: run as root; postfix, dovecot-core, swaks,
# libnet-ssleay-perl, openssl.  WORKDIR and every directory above it must be
# searchable by the "postfix" and "dovecot" users (h_setup checks this), and
# so must the directory holding a unix: milter socket, and the socket itself
# must be writable by user "postfix" (smtpd runs as postfix).
#
# Safe for callers using "set -u", "set -e" or "pipefail"; sets no shell
# options and writes nothing outside WORKDIR.
# shellcheck shell=bash

# Hostname the private Postfix announces and the certificate is made for.
H_HOSTNAME=mail.test.example

# Internal: print a message on stderr.
_h_err() {
    printf 'harness: %s\n' "$*" >&2
}

# Internal: true if PID exists and is not a zombie (a daemon whose parent is
# the container's init can stay a zombie for a while after it exited).
_h_alive() {
    local state
    [ -n "$1" ] || return 1
    kill -0 "$1" 2>/dev/null || return 1
    state=$(sed -n 's/^[0-9]* (.*) \([A-Za-z]\).*/\1/p' "/proc/$1/stat" 2>/dev/null)
    [ "$state" != Z ]
}

# Internal: true if PID is alive and its command name is COMM.
_h_pid_is() {
    local pid=$1 comm=$2 actual
    _h_alive "$pid" || return 1
    actual=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
    [ "$actual" = "$comm" ]
}

# Internal: wait up to TENTHS tenths of a second for PID to exit.
_h_wait_gone() {
    local pid=$1 tenths=$2 i=0
    while _h_alive "$pid"; do
        [ "$i" -ge "$tenths" ] && return 1
        sleep 0.1
        i=$((i + 1))
    done
    return 0
}

# Internal: PIDs of processes whose session id is SID (daemons that called
# setsid() are session leaders; their children stay in that session).
_h_session_pids() {
    local sid=$1
    ps -e -o pid=,sid=,stat= 2>/dev/null |
        while read -r p s st; do
            if [ "$s" = "$sid" ] && [ "$p" != "$sid" ] && [ "${st#Z}" = "$st" ]; then
                printf '%s\n' "$p"
            fi
        done
}

# Internal: after a daemon's master PID is gone, give the rest of its
# session SID up to TENTHS tenths of a second to exit, then SIGKILL the rest.
_h_reap_session() {
    local sid=$1 tenths=$2 i=0 left
    while :; do
        left=$(_h_session_pids "$sid")
        [ -z "$left" ] && return 0
        [ "$i" -ge "$tenths" ] && break
        sleep 0.1
        i=$((i + 1))
    done
    _h_err "killing leftover processes of session $sid: ${left//$'\n'/ }"
    # shellcheck disable=SC2086
    kill -KILL $left 2>/dev/null || true
    return 0
}

# Internal: print a free TCP port on 127.0.0.1.
_h_free_port() {
    local port i
    if command -v python3 >/dev/null 2>&1; then
        port=$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()' 2>/dev/null) && [ -n "$port" ] && { printf '%s\n' "$port"; return 0; }
    fi
    # Fallback: probe random high ports until nothing answers.
    for i in $(seq 1 200); do
        port=$((20000 + RANDOM % 40000))
        if ! _h_port_listening "$port" &&
            ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            printf '%s\n' "$port"
            return 0
        fi
    done
    return 1
}

# Internal: true if something listens on 127.0.0.1:PORT (or 0.0.0.0:PORT).
# Reads /proc/net/tcp so that no SMTP session (and so no milter session) is
# opened just to find out.
_h_port_listening() {
    local hex
    hex=$(printf '%04X' "$1")
    [ -r /proc/net/tcp ] || return 2
    awk -v a="0100007F:$hex" -v b="00000000:$hex" \
        'NR > 1 && $4 == "0A" && ($2 == a || $2 == b) { found = 1 }
         END { exit !found }' /proc/net/tcp
}

# Internal: true if USER can search (traverse) DIR and every parent.
_h_user_can_reach() {
    local user=$1 dir=$2
    runuser -u "$user" -- test -x "$dir" 2>/dev/null
}

h_setup() {
    if [ $# -ne 1 ] || [ -z "$1" ]; then
        _h_err "usage: h_setup WORKDIR"
        return 2
    fi
    if [ -n "${H_DIR:-}" ] && { [ -f "${H_DIR}/state/postfix.pid" ] || [ -f "${H_DIR}/state/dovecot.pid" ]; }; then
        _h_err "an instance in $H_DIR is still running; call h_stop first"
        return 1
    fi
    if [ "$(id -u)" -ne 0 ]; then
        _h_err "must run as root (private Postfix and Dovecot)"
        return 1
    fi
    local tool
    for tool in postfix postconf dovecot swaks openssl runuser timeout; do
        if ! command -v "$tool" >/dev/null 2>&1; then
            _h_err "$tool not found"
            return 1
        fi
    done

    local dir=$1
    case $dir in
        /*) ;;
        *) dir=$(pwd)/$dir ;;
    esac
    case $dir in
        *[[:space:]\{\},#\$]*)
            _h_err "WORKDIR must not contain spaces or any of { } , # \$: $dir"
            return 1 ;;
    esac
    mkdir -p "$dir" || return 1
    dir=$(cd "$dir" && pwd -P) || return 1
    # Postfix (user postfix) and Dovecot (user dovecot) must reach sockets
    # and files in here.
    chmod 0755 "$dir" || return 1
    if ! _h_user_can_reach postfix "$dir" || ! _h_user_can_reach dovecot "$dir"; then
        _h_err "users postfix and dovecot cannot reach $dir (a parent directory is not searchable); use a WORKDIR under /tmp"
        return 1
    fi

    local port
    port=$(_h_free_port) || { _h_err "no free TCP port found"; return 1; }

    export H_DIR=$dir
    export H_PORT=$port
    export H_AUTH_SOCKET=$dir/dovecot-run/auth-client

    mkdir -p "$dir/tls" "$dir/pf-conf" "$dir/pf-queue" "$dir/pf-data" \
        "$dir/dovecot-conf" "$dir/dovecot-state" "$dir/state" "$dir/log" ||
        return 1
    # data_directory belongs to the mail_owner (Postfix does not fix it).
    chown postfix: "$dir/pf-data" && chmod 0700 "$dir/pf-data" || return 1

    # --- TLS: self-signed certificate for STARTTLS -------------------------
    if ! openssl req -x509 -newkey rsa:2048 -nodes -days 30 \
        -subj "/CN=$H_HOSTNAME" -addext "subjectAltName=DNS:$H_HOSTNAME" \
        -keyout "$dir/tls/key.pem" -out "$dir/tls/cert.pem" \
        </dev/null >"$dir/log/openssl.log" 2>&1; then
        _h_err "openssl req failed:"
        cat "$dir/log/openssl.log" >&2
        return 1
    fi
    chmod 0600 "$dir/tls/key.pem"
    chmod 0644 "$dir/tls/cert.pem"

    # --- Dovecot: SASL authentication only ---------------------------------
    cat >"$dir/dovecot-conf/users" <<'EOF'
alice@example.com:{PLAIN}alicepw
bob:{PLAIN}bobpw
EOF
    chmod 0644 "$dir/dovecot-conf/users"
    cat >"$dir/dovecot-conf/dovecot.conf" <<EOF
# Private Dovecot for smtpwarden tests: SASL for Postfix only, no mail service.
protocols = none
base_dir = $dir/dovecot-run
state_dir = $dir/dovecot-state
instance_name = smtpwarden-test-$port
log_path = $dir/log/dovecot.log
info_log_path = $dir/log/dovecot.log
debug_log_path = $dir/log/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_verbose = yes
auth_failure_delay = 0
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $dir/dovecot-conf/users
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=/nonexistent
}
# No brute-force slow-down: tests fail AUTH on purpose and then log in again
# from the same address (with it, every AUTH waits 2 s, 4 s, ... up to 15 s).
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
service auth {
  unix_listener auth-client {
    mode = 0660
    user = postfix
    group = postfix
  }
}
EOF
    if ! dovecot -c "$dir/dovecot-conf/dovecot.conf" \
        </dev/null >"$dir/log/dovecot-start.log" 2>&1; then
        _h_err "dovecot failed to start:"
        cat "$dir/log/dovecot-start.log" "$dir/log/dovecot.log" >&2 2>/dev/null
        return 1
    fi
    local i=0 dpid=
    while :; do
        if [ -z "$dpid" ] && [ -s "$dir/dovecot-run/master.pid" ]; then
            dpid=$(cat "$dir/dovecot-run/master.pid")
            printf '%s\n' "$dpid" >"$dir/state/dovecot.pid"
        fi
        [ -n "$dpid" ] && [ -S "$H_AUTH_SOCKET" ] && break
        if [ "$i" -ge 100 ]; then
            _h_err "dovecot did not create $H_AUTH_SOCKET within 10 s:"
            cat "$dir/log/dovecot.log" >&2 2>/dev/null
            return 1
        fi
        sleep 0.1
        i=$((i + 1))
    done

    # --- Postfix -------------------------------------------------------------
    cat >"$dir/pf-conf/main.cf" <<EOF
# Private Postfix for smtpwarden tests (generated by tests/mta/harness.sh).
# Nothing is delivered anywhere: every transport is discard:.
compatibility_level = 3.6
queue_directory = $dir/pf-queue
data_directory = $dir/pf-data
mail_owner = postfix
setgid_group = postdrop
maillog_file = $dir/log/maillog
maillog_file_prefixes = $dir
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = $H_HOSTNAME
mydomain = test.example
myorigin = \$myhostname
mydestination =
local_recipient_maps =
relay_domains =
alias_maps =
alias_database =
default_transport = discard:
relay_transport = discard:
local_transport = discard:
virtual_transport = discard:
mynetworks = 127.0.0.0/8
biff = no
append_dot_mydomain = no
smtpd_banner = \$myhostname ESMTP
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 100
smtpd_hard_error_limit = 100
smtpd_recipient_limit = 20000
smtpd_delay_reject = yes
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject
smtpd_recipient_restrictions =
    check_recipient_access inline:{ {rejected@example.org = 550 5.1.1 No such user here} },
    permit_mynetworks, permit_sasl_authenticated, reject
smtpd_tls_security_level = may
smtpd_tls_cert_file = $dir/tls/cert.pem
smtpd_tls_key_file = $dir/tls/key.pem
smtpd_tls_auth_only = no
smtpd_tls_loglevel = 1
smtpd_tls_received_header = yes
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = $H_AUTH_SOCKET
smtpd_milters = ${H_MILTER:-}
non_smtpd_milters =
milter_default_action = tempfail
milter_protocol = 6
EOF
    cat >"$dir/pf-conf/master.cf" <<EOF
# Private Postfix services for smtpwarden tests: chroot n everywhere (so unix
# socket paths are used as written), and no smtp/lmtp/local/virtual delivery
# agents at all, so mail cannot leave the machine.
# service  type  private unpriv  chroot  wakeup  maxproc command
127.0.0.1:$port inet n - n - - smtpd
pickup     unix  n       -       n       60      1       pickup
cleanup    unix  n       -       n       -       0       cleanup
qmgr       unix  n       -       n       300     1       qmgr
tlsmgr     unix  -       -       n       1000?   1       tlsmgr
rewrite    unix  -       -       n       -       -       trivial-rewrite
bounce     unix  -       -       n       -       0       bounce
defer      unix  -       -       n       -       0       bounce
trace      unix  -       -       n       -       0       bounce
verify     unix  -       -       n       -       1       verify
flush      unix  n       -       n       1000?   0       flush
proxymap   unix  -       -       n       -       -       proxymap
proxywrite unix  -       -       n       -       1       proxymap
showq      unix  n       -       n       -       -       showq
error      unix  -       -       n       -       -       error
retry      unix  -       -       n       -       -       error
discard    unix  -       -       n       -       -       discard
anvil      unix  -       -       n       -       1       anvil
scache     unix  -       -       n       -       1       scache
postlog    unix-dgram n  -       n       -       1       postlogd
EOF
    chmod 0644 "$dir/pf-conf/main.cf" "$dir/pf-conf/master.cf"
    return 0
}

h_maillog() {
    if [ -z "${H_DIR:-}" ]; then
        _h_err "h_maillog: h_setup has not run"
        return 1
    fi
    printf '%s\n' "$H_DIR/log/maillog"
}

# Internal: print the logs that explain a failed Postfix command.
_h_pf_failure() {
    _h_err "$1; output and maillog follow:"
    cat "$H_DIR/log/postfix-cmd.log" >&2 2>/dev/null
    cat "$H_DIR/log/maillog" >&2 2>/dev/null
}

h_start() {
    if [ -z "${H_DIR:-}" ] || [ ! -f "${H_DIR}/pf-conf/main.cf" ]; then
        _h_err "h_start: h_setup has not run"
        return 1
    fi
    local conf=$H_DIR/pf-conf pid i
    if [ -f "$H_DIR/state/postfix.pid" ] &&
        _h_pid_is "$(cat "$H_DIR/state/postfix.pid")" master; then
        _h_err "h_start: Postfix is already running"
        return 1
    fi
    : >"$H_DIR/log/postfix-cmd.log"
    if ! postfix -c "$conf" check </dev/null >>"$H_DIR/log/postfix-cmd.log" 2>&1; then
        _h_pf_failure "postfix check failed"
        return 1
    fi
    if ! postfix -c "$conf" start </dev/null >>"$H_DIR/log/postfix-cmd.log" 2>&1; then
        _h_pf_failure "postfix start failed"
        return 1
    fi
    pid=$(tr -d ' ' <"$H_DIR/pf-queue/pid/master.pid" 2>/dev/null)
    if ! _h_pid_is "$pid" master; then
        _h_pf_failure "postfix master is not running after start"
        return 1
    fi
    printf '%s\n' "$pid" >"$H_DIR/state/postfix.pid"
    # Wait for the listener without connecting: a probe connection would be
    # a real SMTP session and reach the milter.
    local st
    i=0
    while :; do
        st=0
        _h_port_listening "$H_PORT" || st=$?
        case $st in
            0) break ;;
            2) # no /proc/net/tcp: fall back to a connection probe
                if (exec 3<>"/dev/tcp/127.0.0.1/$H_PORT") 2>/dev/null; then
                    break
                fi ;;
        esac
        if [ "$i" -ge 200 ]; then
            _h_pf_failure "nothing listens on 127.0.0.1:$H_PORT after 20 s"
            return 1
        fi
        sleep 0.1
        i=$((i + 1))
    done
    return 0
}

h_reload() {
    if [ -z "${H_DIR:-}" ]; then
        _h_err "h_reload: h_setup has not run"
        return 1
    fi
    if ! postfix -c "$H_DIR/pf-conf" reload </dev/null >>"$H_DIR/log/postfix-cmd.log" 2>&1; then
        _h_pf_failure "postfix reload failed"
        return 1
    fi
}

h_postconf() {
    if [ -z "${H_DIR:-}" ]; then
        _h_err "h_postconf: h_setup has not run"
        return 1
    fi
    postconf -c "$H_DIR/pf-conf" -e "$@"
}

h_stop() {
    local dir=${H_DIR:-} pid
    [ -n "$dir" ] && [ -d "$dir/state" ] || return 0

    if [ -f "$dir/state/postfix.pid" ]; then
        pid=$(cat "$dir/state/postfix.pid" 2>/dev/null)
        if _h_pid_is "$pid" master; then
            postfix -c "$dir/pf-conf" stop </dev/null >>"$dir/log/postfix-cmd.log" 2>&1 || true
            if ! _h_wait_gone "$pid" 150; then
                _h_err "postfix master $pid did not stop within 15 s; killing it"
                if _h_pid_is "$pid" master; then kill -KILL "$pid" 2>/dev/null || true; fi
                _h_wait_gone "$pid" 50 || true
            fi
        fi
        # Postfix daemons still busy with a session exit on their own once
        # the master is gone; do not leave any behind.
        [ -n "$pid" ] && _h_reap_session "$pid" 100
        rm -f "$dir/state/postfix.pid"
    fi

    if [ -f "$dir/state/dovecot.pid" ]; then
        pid=$(cat "$dir/state/dovecot.pid" 2>/dev/null)
        if _h_pid_is "$pid" dovecot; then
            kill -TERM "$pid" 2>/dev/null || true
            if ! _h_wait_gone "$pid" 100; then
                _h_err "dovecot $pid did not stop within 10 s; killing it"
                if _h_pid_is "$pid" dovecot; then kill -KILL "$pid" 2>/dev/null || true; fi
                _h_wait_gone "$pid" 50 || true
            fi
        fi
        [ -n "$pid" ] && _h_reap_session "$pid" 50
        rm -f "$dir/state/dovecot.pid"
    fi
    return 0
}

h_swaks() {
    if [ -z "${H_PORT:-}" ]; then
        _h_err "h_swaks: h_setup has not run"
        return 1
    fi
    local rc=0
    timeout "${H_SWAKS_TIMEOUT:-60}" \
        swaks --server 127.0.0.1 --port "$H_PORT" --timeout 30 "$@" 2>&1 || rc=$?
    return "$rc"
}
