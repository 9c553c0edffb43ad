#!/usr/bin/env python3
# hold-sessions.py - open COUNT SMTP sessions to 127.0.0.1:PORT, take
# each through EHLO, MAIL and RCPT, and hold them all open: the memory
# test of contrib/bench/run measures the milter meanwhile.
#
# usage: hold-sessions.py PORT COUNT
#
# Prints "open N" once every session has had its RCPT accepted, then
# waits for a line (or end of file) on standard input, sends QUIT on
# every session and prints "closed N".  Exits 1 if a session cannot be
# opened or a reply is not the one expected.
import socket
import sys

TIMEOUT = 60  # seconds for any one reply


def reply(f):
    """Read one (possibly multi-line) SMTP reply; return its code."""
    while True:
        line = f.readline()
        if not line:
            raise OSError("connection closed")
        if len(line) < 4 or line[3:4] != b"-":
            return int(line[:3])


def command(s, f, text, want):
    """Send one command and check the reply's first digit."""
    s.sendall(text.encode() + b"\r\n")
    code = reply(f)
    if code // 100 != want:
        raise OSError("%s: reply %d" % (text.split()[0], code))


def main():
    port, count = int(sys.argv[1]), int(sys.argv[2])
    sessions = []
    try:
        for i in range(count):
            s = socket.create_connection(("127.0.0.1", port), TIMEOUT)
            f = s.makefile("rb")
            if reply(f) != 220:
                raise OSError("no greeting")
            command(s, f, "EHLO client.bench.example", 2)
            command(s, f, "MAIL FROM:<hold%d@example.com>" % i, 2)
            command(s, f, "RCPT TO:<bob@example.org>", 2)
            sessions.append((s, f))
    except OSError as e:
        print("hold-sessions: session %d: %s" % (len(sessions) + 1, e),
              file=sys.stderr)
        return 1
    print("open %d" % len(sessions), flush=True)
    sys.stdin.readline()
    closed = 0
    for s, f in sessions:
        try:
            command(s, f, "QUIT", 2)
            closed += 1
        except OSError:
            pass
        s.close()
    print("closed %d" % closed, flush=True)
    return 0 if closed == count else 1


if __name__ == "__main__":
    sys.exit(main())
