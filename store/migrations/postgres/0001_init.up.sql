-- Raw CRM records as received, so a mapping change can be re-applied
-- without downloading again.
CREATE TABLE raw_records (
    connection  TEXT    NOT NULL,
    object      TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    modified_at BIGINT  NOT NULL, -- epoch milliseconds, UTC
    deleted     BOOLEAN NOT NULL DEFAULT FALSE,
    raw         TEXT    NOT NULL,
    fetched_at  BIGINT  NOT NULL,
    PRIMARY KEY (connection, object, id)
);

-- Canonical entities: key columns for joins and ordering, the rest as JSON
-- of the crm package's types.
CREATE TABLE accounts (
    connection  TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    name        TEXT    NOT NULL DEFAULT '',
    owner_id    TEXT    NOT NULL DEFAULT '',
    modified_at BIGINT  NOT NULL,
    data        JSONB   NOT NULL,
    PRIMARY KEY (connection, id)
);

CREATE TABLE contacts (
    connection  TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    account_id  TEXT    NOT NULL DEFAULT '',
    modified_at BIGINT  NOT NULL,
    data        JSONB   NOT NULL,
    PRIMARY KEY (connection, id)
);
CREATE INDEX contacts_account ON contacts (connection, account_id);

CREATE TABLE opportunities (
    connection  TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    account_id  TEXT    NOT NULL DEFAULT '',
    modified_at BIGINT  NOT NULL,
    data        JSONB   NOT NULL,
    PRIMARY KEY (connection, id)
);
CREATE INDEX opportunities_account ON opportunities (connection, account_id);

CREATE TABLE activities (
    connection  TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    object      TEXT    NOT NULL,
    account_id  TEXT    NOT NULL DEFAULT '',
    occurred_at BIGINT  NOT NULL,
    modified_at BIGINT  NOT NULL,
    data        JSONB   NOT NULL,
    PRIMARY KEY (connection, id)
);
CREATE INDEX activities_account ON activities (connection, account_id);

CREATE TABLE users (
    connection  TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    modified_at BIGINT  NOT NULL,
    data        JSONB   NOT NULL,
    PRIMARY KEY (connection, id)
);

-- Incremental watermark per connection and object.
CREATE TABLE cursors (
    connection  TEXT    NOT NULL,
    object      TEXT    NOT NULL,
    modified_at BIGINT  NOT NULL,
    last_id     TEXT    NOT NULL,
    fields_hash TEXT    NOT NULL DEFAULT '',
    updated_at  BIGINT  NOT NULL,
    PRIMARY KEY (connection, object)
);

-- Small per-connection state: mapping hash, last reconciliation, ...
CREATE TABLE state (
    connection TEXT NOT NULL,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    PRIMARY KEY (connection, key)
);

CREATE TABLE sync_runs (
    id          BIGSERIAL PRIMARY KEY,
    connection  TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    started_at  BIGINT  NOT NULL,
    finished_at BIGINT,
    status      TEXT    NOT NULL,
    stop_reason TEXT    NOT NULL DEFAULT '',
    api_calls   BIGINT  NOT NULL DEFAULT 0,
    counts      JSONB   NOT NULL DEFAULT '{}',
    problems    JSONB   NOT NULL DEFAULT '[]'
);
CREATE INDEX sync_runs_connection ON sync_runs (connection, started_at);

CREATE TABLE scores (
    connection TEXT    NOT NULL,
    account_id TEXT    NOT NULL,
    scored_at  BIGINT  NOT NULL,
    score      DOUBLE PRECISION,
    grade      TEXT    NOT NULL DEFAULT '',
    trend      DOUBLE PRECISION,
    reasons    JSONB   NOT NULL DEFAULT '[]',
    flags      JSONB   NOT NULL DEFAULT '[]',
    metrics    JSONB   NOT NULL DEFAULT '{}',
    PRIMARY KEY (connection, account_id, scored_at)
);

-- What healthsync last wrote, per record and field.
CREATE TABLE writeback_ledger (
    connection TEXT    NOT NULL,
    object     TEXT    NOT NULL,
    record_id  TEXT    NOT NULL,
    field      TEXT    NOT NULL,
    value      TEXT    NOT NULL,
    written_at BIGINT  NOT NULL,
    PRIMARY KEY (connection, object, record_id, field)
);

-- Follow-up tasks, one per flag episode, keyed deterministically.
CREATE TABLE tasks (
    connection TEXT    NOT NULL,
    key        TEXT    NOT NULL,
    task_id    TEXT    NOT NULL DEFAULT '',
    account_id TEXT    NOT NULL,
    flag       TEXT    NOT NULL,
    status     TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    closed_at  BIGINT,
    PRIMARY KEY (connection, key)
);
CREATE INDEX tasks_account ON tasks (connection, account_id, flag);

-- OAuth tokens, AES-256-GCM sealed; never clear text.
CREATE TABLE oauth_tokens (
    connection TEXT    NOT NULL PRIMARY KEY,
    sealed     BYTEA   NOT NULL,
    updated_at BIGINT  NOT NULL
);
