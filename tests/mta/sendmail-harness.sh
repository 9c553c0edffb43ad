# sendmail-harness.sh - bash library for smtpwarden integration tests: runs
# a private, throw-away Sendmail on 127.0.0.1 (and ::1) with the milter,
# SMTP AUTH against a private sasldb, STARTTLS with a test CA, and
# delivery that never leaves the queue.
#
# Debian's sendmail-bin conflicts with postfix, so it is not installed:
# sendmail-bin, sendmail-cf and sendmail-base are fetched with
# "apt-get download" (cached in S_DEB_CACHE) and unpacked with "dpkg -x"
# into the work directory; sendmail.cf is built from that tree's
# cf/m4/cf.m4.
#
# Source it, do not execute it:
#
#     . tests/mta/sendmail-harness.sh
#     S_MILTER=unix:/some/dir/milter.sock     # before s_setup
#     s_setup "$(mktemp -d)" || exit 1
#     trap s_stop EXIT
#     s_start || exit 1
#     s_dialog "$S_PORT" < script             # tests/mta/smtpdialog.py
#     port=$(s_bs_port)                       # one "sendmail -bs" session
#
# Functions (0 on success, non-zero with a message on stderr):
#   s_setup WORKDIR   unpack Sendmail, write sendmail.cf, TLS files and the
#                     sasldb.  Exports S_DIR, S_PORT, S_PORT6 (empty when
#                     ::1 is not usable), S_CA, S_CLIENT_CERT, S_CLIENT_KEY.
#   s_start           sendmail -bD (foreground daemon); waits for the port.
#   s_stop            stop the daemon and what it started, by PID;
#                     idempotent, always 0, trap-safe.
#   s_bs_port         start a one-shot relay that runs "sendmail -bs" over
#                     pipes (no socket, so Sendmail sees no client address)
#                     for the next connection to the printed 127.0.0.1 port.
#   s_dialog PORT     tests/mta/smtpdialog.py against PORT, bounded.
#   s_swaks ARGS...   swaks against the private Sendmail, bounded.
#
# Environment read: S_MILTER (the milter's socket, "unix:PATH" or
# "inet:PORT@HOST"; empty: no milter), S_DEB_CACHE (where the .debs are
# kept; default /var/cache/smtpwarden-tests/sendmail).
#
# How the pieces are made safe and private:
#   - Sendmail runs in its own UTS and mount namespaces (unshare, as
#     root): the host name is mail.test.example there (an unqualifiable
#     name makes Sendmail sleep 60 s at start), and /etc/hosts and the
#     Cyrus SASL configuration directory are bind-mounted from WORKDIR
#     there only; nothing outside WORKDIR is written.
#   - DeliveryMode queueonly, no queue runner, noetrn/noverb, the local
#     mailer is /bin/true and all remote mail goes to the smart host
#     [127.0.0.2] port 9 (not 127.0.0.1: an address of this host counts
#     as local and would be skipped): nothing is delivered and nothing
#     leaves the machine.
#   - The milter socket may live under /tmp: DontBlameSendmail has
#     TrustStickyBit (Sendmail refuses sockets below a world-writable
#     directory otherwise).
#   - rejected@example.org is refused at RCPT with 550 5.1.1 by a local
#     check_rcpt rule.
#   - Users alice@example.com / alicepw and bob@example.com / bobpw.
#
# Requirements: root, apt-get (for the first download), dpkg, m4,
# unshare and mount (util-linux), hostname, openssl, saslpasswd2
# (sasl2-bin), libsasl2-modules, python3, swaks.
# Safe for callers using "set -u"; sets no shell options.
# shellcheck shell=bash

S_HOSTNAME=mail.test.example
S_HARNESS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Internal: a message on stderr.
_s_err() {
    printf 'sendmail-harness: %s\n' "$*" >&2
}

