-- A view cannot lose a column in place: it is dropped and made again as
-- 0003 made it (grants on it must be given again).
DROP VIEW bi_sync_runs;
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
DROP TABLE object_pulls;
ALTER TABLE sync_runs DROP COLUMN seen_at;
