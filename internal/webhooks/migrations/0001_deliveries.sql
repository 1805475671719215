-- Every delivery GitHub sent us, committed before the 2xx answer.
CREATE TABLE deliveries (
    id {{serial}},
    delivery_id TEXT NOT NULL UNIQUE,
    event TEXT NOT NULL,
    action TEXT,
    hook_id BIGINT,
    installation_id BIGINT,
    repo TEXT,
    received_at TEXT NOT NULL,
    payload_size BIGINT NOT NULL,
    processed_at TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    next_attempt_at TEXT NOT NULL,
    archived_at TEXT
);
-- The large parts live in their own table, written once: updating a delivery's
-- state (processed_at, archived_at) then never rewrites its payload.
CREATE TABLE delivery_payloads (
    delivery_pk BIGINT PRIMARY KEY REFERENCES deliveries (id),
    headers {{json}} NOT NULL,
    payload {{bytes}} NOT NULL
);
CREATE INDEX deliveries_unprocessed ON deliveries (id) WHERE processed_at IS NULL;
CREATE INDEX deliveries_unarchived ON deliveries (id) WHERE archived_at IS NULL;
CREATE INDEX deliveries_event_id ON deliveries (event, id);
CREATE INDEX deliveries_received ON deliveries (received_at);
