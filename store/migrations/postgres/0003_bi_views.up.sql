-- Stable, documented views for BI tools (docs/bi-views.md). Internal tables
-- may change between releases; these names and columns do not. Timestamps
-- are timestamptz.

-- Every account with its latest score, reasons and key metrics. Accounts
-- never scored have NULL score columns.
CREATE VIEW bi_accounts AS
SELECT
    a.connection,
    a.id                                                   AS account_id,
    a.name,
    a.owner_id,
    s.score,
    NULLIF(s.grade, '')                                    AS grade,
    s.trend,
    (SELECT string_agg(r.value, '; ' ORDER BY r.n)
       FROM jsonb_array_elements_text(CASE WHEN jsonb_typeof(s.reasons) = 'array' THEN s.reasons ELSE '[]'::jsonb END) WITH ORDINALITY AS r(value, n)) AS reasons,
    to_timestamp(s.scored_at / 1000.0)                     AS scored_at,
    CASE WHEN jsonb_typeof(s.metrics -> 'days_since_exec_contact') = 'number' THEN (s.metrics ->> 'days_since_exec_contact')::double precision END AS days_since_exec_contact,
    CASE WHEN jsonb_typeof(s.metrics -> 'days_to_renewal') = 'number' THEN (s.metrics ->> 'days_to_renewal')::double precision END AS days_to_renewal,
    CASE WHEN jsonb_typeof(s.metrics -> 'renewal_amount') = 'number' THEN (s.metrics ->> 'renewal_amount')::double precision END AS renewal_amount,
    CASE WHEN jsonb_typeof(s.metrics -> 'arr') = 'number' THEN (s.metrics ->> 'arr')::double precision END AS arr,
    s.metrics ->> 'lifecycle_stage'                        AS lifecycle_stage,
    s.metrics ->> 'segment'                                AS segment
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
    to_timestamp(s.scored_at / 1000.0) AS scored_at,
    s.score,
    NULLIF(s.grade, '') AS grade,
    s.trend
FROM scores s;

-- One row per risk flag raised by each account's latest score.
CREATE VIEW bi_flags AS
SELECT
    s.connection,
    s.account_id,
    f.value ->> 'name'        AS flag,
    f.value ->> 'description' AS description,
    to_timestamp(s.scored_at / 1000.0) AS scored_at
FROM scores s
CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(s.flags) = 'array' THEN s.flags ELSE '[]'::jsonb END) AS f(value)
WHERE jsonb_typeof(f.value) = 'object'
  AND s.scored_at = (SELECT max(m.scored_at) FROM scores m
                     WHERE m.connection = s.connection AND m.account_id = s.account_id);

-- The follow-up tasks healthsync created, one per flag episode.
CREATE VIEW bi_tasks AS
SELECT
    t.connection,
    t.key                 AS task_key,
    NULLIF(t.task_id, '') AS task_id,
    t.account_id,
    t.flag,
    t.status,
    to_timestamp(t.created_at / 1000.0) AS created_at,
    to_timestamp(t.closed_at / 1000.0)  AS closed_at
FROM tasks t;

-- Sync, score and writeback runs with their duration and record counts.
CREATE VIEW bi_sync_runs AS
SELECT
    r.id          AS run_id,
    r.connection,
    r.kind,
    to_timestamp(r.started_at / 1000.0)  AS started_at,
    to_timestamp(r.finished_at / 1000.0) AS finished_at,
    ((r.finished_at - r.started_at) / 1000.0)::double precision AS duration_seconds,
    r.api_calls,
    r.status,
    NULLIF(r.stop_reason, '') AS stop_reason,
    coalesce((SELECT sum((c.value ->> 'new')::bigint) FROM jsonb_each(CASE WHEN jsonb_typeof(r.counts) = 'object' THEN r.counts ELSE '{}'::jsonb END) AS c(key, value)), 0)::bigint      AS records_new,
    coalesce((SELECT sum((c.value ->> 'changed')::bigint) FROM jsonb_each(CASE WHEN jsonb_typeof(r.counts) = 'object' THEN r.counts ELSE '{}'::jsonb END) AS c(key, value)), 0)::bigint  AS records_changed,
    coalesce((SELECT sum((c.value ->> 'deleted')::bigint) FROM jsonb_each(CASE WHEN jsonb_typeof(r.counts) = 'object' THEN r.counts ELSE '{}'::jsonb END) AS c(key, value)), 0)::bigint  AS records_deleted,
    coalesce((SELECT sum((c.value ->> 'problems')::bigint) FROM jsonb_each(CASE WHEN jsonb_typeof(r.counts) = 'object' THEN r.counts ELSE '{}'::jsonb END) AS c(key, value)), 0)::bigint AS record_problems
FROM sync_runs r;
