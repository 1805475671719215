-- DynamoDB projections (spec 30-webhooks.md, Projections, "DynamoDB as an
-- option"): projection rows to mirror to DynamoDB, written in the projection
-- (or classification) transaction and drained by the DynamoDB syncer, which
-- reads the row's current state. seq changes on every new change of the row
-- so that a drain that read an older state does not drop the newer change.
CREATE TABLE dynamo_outbox (
    id {{serial}},
    tbl TEXT NOT NULL,
    key TEXT NOT NULL,
    seq BIGINT NOT NULL DEFAULT 1,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error TEXT,
    UNIQUE (tbl, key)
);
CREATE INDEX dynamo_outbox_due ON dynamo_outbox (next_attempt_at);
