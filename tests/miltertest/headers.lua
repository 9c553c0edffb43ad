-- headers.lua - header values with and without SMFIP_HDR_LEADSPC.  With
-- it, the MTA sends the value as written after the colon (miltertest,
-- like an MTA, sends " hi" for "Subject: hi", and " " for "X-Empty: ");
-- without it, one space is stripped and the milter puts it back, so both
-- sessions store "Subject" alike; an empty value stays empty.
--
-- Run by run.sh: miltertest -s headers.lua -D SOCKET=unix:...

local function fail(what)
	print("FAIL: headers: " .. what)
	error(what)
end

local function must(rc, what)
	if rc ~= nil then
		fail(what .. ": " .. tostring(rc))
	end
end

-- session HELO STEPS - one message with the three headers
local function session(helo, steps)
	local conn = mt.connect(SOCKET, 20, 0.25)
	if conn == nil then
		fail("cannot connect to " .. SOCKET)
	end
	-- miltertest 1.6 reads (conn, version, steps, actions), not the
	-- order its manual gives.
	must(mt.negotiate(conn, nil, steps, nil), helo .. ": negotiate")
	local leadspc = mt.test_option(conn, SMFIP_HDR_LEADSPC)
	if leadspc ~= (steps == nil) then
		fail(helo .. ": milter took SMFIP_HDR_LEADSPC = " ..
		    tostring(leadspc))
	end
	must(mt.conninfo(conn, "client.example", "192.0.2.12"), "conninfo")
	must(mt.helo(conn, helo), helo .. ": helo")
	must(mt.mailfrom(conn, "<alice@example.com>"), helo .. ": mail")
	must(mt.rcptto(conn, "<bob@example.org>"), helo .. ": rcpt")
	must(mt.header(conn, "Subject", "hi"), helo .. ": Subject")
	must(mt.header(conn, "X-Empty", ""), helo .. ": X-Empty")
	must(mt.header(conn, "X-Spaced", " two"), helo .. ": X-Spaced")
	must(mt.eoh(conn), helo .. ": eoh")
	must(mt.bodystring(conn, "x\r\n"), helo .. ": body")
	must(mt.eom(conn), helo .. ": eom")
	must(mt.disconnect(conn, true), helo .. ": disconnect")
end

-- The MTA's full offer, then one without the leading-space step.
session("mt-hdr-leadspc.example", nil)
session("mt-hdr-noleadspc.example", SMFIP_RCPT_REJ)
print("ok: headers dialogue done")
