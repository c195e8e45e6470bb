-- Stable, documented views for BI tools (docs/bi-views.md). Internal tables
-- may change between releases; these names and columns do not. Timestamps
-- are ISO 8601 UTC text (SQLite has no timestamp type).

-- Every account with its latest score, reasons and key metrics. Accounts
-- never scored have NULL score columns.
CREATE VIEW bi_accounts AS
SELECT
    a.connection,
    a.id                                                            AS account_id,
    a.name,
    a.owner_id,
    s.score,
    NULLIF(s.grade, '')                                             AS grade,
    s.trend,
    (SELECT group_concat(r.value, '; ') FROM json_each(s.reasons) r WHERE r.type = 'text') AS reasons,
    strftime('%Y-%m-%dT%H:%M:%fZ', s.scored_at / 1000.0, 'unixepoch') AS scored_at,
    CASE WHEN json_type(s.metrics, '$.days_since_exec_contact') IN ('integer', 'real') THEN json_extract(s.metrics, '$.days_since_exec_contact') END AS days_since_exec_contact,
    CASE WHEN json_type(s.metrics, '$.days_to_renewal') IN ('integer', 'real') THEN json_extract(s.metrics, '$.days_to_renewal') END AS days_to_renewal,
    CASE WHEN json_type(s.metrics, '$.renewal_amount') IN ('integer', 'real') THEN json_extract(s.metrics, '$.renewal_amount') END AS renewal_amount,
    CASE WHEN json_type(s.metrics, '$.arr') IN ('integer', 'real') THEN json_extract(s.metrics, '$.arr') END AS arr,
    CASE WHEN json_type(s.metrics, '$.lifecycle_stage') = 'text' THEN json_extract(s.metrics, '$.lifecycle_stage') END AS lifecycle_stage,
    CASE WHEN json_type(s.metrics, '$.segment') = 'text' THEN json_extract(s.metrics, '$.segment') END AS segment
FROM accounts a
LEFT JOIN scores s
    ON s.connection = a.connection AND s.account_id = a.id
   AND s.scored_at = (SELECT max(m.scored_at) FROM scores m
                      WHERE m.connection = a.connection AND m.account_id = a.id);

-- Every stored score: one row per account and scoring day.
CREATE VIEW bi_score_history AS
SELECT
    s.connection,
    s.account_id,
    strftime('%Y-%m-%dT%H:%M:%fZ', s.scored_at / 1000.0, 'unixepoch') AS scored_at,
    s.score,
    NULLIF(s.grade, '') AS grade,
    s.trend
FROM scores s;

-- One row per risk flag raised by each account's latest score.
CREATE VIEW bi_flags AS
SELECT
    s.connection,
    s.account_id,
    json_extract(f.value, '$.name')        AS flag,
    json_extract(f.value, '$.description') AS description,
    strftime('%Y-%m-%dT%H:%M:%fZ', s.scored_at / 1000.0, 'unixepoch') AS scored_at
FROM scores s, json_each(s.flags) f
WHERE f.type = 'object'
  AND s.scored_at = (SELECT max(m.scored_at) FROM scores m
                     WHERE m.connection = s.connection AND m.account_id = s.account_id);

-- The follow-up tasks healthsync created, one per flag episode.
CREATE VIEW bi_tasks AS
SELECT
    t.connection,
    t.key                AS task_key,
    NULLIF(t.task_id, '') AS task_id,
    t.account_id,
    t.flag,
    t.status,
    strftime('%Y-%m-%dT%H:%M:%fZ', t.created_at / 1000.0, 'unixepoch') AS created_at,
    strftime('%Y-%m-%dT%H:%M:%fZ', t.closed_at / 1000.0, 'unixepoch')  AS closed_at
FROM tasks t;

-- Sync, score and writeback runs with their duration and record counts.
CREATE VIEW bi_sync_runs AS
SELECT
    r.id          AS run_id,
    r.connection,
    r.kind,
    strftime('%Y-%m-%dT%H:%M:%fZ', r.started_at / 1000.0, 'unixepoch')  AS started_at,
    strftime('%Y-%m-%dT%H:%M:%fZ', r.finished_at / 1000.0, 'unixepoch') AS finished_at,
    (r.finished_at - r.started_at) / 1000.0 AS duration_seconds,
    r.api_calls,
    r.status,
    NULLIF(r.stop_reason, '') AS stop_reason,
    coalesce((SELECT sum(json_extract(c.value, '$.new')) FROM json_each(r.counts) c), 0)      AS records_new,
    coalesce((SELECT sum(json_extract(c.value, '$.changed')) FROM json_each(r.counts) c), 0)  AS records_changed,
    coalesce((SELECT sum(json_extract(c.value, '$.deleted')) FROM json_each(r.counts) c), 0)  AS records_deleted,
    coalesce((SELECT sum(json_extract(c.value, '$.problems')) FROM json_each(r.counts) c), 0) AS record_problems
FROM sync_runs r;
