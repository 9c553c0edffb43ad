-- schema.sql - the smtpwarden transcript database (schema version 1).
--
-- smtpwardend is the only writer.  Client-supplied text (HELO names,
-- addresses, headers, commands) is stored two ways where it matters:
-- raw bytes in BLOB columns, byte-exact, and a readable copy in TEXT
-- columns made with a reversible escape (a backslash is "\\", TAB, CR
-- and LF are "\t", "\r", "\n", any other byte that is not printable
-- ASCII or well-formed UTF-8 is "\xNN").  Times are kept as integer
-- microseconds since the epoch (*_us, for sorting) and as UTC text
-- (*_utc, for reading).  A NULL means the MTA did not provide the value;
-- an empty string means it provided an empty one.

PRAGMA foreign_keys = ON;

-- One row per SMTP session (connect to close).
CREATE TABLE IF NOT EXISTS sessions (
    session_id      TEXT PRIMARY KEY,       -- 16 hex digits, made at connect
    instance_id     TEXT NOT NULL,          -- the milter process that saw it
    started_us      INTEGER NOT NULL,
    started_utc     TEXT NOT NULL,
    ended_us        INTEGER,
    ended_utc       TEXT,
    duration_us     INTEGER,
    client_host     TEXT,                   -- host name libmilter gave
    client_family   TEXT,                   -- inet, inet6, unix, unknown
    client_addr     TEXT,
    client_port     INTEGER,
    client_name     TEXT,                   -- {client_name}
    client_ptr      TEXT,                   -- {client_ptr}
    name_status     TEXT,                   -- resolved, literal, unknown
    daemon_name     TEXT,
    daemon_addr     TEXT,
    mta_name        TEXT,                   -- macro j
    mta_version     TEXT,                   -- macro v
    helo            TEXT,                   -- the last HELO/EHLO name
    helo_count      INTEGER NOT NULL DEFAULT 0,
    tls_version     TEXT,                   -- latest, see tls_results
    auth_type       TEXT,                   -- latest, see auth_results
    auth_user       TEXT,
    auth_failures   INTEGER,                -- NULL: no milter sees them
    close_reason    TEXT,
    n_transactions  INTEGER NOT NULL DEFAULT 0,
    n_messages      INTEGER NOT NULL DEFAULT 0,
    n_recipients    INTEGER NOT NULL DEFAULT 0,
    n_unknown       INTEGER NOT NULL DEFAULT 0,
    connect_missing TEXT                    -- macros not sent at connect
);
CREATE INDEX IF NOT EXISTS sessions_started ON sessions (started_us);
CREATE INDEX IF NOT EXISTS sessions_client ON sessions (client_addr);
CREATE INDEX IF NOT EXISTS sessions_auth_user ON sessions (auth_user);

-- One row per transaction (MAIL to end of message or abort).
CREATE TABLE IF NOT EXISTS transactions (
    session_id      TEXT NOT NULL REFERENCES sessions (session_id),
    txn_no          INTEGER NOT NULL,       -- 1, 2, ... within the session
    started_us      INTEGER NOT NULL,
    started_utc     TEXT NOT NULL,
    ended_us        INTEGER,
    ended_utc       TEXT,
    state           TEXT NOT NULL DEFAULT 'open'
                    CHECK (state IN ('open', 'completed', 'aborted')),
    last_stage      TEXT,
    abort_reason    TEXT,
    sender_path     BLOB,                   -- MAIL FROM path as given
    sender          TEXT,                   -- address, escaped; '' for <>
    sender_domain   TEXT,
    is_null_sender  INTEGER,                -- 1 for MAIL FROM:<>
    auth_type       TEXT,
    auth_user       TEXT,
    auth_author     TEXT,
    queue_id        TEXT,                   -- first stage that had one
    n_recipients    INTEGER NOT NULL DEFAULT 0,
    n_rejected      INTEGER NOT NULL DEFAULT 0,
    n_headers       INTEGER NOT NULL DEFAULT 0,
    body_size       INTEGER,
    body_sha256     TEXT,
    body_chunks     INTEGER,
    PRIMARY KEY (session_id, txn_no)
);
CREATE INDEX IF NOT EXISTS transactions_started ON transactions (started_us);
CREATE INDEX IF NOT EXISTS transactions_sender ON transactions (sender);
CREATE INDEX IF NOT EXISTS transactions_queue_id ON transactions (queue_id);
CREATE INDEX IF NOT EXISTS transactions_auth_user
    ON transactions (auth_user);

-- One row per RCPT TO, including those the MTA itself rejected.
CREATE TABLE IF NOT EXISTS recipients (
    session_id      TEXT NOT NULL,
    txn_no          INTEGER NOT NULL,
    rcpt_no         INTEGER NOT NULL,
    time_us         INTEGER NOT NULL,
    path            BLOB,                   -- RCPT TO path as given
    recipient       TEXT,                   -- address, escaped
    accepted        INTEGER NOT NULL,       -- by the MTA
    mta_status      TEXT,                   -- enhanced status if rejected
    mta_reply       TEXT,                   -- reply text if rejected
    rcpt_mailer     TEXT,
    rcpt_host       TEXT,
    rcpt_addr       TEXT,
    PRIMARY KEY (session_id, txn_no, rcpt_no),
    FOREIGN KEY (session_id, txn_no)
        REFERENCES transactions (session_id, txn_no)
);
CREATE INDEX IF NOT EXISTS recipients_recipient ON recipients (recipient);

