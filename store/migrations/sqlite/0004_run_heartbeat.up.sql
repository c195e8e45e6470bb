-- Runs that end: seen_at is when a run was last known alive (its start,
-- each committed page, each apply step, its end). A run a dead process
-- left "running" is marked "interrupted" by the next run that holds the
-- connection, with finished_at set to the time it was last seen.
ALTER TABLE sync_runs ADD COLUMN seen_at INTEGER; -- epoch milliseconds, UTC
UPDATE sync_runs SET seen_at = coalesce(finished_at, started_at);

-- When each object was last pulled completely (every change up to the
-- CRM's newest committed): the sync lag counts from here, so an object
-- nobody edits does not look stuck.
CREATE TABLE object_pulls (
    connection TEXT    NOT NULL,
    object     TEXT    NOT NULL,
    pulled_at  INTEGER NOT NULL, -- epoch milliseconds, UTC: when that pull started
    PRIMARY KEY (connection, object)
);

-- bi_sync_runs gains last_seen_at, at the end (docs/bi-views.md).
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
    coalesce((SELECT sum(json_extract(c.value, '$.problems')) FROM json_each(r.counts) c), 0) AS record_problems,
    strftime('%Y-%m-%dT%H:%M:%fZ', r.seen_at / 1000.0, 'unixepoch')     AS last_seen_at
FROM sync_runs r;
