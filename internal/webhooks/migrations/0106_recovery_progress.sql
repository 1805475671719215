-- Progress of the recovery jobs (spec 30-webhooks.md, "Missed deliveries").
-- reconcile_checks: the outcome of the last refresh of a stuck workflow job
-- (row_updated_at: the row's updated_at when it was checked; a row changed
-- since then counts as never checked), so that rows the API cannot help
-- (404, no access, unchanged) wait next_check_at (exponential back-off in
-- attempts) instead of taking every run's batch.
CREATE TABLE reconcile_checks (
    job_key TEXT PRIMARY KEY,
    row_updated_at TEXT NOT NULL,
    checked_at TEXT NOT NULL,
    next_check_at TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    outcome TEXT NOT NULL
);
-- redeliver_cursors: per redeliver job, the newest GitHub hook delivery id
-- up to which every listed delivery was stored or its redelivery requested;
-- the next run lists only the pages newer than it.
CREATE TABLE redeliver_cursors (
    name TEXT PRIMARY KEY,
    last_delivery_id BIGINT NOT NULL,
    updated_at TEXT NOT NULL
);