-- ESMTP parameters of MAIL (rcpt_no 0) and RCPT, in order.
CREATE TABLE IF NOT EXISTS esmtp_params (
    session_id      TEXT NOT NULL,
    txn_no          INTEGER NOT NULL,
    rcpt_no         INTEGER NOT NULL,       -- 0 for MAIL FROM
    position        INTEGER NOT NULL,       -- 1, 2, ...
    keyword         TEXT NOT NULL,          -- escaped, case as sent
    value           BLOB,                   -- NULL when no "="
    value_text      TEXT,                   -- escaped
    PRIMARY KEY (session_id, txn_no, rcpt_no, position),
    FOREIGN KEY (session_id, txn_no)
        REFERENCES transactions (session_id, txn_no)
);

-- Each header of each message, in order.
CREATE TABLE IF NOT EXISTS headers (
    session_id      TEXT NOT NULL,
    txn_no          INTEGER NOT NULL,
    position        INTEGER NOT NULL,
    name            BLOB NOT NULL,
    value           BLOB NOT NULL,          -- as received (maybe cut)
    name_text       TEXT NOT NULL,          -- escaped
    value_text      TEXT NOT NULL,          -- escaped
    value_len       INTEGER NOT NULL,       -- length before any cut
    cut             INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (session_id, txn_no, position),
    FOREIGN KEY (session_id, txn_no)
        REFERENCES transactions (session_id, txn_no)
);

-- AUTH as the MTA reported it (successful AUTH only: a failed attempt
-- never reaches a milter).
CREATE TABLE IF NOT EXISTS auth_results (
    session_id      TEXT NOT NULL REFERENCES sessions (session_id),
    seq             INTEGER NOT NULL,
    time_us         INTEGER NOT NULL,
    mechanism       TEXT,
    authen          TEXT,
    author          TEXT,
    ssf             TEXT,
    PRIMARY KEY (session_id, seq)
);
CREATE INDEX IF NOT EXISTS auth_results_authen ON auth_results (authen);

-- TLS as the MTA reported it, from the HELO after STARTTLS on.
CREATE TABLE IF NOT EXISTS tls_results (
    session_id      TEXT NOT NULL REFERENCES sessions (session_id),
    seq             INTEGER NOT NULL,
    time_us         INTEGER NOT NULL,
    version         TEXT,
    cipher          TEXT,
    cipher_bits     INTEGER,
    cert_subject    TEXT,
    cert_issuer     TEXT,
    verify          TEXT,
    PRIMARY KEY (session_id, seq)
);

-- The ordered transcript: one row per event.  The key makes a record
-- that arrives twice (a batch sent again) count once.  source leaves
-- room for events learnt from the MTA's log rather than the milter.
CREATE TABLE IF NOT EXISTS events (
    instance_id     TEXT NOT NULL,
    session_id      TEXT NOT NULL REFERENCES sessions (session_id),
    seq             INTEGER NOT NULL,
    time_us         INTEGER NOT NULL,
    time_utc        TEXT NOT NULL,
    stage           TEXT NOT NULL,
    txn_no          INTEGER,                -- NULL outside a transaction
    arg             BLOB,                   -- main argument, raw bytes
    text            TEXT NOT NULL,          -- readable, escaped
    missing_macros  TEXT,                   -- requested but not sent
    source          TEXT NOT NULL DEFAULT 'milter',
    decision        TEXT,                   -- policy answer, if any
    rule            TEXT,                   -- the rule that gave it
    PRIMARY KEY (instance_id, session_id, seq)
);
CREATE INDEX IF NOT EXISTS events_session ON events (session_id, seq);

-- Every policy decision, with the event it answered (session, seq).
-- mode: enforced (the answer the MTA got), monitor (global monitor mode:
-- what would have happened), shadow (a shadowed rule: the same).
CREATE TABLE IF NOT EXISTS decisions (
    session_id      TEXT NOT NULL REFERENCES sessions (session_id),
    seq             INTEGER NOT NULL,
    position        INTEGER NOT NULL,       -- 1, 2, ... within the event
    time_us         INTEGER NOT NULL,
    time_utc        TEXT NOT NULL,
    stage           TEXT NOT NULL,
    txn_no          INTEGER,
    rule            TEXT NOT NULL,
    action          TEXT NOT NULL,
    mode            TEXT NOT NULL
                    CHECK (mode IN ('enforced', 'monitor', 'shadow')),
    reply           TEXT,                   -- reply, header, reason or tag
    PRIMARY KEY (session_id, seq, position)
);
CREATE INDEX IF NOT EXISTS decisions_rule ON decisions (rule, time_us);
CREATE INDEX IF NOT EXISTS events_time ON events (time_us);

PRAGMA user_version = 1;