# Internal: true if PID is alive and not a zombie.
_s_alive() {
    local state
    [ -n "$1" ] || return 1
    kill -0 "$1" 2>/dev/null || return 1
    state=$(sed -n 's/^[0-9]* (.*) \([A-Za-z]\).*/\1/p' "/proc/$1/stat" 2>/dev/null)
    [ "$state" != Z ]
}

# Internal: wait up to TENTHS tenths of a second for PID to go.
_s_wait_gone() {
    local pid=$1 tenths=$2 i=0
    while _s_alive "$pid"; do
        [ "$i" -ge "$tenths" ] && return 1
        sleep 0.1
        i=$((i + 1))
    done
    return 0
}

# Internal: the PIDs whose parent is PID, recursively (one ps snapshot).
_s_descendants() {
    ps -e -o pid=,ppid= 2>/dev/null | awk -v root="$1" '
        { parent[$1] = $2; pids[NR] = $1 }
        END {
            want[root] = 1
            do {
                added = 0
                for (i = 1; i <= NR; i++) {
                    p = pids[i]
                    if (!(p in want) && (parent[p] in want)) {
                        want[p] = 1
                        added = 1
                        print p
                    }
                }
            } while (added)
        }'
}

# Internal: a free TCP port on ADDR (127.0.0.1 or ::1), or failure.
_s_free_port() {
    python3 - "$1" <<'PY' 2>/dev/null
import socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam)
s.bind((sys.argv[1], 0))
print(s.getsockname()[1])
s.close()
PY
}

# Internal: true if something listens on PORT (IPv4 or IPv6 loopback),
# read from /proc so that no SMTP session reaches the milter.
_s_listening() {
    local hex
    hex=$(printf '%04X' "$1")
    cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
        awk -v p=":$hex" '$4 == "0A" && substr($2, length($2) - 4) == p \
            { found = 1 } END { exit !found }'
}

# Internal: fetch the three .debs into the cache unless they are there.
_s_fetch_debs() {
    local cache=$1 p missing=
    mkdir -p "$cache" || return 1
    for p in sendmail-bin sendmail-cf sendmail-base; do
        ls "$cache/${p}_"*.deb >/dev/null 2>&1 || missing="$missing $p"
    done
    [ -z "$missing" ] && return 0
    # apt-get download writes into the current directory.
    # shellcheck disable=SC2086
    if ! (cd "$cache" && apt-get download -q $missing) \
        >"$cache/download.log" 2>&1; then
        # Fresh machines have no package lists yet.
        apt-get update -q >>"$cache/download.log" 2>&1
        # shellcheck disable=SC2086
        if ! (cd "$cache" && apt-get download -q $missing) \
            >>"$cache/download.log" 2>&1; then
            _s_err "apt-get download$missing failed:"
            cat "$cache/download.log" >&2
            return 1
        fi
    fi
}

# Internal: replace the calling (sub)shell with "$@" run inside private
# UTS and mount namespaces, with the test host name, /etc/hosts and the
# SASL configuration from S_DIR.  Call it last, or in a subshell.
_s_ns() {
    exec unshare --uts --mount --propagation private -- /bin/sh -c '
        hostname "$1" &&
        mount --bind "$2/etc/hosts" /etc/hosts &&
        mount --bind "$2/sasl" "$3" || exit 71
        shift 3
        exec "$@"' s_ns "$S_HOSTNAME" "$S_DIR" "$_S_SASL_DIR" "$@"
}

