-- fewer-actions.lua - MTAs that offer fewer actions than the milter
-- asks for (add headers, change headers, quarantine, set the macro
-- list).  The milter must still record everything, still evaluate its
-- rules, and not use an action it was not given: run.sh loads a rule
-- that adds a header for senders in tagged.example and one that
-- quarantines senders in held.example.
--
-- Run by run.sh: miltertest -s fewer-actions.lua -D SOCKET=unix:...

local function fail(what)
	print("FAIL: fewer-actions: " .. what)
	error(what)
end

local function must(rc, what)
	if rc ~= nil then
		fail(what .. ": " .. tostring(rc))
	end
end

-- message HELO ACTIONS SENDER - one message; returns the connection
-- after end of message, for the EOM checks
local function message(helo, actions, sender)
	local conn = mt.connect(SOCKET, 20, 0.25)
	if conn == nil then
		fail("cannot connect to " .. SOCKET)
	end
	-- miltertest 1.6 reads (conn, version, steps, actions), not the
	-- order its manual gives.
	must(mt.negotiate(conn, nil, nil, actions), helo .. ": negotiate")
	must(mt.conninfo(conn, "client.example", "192.0.2.13"), "conninfo")
	must(mt.helo(conn, helo), helo .. ": helo")
	must(mt.mailfrom(conn, "<" .. sender .. ">"), helo .. ": mail")
	must(mt.rcptto(conn, "<bob@example.org>"), helo .. ": rcpt")
	must(mt.header(conn, "Subject", "actions"), helo .. ": header")
	must(mt.eoh(conn), helo .. ": eoh")
	must(mt.bodystring(conn, "x\r\n"), helo .. ": body")
	must(mt.eom(conn), helo .. ": eom")
	local r = mt.getreply(conn)
	if r ~= SMFIR_CONTINUE and r ~= SMFIR_ACCEPT then
		fail(helo .. ": end of message answered " .. tostring(r))
	end
	return conn
end

-- Control: everything offered, the header is added.
local c = message("mt-actions-all.example", nil, "alice@tagged.example")
if not mt.eom_check(c, MT_HDRADD, "X-Warden") then
	fail("all actions offered, but no X-Warden header was added")
end
must(mt.disconnect(c, true), "disconnect all")

-- Only "replace the body": no header may be added.  (An offer of 0 is
-- no use: libmilter reads it as the version 1 actions, which include
-- adding headers.)
c = message("mt-actions-none.example", SMFIF_CHGBODY, "alice@tagged.example")
if mt.eom_check(c, MT_HDRADD) then
	fail("adding headers not offered, but a header was added")
end
must(mt.disconnect(c, true), "disconnect none")

-- Headers only: no quarantine, no macro list of our own.
c = message("mt-actions-hdrs.example", SMFIF_ADDHDRS, "carol@held.example")
if mt.eom_check(c, MT_QUARANTINE) then
	fail("quarantine not offered, but the milter asked for it")
end
must(mt.disconnect(c, true), "disconnect hdrs")
print("ok: fewer-actions dialogue done")
