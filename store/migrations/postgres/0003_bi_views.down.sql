DROP VIEW IF EXISTS bi_sync_runs;
DROP VIEW IF EXISTS bi_tasks;
DROP VIEW IF EXISTS bi_flags;
DROP VIEW IF EXISTS bi_score_history;
DROP VIEW IF EXISTS bi_accounts;