# Internal: the TLS files: a CA, a server and a client certificate.
_s_tls() {
    local t=$1/tls
    mkdir -p "$t" || return 1
    if ! (
        cd "$t" &&
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
            -nodes -days 30 -subj "/O=Example Test CA/CN=Test CA" \
            -keyout ca.key -out ca.pem &&
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
            -subj "/CN=$S_HOSTNAME" \
            -keyout server.key -out server.csr &&
        printf 'subjectAltName=DNS:%s\n' "$S_HOSTNAME" >server.ext &&
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key \
            -CAcreateserial -days 30 -extfile server.ext -out server.pem &&
        # A space and a "+" in the client's name: Sendmail xtext-encodes
        # both in {cert_subject}.
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
            -subj '/O=Example Org/OU=R\+D/CN=Test Client' \
            -keyout client.key -out client.csr &&
        openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key \
            -CAcreateserial -days 30 -out client.pem
    ) </dev/null >"$1/log/openssl.log" 2>&1; then
        _s_err "openssl failed:"
        cat "$1/log/openssl.log" >&2
        return 1
    fi
    chmod 0600 "$t"/*.key
}

# Internal: the private sasldb and Cyrus SASL's Sendmail.conf.
_s_sasl() {
    local d=$1/sasl
    mkdir -p "$d" || return 1
    printf 'alicepw' | saslpasswd2 -p -f "$d/sasldb2" -c -u example.com \
        alice || return 1
    printf 'bobpw' | saslpasswd2 -p -f "$d/sasldb2" -c -u example.com \
        bob || return 1
    chmod 0600 "$d/sasldb2"
    cat >"$d/Sendmail.conf" <<EOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
sasldb_path: $d/sasldb2
mech_list: PLAIN LOGIN
EOF
    chmod 0644 "$d/Sendmail.conf"
}

# Internal: sendmail.mc, turned into sendmail.cf by the unpacked m4.
_s_config() {
    local dir=$1 cf=$1/root/usr/share/sendmail/cf filter='' v6=''
    if [ -n "${S_MILTER:-}" ]; then
        filter="INPUT_MAIL_FILTER(\`smtpwarden', \`S=$S_MILTER, F=T, T=C:10s;S:20s;R:30s;E:1m')dnl"
    fi
    if [ -n "$S_PORT6" ]; then
        v6="DAEMON_OPTIONS(\`Family=inet6, Name=MTA6, Port=$S_PORT6, Addr=::1')dnl"
    fi
    printf '127.0.0.1 localhost\n::1 localhost\n127.0.0.1 %s\n' \
        "$S_HOSTNAME" >"$dir/etc/hosts"
    printf 'hosts files\naliases files\npasswd files\n' \
        >"$dir/etc/service.switch"
    : >"$dir/etc/aliases"
    cp "$dir/root/etc/mail/helpfile" "$dir/etc/helpfile" || return 1
    # m4 quotes: ` opens, ' closes.
    cat >"$dir/etc/sendmail.mc" <<EOF
divert(-1)
# Private Sendmail for smtpwarden tests (tests/mta/sendmail-harness.sh).
divert(0)dnl
VERSIONID(\`smtpwarden tests')dnl
define(\`PROCMAIL_MAILER_PATH', \`/bin/true')dnl
OSTYPE(\`linux')dnl
define(\`confDOMAIN_NAME', \`$S_HOSTNAME')dnl
define(\`QUEUE_DIR', \`$dir/mqueue')dnl
define(\`confPID_FILE', \`$dir/state/sendmail.pid')dnl
define(\`STATUS_FILE', \`$dir/state/statistics')dnl
define(\`ALIAS_FILE', \`$dir/etc/aliases')dnl
define(\`HELP_FILE', \`$dir/etc/helpfile')dnl
define(\`confSERVICE_SWITCH_FILE', \`$dir/etc/service.switch')dnl
define(\`confHOSTS_FILE', \`$dir/etc/hosts')dnl
define(\`confDELIVERY_MODE', \`queueonly')dnl
define(\`confPRIVACY_FLAGS', \`authwarnings,noetrn,noverb')dnl
define(\`confDONT_BLAME_SENDMAIL', \`TrustStickyBit')dnl
define(\`confTO_IDENT', \`0s')dnl
define(\`confMAX_DAEMON_CHILDREN', \`20')dnl
define(\`confREFUSE_LA', \`0')dnl
define(\`confQUEUE_LA', \`0')dnl
define(\`confMIN_FREE_BLOCKS', \`0')dnl
define(\`SMART_HOST', \`[127.0.0.2]')dnl
define(\`SMTP_MAILER_ARGS', \`TCP \$h 9')dnl
define(\`ESMTP_MAILER_ARGS', \`TCP \$h 9')dnl
define(\`SMTP8_MAILER_ARGS', \`TCP \$h 9')dnl
define(\`DSMTP_MAILER_ARGS', \`TCP \$h 9')dnl
define(\`RELAY_MAILER_ARGS', \`TCP \$h 9')dnl
define(\`LOCAL_MAILER_PATH', \`/bin/true')dnl
define(\`LOCAL_MAILER_ARGS', \`true')dnl
define(\`confCACERT_PATH', \`$dir/tls')dnl
define(\`confCACERT', \`$dir/tls/ca.pem')dnl
define(\`confSERVER_CERT', \`$dir/tls/server.pem')dnl
define(\`confSERVER_KEY', \`$dir/tls/server.key')dnl
define(\`confAUTH_MECHANISMS', \`PLAIN LOGIN')dnl
TRUST_AUTH_MECH(\`PLAIN LOGIN')dnl
define(\`confMILTER_LOG_LEVEL', \`14')dnl
FEATURE(\`nocanonify')dnl
FEATURE(\`accept_unresolvable_domains')dnl
FEATURE(\`accept_unqualified_senders')dnl
FEATURE(\`no_default_msa')dnl
DAEMON_OPTIONS(\`Family=inet, Name=MTA, Port=$S_PORT, Addr=127.0.0.1')dnl
$v6
$filter
MAILER(\`local')dnl
MAILER(\`smtp')dnl
LOCAL_RULESETS
SLocal_check_rcpt
R\$* rejected @ example.org \$*	\$#error \$@ 5.1.1 \$: "550 No such user here"
EOF
    if ! m4 -D_CF_DIR_="$cf/" "$cf/m4/cf.m4" "$dir/etc/sendmail.mc" \
        >"$dir/etc/sendmail.cf" 2>"$dir/log/m4.log"; then
        _s_err "m4 failed on sendmail.mc:"
        cat "$dir/log/m4.log" >&2
        return 1
    fi
    chmod 0644 "$dir/etc/sendmail.cf"
}

# Internal: the relay behind s_bs_port, written once per work directory.
_s_relay_script() {
    cat >"$1/bs-relay.py" <<'PY'
# bs-relay.py - accept one connection on 127.0.0.1 and relay it to a
# command's stdin/stdout over pipes, as a local user would run
# "sendmail -bs"; prints the port first.  A reset from the client closes
# the command's stdin.
import os, socket, subprocess, sys, threading
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(1)
srv.settimeout(60)
print(srv.getsockname()[1], flush=True)
try:
    conn, _ = srv.accept()
except socket.timeout:
    sys.exit(1)
srv.close()
cmd = subprocess.Popen(sys.argv[1:], stdin=subprocess.PIPE,
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
def up():
    try:
        while True:
            data = conn.recv(65536)
            if not data:
                break
            cmd.stdin.write(data)
            cmd.stdin.flush()
    except OSError:
        pass
    try:
        cmd.stdin.close()
    except OSError:
        pass
t = threading.Thread(target=up, daemon=True)
t.start()
while True:
    data = os.read(cmd.stdout.fileno(), 65536)
    if not data:
        break
    try:
        conn.sendall(data)
    except OSError:
        break
try:
    conn.shutdown(socket.SHUT_WR)
except OSError:
    pass
try:
    cmd.wait(timeout=60)
except subprocess.TimeoutExpired:
    cmd.kill()
conn.close()
PY
}

s_setup() {
    if [ $# -ne 1 ] || [ -z "$1" ]; then
        _s_err "usage: s_setup WORKDIR"
        return 2
    fi
    if [ "$(id -u)" -ne 0 ]; then
        _s_err "must run as root (namespaces, bind mounts, queue owner)"
        return 1
    fi
    local tool
    for tool in dpkg m4 unshare mount hostname openssl saslpasswd2 python3 \
        swaks timeout; do
        if ! command -v "$tool" >/dev/null 2>&1; then
            _s_err "$tool not found (tests/install-deps installs it)"
            return 1
        fi
    done
    local dir=$1 cache=${S_DEB_CACHE:-/var/cache/smtpwarden-tests/sendmail}
    case $dir in
        /*) ;;
        *) dir=$(pwd)/$dir ;;
    esac
    case $dir in
        *[[:space:]\`\'\$\"\\]*)
            _s_err "WORKDIR must not contain spaces, quotes or \$: $dir"
            return 1 ;;
    esac
    mkdir -p "$dir" && dir=$(cd "$dir" && pwd -P) || return 1
    chmod 0755 "$dir" || return 1
    export S_DIR=$dir
    mkdir -p "$dir/root" "$dir/etc" "$dir/state" "$dir/log" \
        "$dir/mqueue" || return 1
    # Sendmail insists on a queue directory only its owner may write.
    chmod 0700 "$dir/mqueue"

    # Cyrus SASL reads <dir>/Sendmail.conf from the first of its
    # configuration directories that has one; the last of them is
    # replaced in Sendmail's namespace, so none before it may have one.
    _S_SASL_DIR=/usr/lib/sasl2
    local d
    for d in /etc/sasl2 /etc/sasl /usr/lib/*/sasl2; do
        if [ -e "$d/Sendmail.conf" ]; then
            _s_err "$d/Sendmail.conf exists and would take precedence"
            return 1
        fi
    done
    if [ ! -d "$_S_SASL_DIR" ]; then
        _s_err "$_S_SASL_DIR missing (package libsasl2-2)"
        return 1
    fi

    _s_fetch_debs "$cache" || return 1
    local p deb
    for p in sendmail-bin sendmail-cf sendmail-base; do
        # The newest one, should the cache hold several versions.
        deb=$(ls -v "$cache/${p}_"*.deb | tail -1)
        dpkg -x "$deb" "$dir/root" || { _s_err "dpkg -x $deb failed"; return 1; }
    done
    export S_BIN=$dir/root/usr/libexec/sendmail/sendmail

    S_PORT=$(_s_free_port 127.0.0.1) || { _s_err "no free port"; return 1; }
    S_PORT6=$(_s_free_port ::1) || S_PORT6=
    export S_PORT S_PORT6
    _s_tls "$dir" || return 1
    export S_CA=$dir/tls/ca.pem S_CLIENT_CERT=$dir/tls/client.pem \
        S_CLIENT_KEY=$dir/tls/client.key
    _s_sasl "$dir" || { _s_err "saslpasswd2 failed"; return 1; }
    _s_config "$dir" || return 1
    _s_relay_script "$dir"
    # The unpacked binary runs (its libraries are there) and reads the
    # configuration; only in the namespace, where the host name is
    # qualified (else it sleeps 60 s).
    if ! (_s_ns "$S_BIN" -C "$dir/etc/sendmail.cf" -d0.1 -bt) </dev/null \
        >"$dir/log/version.log" 2>&1 ||
        ! grep -q '^Version 8\.' "$dir/log/version.log"; then
        _s_err "the unpacked $S_BIN does not run:"
        cat "$dir/log/version.log" >&2
        return 1
    fi
    return 0
}

