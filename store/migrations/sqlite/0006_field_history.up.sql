-- Field history: the value each history field of an account or an
-- opportunity held until it changed (changes only: a field that never
-- changes has no row; its current value is in the canonical table).
-- account_id is the account the record belongs to, so the history streams
-- beside an account's contacts and opportunities.
CREATE TABLE field_history (
    connection  TEXT    NOT NULL,
    entity      TEXT    NOT NULL, -- account, opportunity
    record_id   TEXT    NOT NULL,
    field       TEXT    NOT NULL, -- canonical field (crm.Field...)
    until_at    INTEGER    NOT NULL, -- epoch ms when the next value took effect
    account_id  TEXT    NOT NULL DEFAULT '',
    value       TEXT    NOT NULL, -- JSON of the canonical value, null when empty
    PRIMARY KEY (connection, entity, record_id, field, until_at)
) WITHOUT ROWID;
CREATE INDEX field_history_account ON field_history (connection, account_id, entity, record_id, field, until_at);

-- From when each field's history is complete: from the CRM's field
-- history (backfill) or from the first sync that stored the field.
CREATE TABLE history_from (
    connection TEXT    NOT NULL,
    entity     TEXT    NOT NULL,
    field      TEXT    NOT NULL,
    from_at    INTEGER    NOT NULL, -- epoch ms
    source     TEXT    NOT NULL, -- sync, crm
    PRIMARY KEY (connection, entity, field)
) WITHOUT ROWID;
