#!/bin/bash
# package.sh - the Debian package, built and used as an operator would:
# dpkg-buildpackage from a copy of the tree (the tree itself stays
# clean), lintian, apt-get install, then both installed programs from
# the installed configuration, and a real Postfix set up with the
# packaged main.cf snippet, whose message must land in the database.
#
# The daemon is started as root from its unit's ExecStart= line, so it
# binds, then drops; the milter is started as its unit's User= and
# Group=, as systemd would (CI runs no systemd).  Postfix runs twice:
#   A. smtpd not chrooted, naming the packaged socket by its full path,
#      with the installed configuration unchanged;
#   B. smtpd chrooted in its queue directory, as in Debian's master.cf,
#      with the snippet's smtpd_milters line as it is.  The queue
#      directory is a private one, so the milter's socket moves with it
#      (milter_socket is the only key that differs).
#
# The package is installed system-wide; at the end it is purged, and the
# user, group and directories it made are removed again unless they were
# there before (KEEP=1 keeps everything, for a look).
#
# Run as root on Debian 12: bash tests/pkg/package.sh
# Ends with "N passed, N failed"; exit status 0 only if nothing failed.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$top/tests/mta/harness.sh"
. "$top/tests/mta/lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "package.sh must run as root" >&2; exit 77; }
for tool in dpkg-buildpackage lintian apt-get git setpriv sqlite3; do
    command -v "$tool" >/dev/null 2>&1 ||
        { echo "package.sh: $tool not found (tests/install-deps)" >&2; exit 1; }
done
git -C "$top" rev-parse --git-dir >/dev/null 2>&1 ||
    { echo "package.sh: $top is not a git work tree" >&2; exit 77; }
# The maintainer scripts are part of the test: start from no package.
if dpkg-query -W -f='${Status}' smtpwarden 2>/dev/null |
    grep -q 'ok installed'; then
    echo "package.sh: purging the installed smtpwarden package first"
    DEBIAN_FRONTEND=noninteractive apt-get purge -y -q smtpwarden \
        smtpwarden-dbgsym >/dev/null 2>&1
fi

UNITDIR=/lib/systemd/system
CONF=/etc/smtpwarden/smtpwarden.conf
DB=/var/lib/smtpwarden/smtpwarden.db
MILTER_SOCK=/var/spool/postfix/smtpwarden/milter.sock
DAEMON_SOCK=/run/smtpwarden/smtpwardend.sock
EXAMPLES=/usr/share/doc/smtpwarden/examples
SW_DB=$DB               # for lib.sh's q

started=$(date +%s)
WORK=$(mktemp -d /tmp/smtpwarden-pkg.XXXXXX)
chmod 0755 "$WORK"
DPID=
MPID=
# What was there before, so that cleanup removes only what the test made.
had_user=no; getent passwd smtpwarden >/dev/null && had_user=yes
had_group=no; getent group smtpwarden >/dev/null && had_group=yes
had_state=no; [ -e /var/lib/smtpwarden ] && had_state=yes

cleanup() {
    h_stop
    stop_pid "$MPID" 20
    stop_pid "$DPID" 20
    if [ -n "${KEEP:-}" ]; then
        echo "kept: the package, and the work directory $WORK"
        return
    fi
    if dpkg-query -W -f='${Status}' smtpwarden 2>/dev/null |
        grep -q 'ok installed'; then
        DEBIAN_FRONTEND=noninteractive apt-get purge -y -q \
            smtpwarden smtpwarden-dbgsym >"$WORK/purge.log" 2>&1 ||
            cat "$WORK/purge.log"
    fi
    [ "$had_state" = yes ] || rm -rf /var/lib/smtpwarden
    [ "$had_user" = yes ] || deluser --quiet --system smtpwarden \
        >/dev/null 2>&1
    [ "$had_group" = yes ] || delgroup --quiet --system smtpwarden \
        >/dev/null 2>&1
    if [ "$SW_FAILED" -eq 0 ]; then
        rm -rf "$WORK"
    else
        echo "work directory kept: $WORK"
    fi
}
trap cleanup EXIT

# unit_key UNIT KEY - the value of KEY= in an installed unit
unit_key() {
    sed -n "s/^$2=//p" "$UNITDIR/$1" | head -1
}

# mode_of PATH - "owner:group mode", as ls -l would show them
mode_of() {
    stat -c '%U:%G %a' "$1" 2>&1
}

