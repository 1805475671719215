-- CI job logs (spec 30-webhooks.md, "Logs and log classification"): one row
-- per workflow job whose log is to be downloaded, queued in the same
-- transaction as the completed workflow_job projection, worked off by the
-- log downloader with retries; the classification also lands on the
-- workflow_job row (classification: the JSON match, or JSON null for no
-- match; classification_rule: the rule name, for filtering).
CREATE TABLE log_downloads (
    id {{serial}},
    job_key TEXT NOT NULL UNIQUE,
    repo TEXT NOT NULL,
    job_id BIGINT NOT NULL,
    conclusion TEXT,
    delivery_id TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    lease_until TEXT,
    last_error TEXT,
    log_bytes BIGINT,
    classified_bytes BIGINT,
    rule TEXT,
    created_at TEXT NOT NULL,
    done_at TEXT
);
CREATE INDEX log_downloads_due ON log_downloads (state, next_attempt_at);
ALTER TABLE workflow_job ADD COLUMN classification {{json}};
ALTER TABLE workflow_job ADD COLUMN classification_rule TEXT;
CREATE INDEX workflow_job_classification ON workflow_job (classification_rule, updated_at);
