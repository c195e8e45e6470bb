-- Runs that end: seen_at is when a run was last known alive (its start,
-- each committed page, each apply step, its end). A run a dead process
-- left "running" is marked "interrupted" by the next run that holds the
-- connection's lease, with finished_at set to the time it was last seen.
ALTER TABLE sync_runs ADD COLUMN seen_at BIGINT; -- epoch milliseconds, UTC
UPDATE sync_runs SET seen_at = coalesce(finished_at, started_at);

-- When each object was last pulled completely (every change up to the
-- CRM's newest committed): the sync lag counts from here, so an object
-- nobody edits does not look stuck.
CREATE TABLE object_pulls (
    connection TEXT   NOT NULL,
    object     TEXT   NOT NULL,
    pulled_at  BIGINT NOT NULL, -- epoch milliseconds, UTC: when that pull started
    PRIMARY KEY (connection, object)
);

-- bi_sync_runs gains last_seen_at, at the end (docs/bi-views.md). Replaced
-- in place, so the SELECT a BI role was granted on it stays.
CREATE OR REPLACE VIEW bi_sync_runs AS
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
    coalesce((SELECT sum((c.value ->> 'problems')::bigint) FROM jsonb_each(CASE WHEN jsonb_typeof(r.counts) = 'object' THEN r.counts ELSE '{}'::jsonb END) AS c(key, value)), 0)::bigint AS record_problems,
    to_timestamp(r.seen_at / 1000.0)     AS last_seen_at
FROM sync_runs r;