# proc_ids PID - the Uid, Gid and Groups lines of a process, one line
proc_ids() {
    awk '/^(Uid|Gid|Groups):/ { $1 = $1; printf "%s%s", sep, $0; sep = "; " }
        END { print "" }' "/proc/$1/status" 2>/dev/null
}

# wait_row SQL - until the query prints something (10 s); prints it
wait_row() {
    local i out
    for ((i = 0; i < 100; i++)); do
        out=$(q "$1" 2>/dev/null)
        [ -n "$out" ] && { echo "$out"; return 0; }
        sleep 0.1
    done
    return 1
}

# send NAME - one message through the private Postfix; prints its queue id
send() {
    local out
    out=$(h_swaks --from "pkgtest@example.com" --to "rcpt@example.org" \
        --header "Subject: package test $1" --body "package test $1")
    echo "$out" >"$WORK/swaks-$1.log"
    sed -n 's/.*250 2\.0\.0 Ok: queued as \([0-9A-Za-z]*\).*/\1/p' \
        <<<"$out" | head -1
}

# check_delivered NAME QID - the message and its transcript are stored
check_delivered() {
    local sid
    check_match "$1: Postfix queued the message" "$2" '^[0-9A-Za-z]+$'
    check_eq "$1: the message is in the database, found by queue id" \
        "$(wait_row "SELECT sender, recipients, outcome FROM messages
                     WHERE queue_id = '$2'")" \
        "pkgtest@example.com|rcpt@example.org|accepted"
    sid=$(q "SELECT session_id FROM messages WHERE queue_id = '$2'")
    # The session is complete once its close record is stored.
    wait_row "SELECT 1 FROM transcript WHERE session_id = '$sid'
              AND stage = 'close'" >/dev/null
    check_match "$1: its transcript has every stage, in order" \
        "$(q "SELECT group_concat(stage, ' ') FROM (SELECT stage
              FROM transcript WHERE session_id = '$sid' ORDER BY seq)")" \
        '^connect helo( helo)* mail rcpt data (header )+eoh body eom close$'
}

echo "=== build"
mkdir -p "$WORK/src"
# The tree as it is, committed or not, without anything git ignores.
git -C "$top" ls-files -z -co --exclude-standard |
    (cd "$top" && tar --null -T - -cf -) | tar -C "$WORK/src" -xf -
before=$(git -C "$top" status --porcelain --ignored 2>&1 | md5sum)
t0=$(date +%s)
# dh_auto_test runs make check as a Debian build does; a caller's
# DEB_BUILD_OPTIONS (nocheck, say) still applies.
opts="${DEB_BUILD_OPTIONS:+$DEB_BUILD_OPTIONS }parallel=$(nproc)"
if (cd "$WORK/src" && DEB_BUILD_OPTIONS=$opts \
    dpkg-buildpackage -us -uc -b) >"$WORK/build.log" 2>&1; then
    pass "dpkg-buildpackage -us -uc -b builds ($(( $(date +%s) - t0 )) s)"
else
    fail "dpkg-buildpackage failed; the end of its log:"
    tail -40 "$WORK/build.log"
    exit 1
fi
changes=$(ls "$WORK"/smtpwarden_*.changes)
check_eq "the source tree is left as it was" \
    "$(git -C "$top" status --porcelain --ignored 2>&1 | md5sum)" "$before"

lint=$(lintian --fail-on error,warning -I "$changes" 2>&1 |
    grep -v '^running with root privileges')
check_eq "lintian: no error, warning or info" "$lint" ""

