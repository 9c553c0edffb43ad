-- body-chunks.lua - a body in chunks of 65,535 bytes (the largest
-- Sendmail sends) with a CRLF split across two of them: the stored size
-- and SHA-256 must be those of the bytes as sent, and every chunk
-- counted.  run.sh computes the expected digest independently.
--
-- Run by run.sh: miltertest -s body-chunks.lua -D SOCKET=unix:...

local function fail(what)
	print("FAIL: body-chunks: " .. what)
	error(what)
end

local function must(rc, what)
	if rc ~= nil then
		fail(what .. ": " .. tostring(rc))
	end
end

local CHUNK = 65535

local conn = mt.connect(SOCKET, 20, 0.25)
if conn == nil then
	fail("cannot connect to " .. SOCKET)
end
must(mt.negotiate(conn, nil, nil, nil), "negotiate")
must(mt.conninfo(conn, "client.example", "192.0.2.11"), "conninfo")
must(mt.helo(conn, "mt-chunks.example"), "helo")
must(mt.mailfrom(conn, "<alice@example.com>"), "mail")
must(mt.rcptto(conn, "<bob@example.org>"), "rcpt")
must(mt.header(conn, "Subject", "chunks"), "header")
must(mt.eoh(conn), "eoh")

-- Chunk 1 ends in CR, chunk 2 starts with its LF; both are full size.
local one = string.rep("a", CHUNK - 1) .. "\r"
local two = "\n" .. string.rep("b", CHUNK - 3) .. "\r\n"
if #one ~= CHUNK or #two ~= CHUNK then
	fail("chunk sizes " .. #one .. " and " .. #two)
end
must(mt.bodystring(conn, one), "chunk 1")
must(mt.bodystring(conn, two), "chunk 2")
must(mt.bodystring(conn, "end\r\n"), "chunk 3")
must(mt.eom(conn), "eom")
local r = mt.getreply(conn)
if r ~= SMFIR_CONTINUE and r ~= SMFIR_ACCEPT then
	fail("end of message answered " .. tostring(r) .. ", want continue")
end
must(mt.disconnect(conn, true), "disconnect")
print("ok: body-chunks dialogue done")
