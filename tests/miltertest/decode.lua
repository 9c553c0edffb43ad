-- decode.lua - macros spelled as Sendmail spells them (version "8.17.1.9",
-- "IPv6:" addresses in their long form, xtext certificate names, an
-- author in angle brackets) and as Postfix does (a "+20" in a Postfix
-- certificate name is literal).  run.sh checks that both are stored in
-- one spelling.
--
-- Run by run.sh: miltertest -s decode.lua -D SOCKET=unix:...

local function fail(what)
	print("FAIL: decode: " .. what)
	error(what)
end

local function must(rc, what)
	if rc ~= nil then
		fail(what .. ": " .. tostring(rc))
	end
end

-- session HELO VERSION SUBJECT AUTHOR - one message with TLS and AUTH
-- macros from an MTA that says it is VERSION
local function session(helo, version, subject, author)
	local conn = mt.connect(SOCKET, 20, 0.25)
	if conn == nil then
		fail("cannot connect to " .. SOCKET)
	end
	must(mt.negotiate(conn, nil, nil, nil), helo .. ": negotiate")
	must(mt.macro(conn, SMFIC_CONNECT, "j", "mail.test.example",
	    "v", version, "{daemon_name}", "MTA6",
	    "{daemon_addr}", "IPv6:0:0:0:0:0:0:0:1"), helo .. ": connect")
	must(mt.conninfo(conn, "localhost", "::1"), helo .. ": conninfo")
	must(mt.macro(conn, SMFIC_HELO, "{tls_version}", "TLSv1.3",
	    "{cipher}", "TLS_AES_256_GCM_SHA384", "{cipher_bits}", "256",
	    "{cert_subject}", subject, "{cert_issuer}", "/CN=Mt+20CA",
	    "{verify}", "OK"), helo .. ": helo macros")
	must(mt.helo(conn, helo), helo .. ": helo")
	must(mt.macro(conn, SMFIC_MAIL, "{auth_type}", "PLAIN",
	    "{auth_authen}", "alice@example.com", "{auth_author}", author,
	    "{auth_ssf}", "0", "i", "MTQUEUEID1"), helo .. ": mail macros")
	must(mt.mailfrom(conn, "<alice@example.com>",
	    "AUTH=" .. author), helo .. ": mail")
	must(mt.rcptto(conn, "<bob@example.org>"), helo .. ": rcpt")
	must(mt.header(conn, "Subject", "decode"), helo .. ": header")
	must(mt.eoh(conn), helo .. ": eoh")
	must(mt.bodystring(conn, "x\r\n"), helo .. ": body")
	must(mt.eom(conn), helo .. ": eom")
	must(mt.disconnect(conn, true), helo .. ": disconnect")
end

session("[IPv6:::1]", "8.17.1.9", "/O=Example+20Org/CN=Mt+20Client+2B1",
    "<alice@example.com>")
session("mt-decode-postfix.example", "Postfix 3.7.11", "Mt+20Client",
    "<alice@example.com>")
print("ok: decode dialogue done")
