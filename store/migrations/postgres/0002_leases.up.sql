-- One lease per CRM connection: the replica that holds it syncs and writes
-- that connection; an expired lease (a dead replica) can be taken over.
CREATE TABLE leases (
    connection TEXT   NOT NULL PRIMARY KEY,
    holder     TEXT   NOT NULL,
    expires_at BIGINT NOT NULL -- epoch milliseconds, UTC
);