s_start() {
    if [ -z "${S_DIR:-}" ] || [ ! -f "$S_DIR/etc/sendmail.cf" ]; then
        _s_err "s_start: s_setup has not run"
        return 1
    fi
    if [ -f "$S_DIR/state/daemon.pid" ] &&
        _s_alive "$(cat "$S_DIR/state/daemon.pid")"; then
        _s_err "s_start: Sendmail is already running"
        return 1
    fi
    # -bD: daemon in the foreground, so the PID is ours (the background
    # subshell execs it); -X traces the SMTP traffic for failure reports
    # (there is no syslog here).
    _s_ns "$S_BIN" -C "$S_DIR/etc/sendmail.cf" -bD \
        -X "$S_DIR/log/smtp-trace.log" \
        </dev/null >>"$S_DIR/log/sendmail.log" 2>&1 &
    local pid=$! i=0
    printf '%s\n' "$pid" >"$S_DIR/state/daemon.pid"
    while ! _s_listening "$S_PORT" ||
        { [ -n "$S_PORT6" ] && ! _s_listening "$S_PORT6"; }; do
        if ! _s_alive "$pid" || [ "$i" -ge 150 ]; then
            _s_err "Sendmail is not listening on $S_PORT after $((i / 10)) s:"
            cat "$S_DIR/log/sendmail.log" >&2
            s_stop
            return 1
        fi
        sleep 0.1
        i=$((i + 1))
    done
    return 0
}

