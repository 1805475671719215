-- CircleCI webhooks (spec 30-webhooks.md, "Other senders"): every delivery
-- stored before the 2xx (circleci_deliveries, deduplicated on the payload's
-- id), archived from there, and projected into circleci_job.
CREATE TABLE circleci_deliveries (
    id {{serial}},
    delivery_id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    received_at TEXT NOT NULL,
    happened_at TEXT,
    payload {{bytes}} NOT NULL,
    archived_at TEXT
);
CREATE INDEX circleci_deliveries_unarchived ON circleci_deliveries (id) WHERE archived_at IS NULL;
CREATE TABLE circleci_job (
    key TEXT PRIMARY KEY,
    project TEXT NOT NULL,
    workflow_id TEXT,
    workflow_name TEXT,
    job_id TEXT,
    job_name TEXT,
    job_number BIGINT,
    status TEXT,
    started_at TEXT,
    stopped_at TEXT,
    happened_at TEXT NOT NULL,
    delivery_id TEXT NOT NULL,
    received_at TEXT NOT NULL,
    revision INTEGER NOT NULL DEFAULT 1,
    payload {{json}} NOT NULL
);
CREATE INDEX circleci_job_project ON circleci_job (project, happened_at);
