#!/usr/bin/env python3
# quit_nc.py - the MTA side of the milter protocol (version 6), spoken
# directly, for what miltertest cannot send: QUIT_NC ("quit, new
# connection follows").  One milter connection carries three SMTP
# sessions: negotiation once, then
#   session 1  CONNECT, HELO, one whole message, QUIT_NC
#   session 2  CONNECT (no new negotiation), HELO, two messages, an
#              unknown command, QUIT_NC
#   session 3  CONNECT, HELO, one whole message, QUIT
# The negotiation offers no SMFIP_HDR_LEADSPC and no no-reply steps, so
# every command but MACRO and QUIT* gets an answer.  run.sh then checks
# that the database holds three separate sessions.
#
# libmilter 8.17 takes QUIT_NC only after end of message or an unknown
# command: sent after HELO, or with a transaction open or aborted, it is
# dropped and the next CONNECT is never answered.  The dialogue keeps to
# what libmilter accepts.
#
# Usage: quit_nc.py SOCKET-PATH
# Prints "FAIL: ..." and exits 1 on a protocol error; 0 when the dialogue
# ran.
import socket
import struct
import sys

SMFIP_RCPT_REJ = 0x800
ALL_ACTIONS = 0x1ff
# Answers that end a command; anything else (header changes, progress)
# may come before them at end of message.
FINAL = b"carty"


def packet(cmd, data=b""):
    """One milter packet: length, command byte, data."""
    return struct.pack(">I", len(data) + 1) + cmd + data


def cstr(*parts):
    """NUL-terminated strings, concatenated."""
    return b"".join(p.encode() + b"\0" for p in parts)


class Link:
    """The milter connection, as the MTA sees it."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(10)
        self.sock.connect(path)

    def read_exact(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise EOFError("milter closed the connection")
            data += chunk
        return data

    def reply(self):
        """One packet from the milter: (command byte, data)."""
        (length,) = struct.unpack(">I", self.read_exact(4))
        if length < 1 or length > 1 << 20:
            raise ValueError("bad reply length %d" % length)
        body = self.read_exact(length)
        return body[:1], body[1:]

    def send(self, cmd, data=b""):
        self.sock.sendall(packet(cmd, data))

    def ask(self, what, cmd, data=b""):
        """Send a command that is answered; it must be continued."""
        self.send(cmd, data)
        while True:
            rcmd, _ = self.reply()
            if rcmd in (b"c", b"a"):
                return
            if rcmd in FINAL:
                raise ValueError("%s: answered %r, want continue"
                                 % (what, rcmd))

    def macros(self, for_cmd, **pairs):
        data = for_cmd
        for name, value in pairs.items():
            data += cstr(name.replace("_", "{", 1) + "}"
                         if name.startswith("_") else name, value)
        self.send(b"D", data)


def session(link, n, helo, messages=1, unknown=False):
    """One SMTP session on the link, up to where QUIT_NC may follow."""
    link.macros(b"C", j="mt.test.example", v="quit_nc.py",
                _daemon_name="quit-nc")
    link.ask("connect %d" % n, b"C",
             cstr("client%d.example" % n) + b"4" +
             struct.pack(">H", 40000 + n) + cstr("192.0.2.%d" % (20 + n)))
    link.ask("helo %d" % n, b"H", cstr(helo))
    for m in range(1, messages + 1):
        what = "session %d message %d" % (n, m)
        link.macros(b"M", i="QNC%d%d" % (n, m))
        link.ask(what + ": mail", b"M", cstr("<s%d@example.com>" % n))
        link.ask(what + ": rcpt", b"R",
                 cstr("<r%d.%d@example.org>" % (n, m)))
        link.ask(what + ": data", b"T")
        link.ask(what + ": header", b"L", cstr("Subject", what))
        link.ask(what + ": eoh", b"N")
        link.ask(what + ": body", b"B", b"body\r\n")
        link.ask(what + ": eom", b"E")
    if unknown:
        link.ask("unknown %d" % n, b"U", cstr("XQNC session %d" % n))


def main():
    link = Link(sys.argv[1])
    link.send(b"O", struct.pack(">III", 6, ALL_ACTIONS, SMFIP_RCPT_REJ))
    rcmd, data = link.reply()
    if rcmd != b"O" or len(data) < 12:
        raise ValueError("negotiation answered %r" % rcmd)
    version, actions, steps = struct.unpack(">III", data[:12])
    if version != 6 or steps & ~SMFIP_RCPT_REJ:
        raise ValueError("negotiated version %d steps 0x%x, want 6 and "
                         "a subset of 0x%x" % (version, steps,
                                               SMFIP_RCPT_REJ))
    session(link, 1, "qnc-one.example")
    link.send(b"K")
    session(link, 2, "qnc-two.example", messages=2, unknown=True)
    link.send(b"K")
    session(link, 3, "qnc-three.example")
    link.send(b"Q")
    link.sock.close()
    print("ok: quit_nc dialogue done (negotiated actions 0x%x steps 0x%x)"
          % (actions, steps))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (OSError, EOFError, ValueError) as e:
        print("FAIL: quit_nc: %s" % e)
        sys.exit(1)