s_stop() {
    local dir=${S_DIR:-} pid kids k f
    [ -n "$dir" ] && [ -d "$dir/state" ] || return 0
    for f in "$dir"/state/relay.*.pid "$dir/state/daemon.pid"; do
        [ -f "$f" ] || continue
        pid=$(cat "$f" 2>/dev/null)
        rm -f "$f"
        _s_alive "$pid" || continue
        # Sendmail's per-connection children, found before the parent
        # goes and they are handed to init.
        kids=$(_s_descendants "$pid")
        kill -TERM "$pid" 2>/dev/null
        if ! _s_wait_gone "$pid" 100; then
            _s_err "process $pid did not stop within 10 s; killing it"
            kill -KILL "$pid" 2>/dev/null
            _s_wait_gone "$pid" 30
        fi
        for k in $kids; do
            _s_alive "$k" || continue
            kill -TERM "$k" 2>/dev/null
            _s_wait_gone "$k" 50 || kill -KILL "$k" 2>/dev/null
        done
    done
    return 0
}

s_bs_port() {
    if [ -z "${S_DIR:-}" ] || [ ! -f "$S_DIR/bs-relay.py" ]; then
        _s_err "s_bs_port: s_setup has not run"
        return 1
    fi
    local n=0 f port='' i
    while [ -e "$S_DIR/state/relay.$n.port" ]; do n=$((n + 1)); done
    f=$S_DIR/state/relay.$n
    : >"$f.port"
    python3 "$S_DIR/bs-relay.py" /bin/bash -c \
        '. "$1"; S_DIR=$2; _S_SASL_DIR=$3; _s_ns "$4" -C "$2/etc/sendmail.cf" -bs' \
        bs "$S_HARNESS_DIR/sendmail-harness.sh" "$S_DIR" "$_S_SASL_DIR" \
        "$S_BIN" </dev/null >"$f.port" 2>>"$S_DIR/log/bs-relay.log" &
    printf '%s\n' "$!" >"$f.pid"
    for ((i = 0; i < 100; i++)); do
        port=$(head -1 "$f.port")
        [ -n "$port" ] && break
        sleep 0.05
    done
    if [ -z "$port" ]; then
        _s_err "the -bs relay did not start"
        return 1
    fi
    printf '%s\n' "$port"
}

s_dialog() {
    local port=$1
    shift
    timeout 120 python3 "$S_HARNESS_DIR/smtpdialog.py" "$port" "$@"
}

s_swaks() {
    if [ -z "${S_PORT:-}" ]; then
        _s_err "s_swaks: s_setup has not run"
        return 1
    fi
    timeout 60 swaks --server 127.0.0.1 --port "$S_PORT" --timeout 30 \
        "$@" 2>&1
}
