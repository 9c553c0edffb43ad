#!/usr/bin/env python3
# smtpdialog.py - a scripted SMTP client for the integration tests: sends
# exactly the bytes a script says, one command at a time, so tests can
# provoke what ordinary clients never send (NUL bytes, 8-bit headers,
# unknown verbs, a connection dropped in the middle of DATA).
#
# Usage: smtpdialog.py PORT [--no-banner] < script
# Prints "port N" (the client's own port, to find the session in the
# database), then every reply.  Script lines (escapes like \xNN, \r, \n,
# \t, \\ are decoded to raw bytes):
#   send TEXT        send TEXT + CRLF and read the reply
#   raw TEXT         send TEXT as is, read nothing
#   rawfile PATH     send the bytes of a file as is, read nothing
#   reply            read one reply
#   expect NNN       the last reply must have code NNN (else exit 1)
#   starttls         send STARTTLS, expect 220, start TLS (no verification)
#   authplain U P    AUTH PLAIN with user U and password P
#   sleep SECONDS    wait
#   drop             reset the connection (no QUIT)
#   quit             QUIT, read the reply, close
# Lines starting with "#" and empty lines are ignored.
import base64
import socket
import ssl
import struct
import sys
import time


def decode(text):
    """Turn the escaped script text into raw bytes."""
    return text.encode("latin-1").decode("unicode_escape").encode("latin-1")


def read_reply(f):
    """Read one (possibly multi-line) SMTP reply; return (code, text)."""
    lines = []
    while True:
        line = f.readline()
        if not line:
            raise EOFError("connection closed by server")
        lines.append(line.rstrip(b"\r\n").decode("latin-1"))
        if len(line) < 4 or line[3:4] != b"-":
            break
    text = "\n".join(lines)
    print(text, flush=True)
    return int(lines[-1][:3]), text


def main():
    port = int(sys.argv[1])
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    print("port %d" % sock.getsockname()[1], flush=True)
    f = sock.makefile("rb")
    code = 0
    if "--no-banner" not in sys.argv[2:]:
        code, _ = read_reply(f)
    for line in sys.stdin.read().splitlines():
        line = line.strip("\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        verb, _, arg = line.partition(" ")
        if verb == "send":
            sock.sendall(decode(arg) + b"\r\n")
            code, _ = read_reply(f)
        elif verb == "raw":
            sock.sendall(decode(arg))
        elif verb == "rawfile":
            with open(arg, "rb") as data:
                sock.sendall(data.read())
        elif verb == "reply":
            code, _ = read_reply(f)
        elif verb == "expect":
            if code != int(arg):
                print("FAIL: got reply %d, want %s" % (code, arg))
                return 1
        elif verb == "starttls":
            sock.sendall(b"STARTTLS\r\n")
            code, _ = read_reply(f)
            if code != 220:
                print("FAIL: STARTTLS got %d, want 220" % code)
                return 1
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            sock = ctx.wrap_socket(sock, server_hostname="localhost")
            f = sock.makefile("rb")
        elif verb == "authplain":
            user, _, password = arg.partition(" ")
            token = base64.b64encode(b"\0" + user.encode() + b"\0" +
                                     password.encode()).decode()
            sock.sendall(b"AUTH PLAIN " + token.encode() + b"\r\n")
            code, _ = read_reply(f)
        elif verb == "sleep":
            time.sleep(float(arg))
        elif verb == "drop":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                            struct.pack("ii", 1, 0))
            sock.close()
            return 0
        elif verb == "quit":
            sock.sendall(b"QUIT\r\n")
            try:
                code, _ = read_reply(f)
            except EOFError:
                pass
            sock.close()
            return 0
        else:
            print("FAIL: bad script line: %r" % line)
            return 2
    sock.close()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (OSError, EOFError) as e:
        print("FAIL: %s" % e)
        sys.exit(1)