echo "=== install"
if (cd "$WORK" && DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q ./*.deb) >"$WORK/install.log" 2>&1; then
    pass "apt-get install ./*.deb"
else
    fail "apt-get install failed:"
    tail -20 "$WORK/install.log"
    exit 1
fi

uid=$(id -u smtpwarden 2>/dev/null)
gid=$(getent group smtpwarden | cut -d: -f3)
check_match "system user smtpwarden, no login shell" \
    "$(getent passwd smtpwarden | cut -d: -f3,6,7)" \
    '^[0-9]+:/var/lib/smtpwarden:/usr/sbin/nologin$'
[ -n "$uid" ] && [ "$uid" -lt 1000 ] && pass "smtpwarden is a system uid" ||
    fail "smtpwarden uid: got '$uid', want one below 1000"
check_match "postfix is in group smtpwarden" "$(id -nG postfix)" \
    '(^| )smtpwarden( |$)'
for d in /var/lib/smtpwarden /var/spool/smtpwarden \
    /var/spool/postfix/smtpwarden /run/smtpwarden /run/smtpwarden-milter
do
    check_eq "$d" "$(mode_of "$d")" "smtpwarden:smtpwarden 750"
done
check_eq "smtpwarden.conf is a conffile" \
    "$(dpkg-query -W -f='${Conffiles}' smtpwarden | awk '{ print $1 }')" \
    "$CONF"
check_eq "smtpwarden-milter -n accepts the installed configuration" \
    "$(/usr/sbin/smtpwarden-milter -n 2>&1)" "$CONF: configuration is valid"
check_eq "smtpwardend -n accepts the installed configuration" \
    "$(/usr/sbin/smtpwardend -n 2>&1)" "$CONF: configuration is valid"
check_eq "nothing started by the installation" \
    "$( { [ -S "$DAEMON_SOCK" ] || [ -S "$MILTER_SOCK" ]; } && echo socket)" ""
for u in smtpwardend.service smtpwarden-milter.service; do
    check_eq "$u installed and not enabled" \
        "$( [ -f "$UNITDIR/$u" ] && echo installed)$(ls \
            /etc/systemd/system/*.wants/"$u" 2>/dev/null)" "installed"
done
# systemd is installed by tests/install-deps; no systemd needs to run.
check_eq "systemd-analyze verify: the units are sound" \
    "$(systemd-analyze verify "$UNITDIR/smtpwardend.service" \
        "$UNITDIR/smtpwarden-milter.service" 2>&1)" ""
check_eq "the milter unit orders after the daemon's" \
    "$(unit_key smtpwarden-milter.service After)" "smtpwardend.service"
for page in smtpwarden-milter.8 smtpwardend.8 smtpwarden.conf.5; do
    file=/usr/share/man/man${page##*.}/$page.gz
    check_eq "man page $page installed" "$(man -w "${page%.*}" 2>&1)" "$file"
    check_eq "$page: no placeholder left" \
        "$(zcat "$file" | grep -o '@[A-Z_]*@' | sort -u | tr '\n' ' ')" ""
done
check_match "smtpwarden.conf(5) names this build's paths" \
    "$(zcat /usr/share/man/man5/smtpwarden.conf.5.gz | tr '\n' ' ')" \
    "$CONF.*$DAEMON_SOCK.*$DB"
check_eq "schema and views installed for auditors" \
    "$(ls /usr/share/smtpwarden/sql | tr '\n' ' ')" "schema.sql views.sql "
for f in smtpwarden.conf.example smtpwarden.rules.example \
    postfix/main.cf.snippet sendmail/smtpwarden.mc.snippet; do
    check_eq "example $f" "$( [ -s "$EXAMPLES/$f" ] && echo ok)" ok
done

# Root is refused, by name and with a reason.
{ cat "$CONF"; echo 'user = "root"'; } >"$WORK/root.conf"
out=$(/usr/sbin/smtpwardend -n -c "$WORK/root.conf" 2>&1)
check_eq "user = root: smtpwardend refuses, exit 78" "$?" 78
check_match "user = root: the message says why" "$out" \
    'user "root" is root: refusing to run as root'

echo "=== start"
# The daemon as root, from its unit's command line: binds, then drops.
cmd=$(unit_key smtpwardend.service ExecStart)
$cmd </dev/null >"$WORK/daemon.log" 2>&1 &
DPID=$!
wait_for_socket "$DAEMON_SOCK" 10 || { cat "$WORK/daemon.log"; exit 1; }
check_eq "smtpwardend started as root runs as smtpwarden, no groups" \
    "$(proc_ids "$DPID")" \
    "Uid: $uid $uid $uid $uid; Gid: $gid $gid $gid $gid; Groups:"
check_eq "daemon socket owner and mode" "$(mode_of "$DAEMON_SOCK")" \
    "smtpwarden:smtpwarden 660"

# The milter as the unit's User= and Group=, as systemd starts it.
cmd=$(unit_key smtpwarden-milter.service ExecStart)
# setpriv execs the program, so $! is the milter's own PID.
as_unit_user=(setpriv --reuid="$(unit_key smtpwarden-milter.service User)"
    --regid="$(unit_key smtpwarden-milter.service Group)" --init-groups --)
"${as_unit_user[@]}" $cmd </dev/null >"$WORK/milter.log" 2>&1 &
MPID=$!
wait_for_socket "$MILTER_SOCK" 10 || { cat "$WORK/milter.log"; exit 1; }
check_match "smtpwarden-milter runs as smtpwarden" "$(proc_ids "$MPID")" \
    "^Uid: $uid $uid $uid $uid; Gid: $gid $gid $gid $gid;"
check_eq "milter socket owner and mode" "$(mode_of "$MILTER_SOCK")" \
    "smtpwarden:smtpwarden 660"
out=$("${as_unit_user[@]}" timeout 30 $cmd </dev/null 2>&1)
rc=$?
check_match "a second milter refuses the live socket" "$rc:$out" \
    '^69:.*is in use by a running instance'

echo "=== A: Postfix, smtpd not chrooted, full socket path"
H_MILTER=unix:$MILTER_SOCK
h_setup "$WORK/pf" || exit 1
# The snippet's settings as they are, but the path: this smtpd is not
# chrooted, which the snippet's comment covers.
grep -E '^[a-z_]+ *=' "$EXAMPLES/postfix/main.cf.snippet" >"$WORK/snippet"
while read -r line; do
    h_postconf "$line"
done <"$WORK/snippet"
h_postconf "smtpd_milters = unix:$MILTER_SOCK"
h_start || exit 1
qid=$(send A)
check_delivered A "$qid"

# Auditors: a member of group smtpwarden reads with sqlite3; others not.
check_eq "a member of group smtpwarden can read the database" \
    "$(setpriv --reuid=nobody --regid=nogroup --groups="$gid" \
        sqlite3 -readonly "$DB" "SELECT count(*) FROM messages
        WHERE queue_id = '$qid'" 2>&1)" "1"
check_match "others cannot read the database" \
    "$(setpriv --reuid=nobody --regid=nogroup --clear-groups \
        sqlite3 -readonly "$DB" "SELECT count(*) FROM messages" 2>&1)" \
    'unable to open|denied'
check_eq "database file mode" "$(mode_of "$DB")" "smtpwarden:smtpwarden 640"

echo "=== B: Postfix, smtpd chrooted, the snippet's socket line"
stop_pid "$MPID" 20
MPID=
# The socket directory as the package makes it, inside this Postfix's
# queue directory, and the installed configuration with only the socket
# (and a spool of its own) moved there.
chroot=$H_DIR/pf-queue
install -d -o smtpwarden -g smtpwarden -m 0750 "$chroot/smtpwarden" \
    "$WORK/spool-b"
{ cat "$CONF"
  echo "milter_socket = \"unix:$chroot/smtpwarden/milter.sock\""
  echo "spool_dir = \"$WORK/spool-b\""; } >"$WORK/b.conf"
chmod 0644 "$WORK/b.conf"
"${as_unit_user[@]}" $cmd -c "$WORK/b.conf" </dev/null \
    >"$WORK/milter-b.log" 2>&1 &
MPID=$!
wait_for_socket "$chroot/smtpwarden/milter.sock" 10 ||
    { cat "$WORK/milter-b.log"; exit 1; }
sed -i -E 's/^(127\.0\.0\.1:[0-9]+ +inet +n +- +)n( .*smtpd)$/\1y\2/' \
    "$H_DIR/pf-conf/master.cf"
while read -r line; do
    h_postconf "$line"
done <"$WORK/snippet"
# SASL's socket is outside the chroot; this test needs no AUTH.
h_postconf "smtpd_sasl_auth_enable = no"
master=$(cat "$H_DIR/state/postfix.pid")
old_smtpd=$(pgrep -P "$master" -x smtpd)
h_reload || exit 1
# An smtpd from before the reload could still take the connection.
for ((i = 0; i < 100; i++)); do
    left=
    for p in $old_smtpd; do
        _h_alive "$p" && left=$p
    done
    [ -z "$left" ] && break
    sleep 0.1
done
qid=$(send B)
check_delivered B "$qid"
smtpd=$(pgrep -P "$master" -x smtpd | head -1)
check_eq "B: smtpd ran chrooted in its queue directory" \
    "$(readlink "/proc/$smtpd/root" 2>&1)" "$chroot"

echo "=== package test took $(( $(date +%s) - started )) s"
sw_summary
