-- missing-macros.lua - an MTA that sends few of the macros the milter
-- asks for, and no client address (like "sendmail -bs"): every macro
-- asked for and not sent is recorded as not provided, never as "" or
-- "(null)".
--
-- Run by run.sh: miltertest -s missing-macros.lua -D SOCKET=unix:...

local function fail(what)
	print("FAIL: missing-macros: " .. what)
	error(what)
end

local function must(rc, what)
	if rc ~= nil then
		fail(what .. ": " .. tostring(rc))
	end
end

local conn = mt.connect(SOCKET, 20, 0.25)
if conn == nil then
	fail("cannot connect to " .. SOCKET)
end
must(mt.negotiate(conn, nil, nil, nil), "negotiate")
-- Only "j" at connect; an unknown address family, no address.
must(mt.macro(conn, SMFIC_CONNECT, "j", "mt.test.example"), "connect macro")
must(mt.conninfo(conn, "localhost", "unspec"), "conninfo")
must(mt.helo(conn, "mt-missing.example"), "helo")
must(mt.macro(conn, SMFIC_MAIL, "{mail_addr}", "alice@example.com"),
    "mail macro")
must(mt.mailfrom(conn, "<alice@example.com>"), "mail")
-- The mailer only: no {rcpt_host}, no {rcpt_addr}, no queue id anywhere.
must(mt.macro(conn, SMFIC_RCPT, "{rcpt_mailer}", "esmtp"), "rcpt macro")
must(mt.rcptto(conn, "<bob@example.org>"), "rcpt")
must(mt.data(conn), "data")
must(mt.header(conn, "Subject", "few macros"), "header")
must(mt.eoh(conn), "eoh")
must(mt.bodystring(conn, "x\r\n"), "body")
must(mt.eom(conn), "eom")
must(mt.disconnect(conn, true), "disconnect")
print("ok: missing-macros dialogue done")
