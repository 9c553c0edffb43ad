-- abort-no-txn.lua - an abort with no transaction open (what Postfix
-- sends after an unknown command, or after end of message) must change
-- nothing: no phantom transaction, no abort event, and the message that
-- follows is recorded whole.  run.sh then checks the database.
--
-- Run by run.sh: miltertest -s abort-no-txn.lua -D SOCKET=unix:...

-- Debian's miltertest prints nothing for a failed error(): say it first.
local function fail(what)
	print("FAIL: abort-no-txn: " .. what)
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
must(mt.macro(conn, SMFIC_CONNECT, "j", "mt.test.example", "v", "miltertest"),
    "connect macros")
must(mt.conninfo(conn, "client.example", "192.0.2.10"), "conninfo")
must(mt.helo(conn, "mt-abort.example"), "helo")

-- Two aborts before any MAIL.
must(mt.abort(conn), "abort before MAIL")
must(mt.abort(conn), "second abort before MAIL")

-- Then one whole message.
must(mt.mailfrom(conn, "<alice@example.com>"), "mail")
must(mt.rcptto(conn, "<bob@example.org>"), "rcpt")
must(mt.header(conn, "Subject", "after the aborts"), "header")
must(mt.eoh(conn), "eoh")
must(mt.bodystring(conn, "body\r\n"), "body")
must(mt.eom(conn), "eom")
local r = mt.getreply(conn)
if r ~= SMFIR_CONTINUE and r ~= SMFIR_ACCEPT then
	fail("end of message answered " .. tostring(r) .. ", want continue")
end

-- And an abort after end of message: nothing open again.
must(mt.abort(conn), "abort after eom")
must(mt.disconnect(conn, true), "disconnect")
print("ok: abort-no-txn dialogue done")
