-- views.sql - read-only views for auditors (sqlite3 smtpwarden.db).
-- smtpwardend recreates them at every start, so they always match the
-- schema.

DROP VIEW IF EXISTS transcript;
DROP VIEW IF EXISTS messages;
DROP VIEW IF EXISTS rejected_recipients;
DROP VIEW IF EXISTS auth_activity;
DROP VIEW IF EXISTS tls_usage;
DROP VIEW IF EXISTS volume_per_day;
DROP VIEW IF EXISTS rule_hits_per_day;

-- Every event of every session, in order.
CREATE VIEW transcript AS
SELECT e.session_id AS session_id,
       e.time_utc   AS time,
       e.seq        AS seq,
       e.stage      AS stage,
       e.txn_no     AS txn,
       e.text       AS text,
       (SELECT group_concat(d.rule || ': ' || d.action ||
               CASE d.mode WHEN 'enforced' THEN '' ELSE ' (' || d.mode
               || ')' END || coalesce(' "' || nullif(d.reply, '') || '"',
               ''), '; ')
          FROM decisions d
         WHERE d.session_id = e.session_id AND d.seq = e.seq) AS decision
  FROM events e JOIN sessions s USING (session_id)
 ORDER BY s.started_us, e.session_id, e.seq;

-- One row per transaction.
CREATE VIEW messages AS
SELECT t.session_id   AS session_id,
       t.txn_no       AS txn,
       t.started_utc  AS time,
       s.client_addr  AS client,
       t.auth_user    AS auth_user,
       CASE WHEN t.is_null_sender THEN '<>' ELSE t.sender END AS sender,
       (SELECT group_concat(recipient, ', ')
          FROM (SELECT recipient FROM recipients r
                 WHERE r.session_id = t.session_id
                   AND r.txn_no = t.txn_no AND r.accepted
                 ORDER BY r.rcpt_no)) AS recipients,
       t.n_rejected   AS rejected,
       t.queue_id     AS queue_id,
       t.body_size    AS size,
       t.body_sha256  AS sha256,
       coalesce(
           (SELECT d.action || ' by ' || d.rule FROM decisions d
             WHERE d.session_id = t.session_id AND d.txn_no = t.txn_no
               AND d.mode = 'enforced' AND d.stage <> 'rcpt'
               AND d.action IN ('reject', 'tempfail', 'discard')
             ORDER BY d.seq LIMIT 1),
           CASE t.state WHEN 'completed' THEN 'accepted' ||
                coalesce((SELECT ', quarantined by ' || d.rule
                            FROM decisions d
                           WHERE d.session_id = t.session_id
                             AND d.txn_no = t.txn_no
                             AND d.mode = 'enforced'
                             AND d.action = 'quarantine' LIMIT 1), '')
                WHEN 'aborted' THEN 'aborted: ' || t.abort_reason
                ELSE 'open' END) AS outcome
  FROM transactions t JOIN sessions s USING (session_id)
 ORDER BY t.started_us, t.session_id, t.txn_no;

-- Recipients the MTA refused, with its reply.
CREATE VIEW rejected_recipients AS
SELECT r.session_id, r.txn_no AS txn, t.started_utc AS time,
       t.sender, r.recipient, r.mta_status, r.mta_reply
  FROM recipients r JOIN transactions t USING (session_id, txn_no)
 WHERE NOT r.accepted
 ORDER BY r.time_us;

-- Everything each AUTH user sent.
CREATE VIEW auth_activity AS
SELECT t.auth_user, t.auth_type, t.started_utc AS time, t.session_id,
       t.txn_no AS txn, t.sender, t.n_recipients AS recipients,
       t.queue_id, t.state
  FROM transactions t
 WHERE t.auth_user IS NOT NULL
 ORDER BY t.auth_user, t.started_us;

-- TLS versions and ciphers in use.
CREATE VIEW tls_usage AS
SELECT version, cipher, cipher_bits, count(*) AS sessions
  FROM tls_results
 GROUP BY version, cipher, cipher_bits
 ORDER BY sessions DESC;

-- Sessions, messages and recipients per UTC day.
CREATE VIEW volume_per_day AS
SELECT substr(s.started_utc, 1, 10) AS day,
       count(*) AS sessions,
       sum(s.n_messages) AS messages,
       sum(s.n_recipients) AS recipients
  FROM sessions s
 GROUP BY day
 ORDER BY day;

-- Hits per rule per day: what was enforced and what would have been.
CREATE VIEW rule_hits_per_day AS
SELECT substr(time_utc, 1, 10) AS day, rule, action,
       sum(mode = 'enforced') AS enforced,
       sum(mode <> 'enforced') AS would_have,
       count(*) AS hits
  FROM decisions
 GROUP BY day, rule, action
 ORDER BY day, rule;
