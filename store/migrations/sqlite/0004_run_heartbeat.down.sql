DROP VIEW bi_sync_runs;
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
DROP TABLE object_pulls;
ALTER TABLE sync_runs DROP COLUMN seen_at;
