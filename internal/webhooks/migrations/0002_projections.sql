-- One table per projected event, keyed as in spec 30-webhooks.md. Every table has
-- the same columns so that one query serves all of them. order_key is the
-- ordering guard: an update is applied only when its order_key is >= the stored one.
CREATE TABLE workflow_job (
    key TEXT PRIMARY KEY,
    repo TEXT NOT NULL,
    number BIGINT,
    action TEXT,
    status TEXT,
    conclusion TEXT,
    name TEXT,
    head_sha TEXT,
    updated_at TEXT NOT NULL,
    order_key TEXT NOT NULL,
    delivery_id TEXT NOT NULL,
    received_at TEXT NOT NULL,
    revision INTEGER NOT NULL DEFAULT 1,
    object {{json}} NOT NULL
);
CREATE INDEX workflow_job_repo_updated ON workflow_job (repo, updated_at);
CREATE INDEX workflow_job_updated ON workflow_job (updated_at);
CREATE INDEX workflow_job_status_updated ON workflow_job (status, updated_at);
CREATE TABLE workflow_run (
    key TEXT PRIMARY KEY,
    repo TEXT NOT NULL,
    number BIGINT,
    action TEXT,
    status TEXT,
    conclusion TEXT,
    name TEXT,
    head_sha TEXT,
    updated_at TEXT NOT NULL,
    order_key TEXT NOT NULL,
    delivery_id TEXT NOT NULL,
    received_at TEXT NOT NULL,
    revision INTEGER NOT NULL DEFAULT 1,
    object {{json}} NOT NULL
);
CREATE INDEX workflow_run_repo_updated ON workflow_run (repo, updated_at);
CREATE INDEX workflow_run_updated ON workflow_run (updated_at);
CREATE INDEX workflow_run_status_updated ON workflow_run (status, updated_at);
CREATE TABLE issues (
    key TEXT PRIMARY KEY,
    repo TEXT NOT NULL,
    number BIGINT,
    action TEXT,
    status TEXT,
    conclusion TEXT,
    name TEXT,
    head_sha TEXT,
    updated_at TEXT NOT NULL,
    order_key TEXT NOT NULL,
    delivery_id TEXT NOT NULL,
    received_at TEXT NOT NULL,
    revision INTEGER NOT NULL DEFAULT 1,
    object {{json}} NOT NULL
);
CREATE INDEX issues_repo_updated ON issues (repo, updated_at);
CREATE INDEX issues_updated ON issues (updated_at);
CREATE INDEX issues_status_updated ON issues (status, updated_at);
CREATE TABLE issues_label_event (
    key TEXT PRIMARY KEY,
    repo TEXT NOT NULL,
    number BIGINT,
    action TEXT,
    status TEXT,
    conclusion TEXT,
    name TEXT,
    head_sha TEXT,
    updated_at TEXT NOT NULL,
    order_key TEXT NOT NULL,
    delivery_id TEXT NOT NULL,
    received_at TEXT NOT NULL,
    revision INTEGER NOT NULL DEFAULT 1,
    object {{json}} NOT NULL
);
CREATE INDEX issues_label_event_repo_updated ON issues_label_event (repo, updated_at);
CREATE INDEX issues_label_event_updated ON issues_label_event (updated_at);
CREATE INDEX issues_label_event_status_updated ON issues_label_event (status, updated_at);
CREATE TABLE issue_comment (
    key TEXT PRIMARY KEY,
    repo TEXT NOT NULL,
    number BIGINT,
    action TEXT,
    status TEXT,
    conclusion TEXT,
    name TEXT,
    head_sha TEXT,
    updated_at TEXT NOT NULL,
    order_key TEXT NOT NULL,
    delivery_id TEXT NOT NULL,
    received_at TEXT NOT NULL,
    revision INTEGER NOT NULL DEFAULT 1,
    object {{json}} NOT NULL
);
CREATE INDEX issue_comment_repo_updated ON issue_comment (repo, updated_at);
CREATE INDEX issue_comment_updated ON issue_comment (updated_at);
CREATE INDEX issue_comment_status_updated ON issue_comment (status, updated_at);
CREATE TABLE pull_request (
    key TEXT PRIMARY KEY,
    repo TEXT NOT NULL,
    number BIGINT,
    action TEXT,
    status TEXT,
    conclusion TEXT,
    name TEXT,
    head_sha TEXT,
    updated_at TEXT NOT NULL,
    order_key TEXT NOT NULL,
    delivery_id TEXT NOT NULL,
    received_at TEXT NOT NULL,
    revision INTEGER NOT NULL DEFAULT 1,
    object {{json}} NOT NULL
);
CREATE INDEX pull_request_repo_updated ON pull_request (repo, updated_at);
CREATE INDEX pull_request_updated ON pull_request (updated_at);
CREATE INDEX pull_request_status_updated ON pull_request (status, updated_at);
CREATE TABLE pull_label_event (
    key TEXT PRIMARY KEY,
    repo TEXT NOT NULL,
    number BIGINT,
    action TEXT,
    status TEXT,
    conclusion TEXT,
    name TEXT,
    head_sha TEXT,
    updated_at TEXT NOT NULL,
    order_key TEXT NOT NULL,
    delivery_id TEXT NOT NULL,
    received_at TEXT NOT NULL,
    revision INTEGER NOT NULL DEFAULT 1,
    object {{json}} NOT NULL
);
CREATE INDEX pull_label_event_repo_updated ON pull_label_event (repo, updated_at);
CREATE INDEX pull_label_event_updated ON pull_label_event (updated_at);
CREATE INDEX pull_label_event_status_updated ON pull_label_event (status, updated_at);
CREATE TABLE push (
    key TEXT PRIMARY KEY,
    repo TEXT NOT NULL,
    number BIGINT,
    action TEXT,
    status TEXT,
    conclusion TEXT,
    name TEXT,
    head_sha TEXT,
    updated_at TEXT NOT NULL,
    order_key TEXT NOT NULL,
    delivery_id TEXT NOT NULL,
    received_at TEXT NOT NULL,
    revision INTEGER NOT NULL DEFAULT 1,
    object {{json}} NOT NULL
);
CREATE INDEX push_repo_updated ON push (repo, updated_at);
CREATE INDEX push_updated ON push (updated_at);
CREATE INDEX push_status_updated ON push (status, updated_at);
CREATE TABLE pull_request_review (
    key TEXT PRIMARY KEY,
    repo TEXT NOT NULL,
    number BIGINT,
    action TEXT,
    status TEXT,
    conclusion TEXT,
    name TEXT,
    head_sha TEXT,
    updated_at TEXT NOT NULL,
    order_key TEXT NOT NULL,
    delivery_id TEXT NOT NULL,
    received_at TEXT NOT NULL,
    revision INTEGER NOT NULL DEFAULT 1,
    object {{json}} NOT NULL
);
CREATE INDEX pull_request_review_repo_updated ON pull_request_review (repo, updated_at);
CREATE INDEX pull_request_review_updated ON pull_request_review (updated_at);
CREATE INDEX pull_request_review_status_updated ON pull_request_review (status, updated_at);
CREATE TABLE pull_request_review_comment (
    key TEXT PRIMARY KEY,
    repo TEXT NOT NULL,
    number BIGINT,
    action TEXT,
    status TEXT,
    conclusion TEXT,
    name TEXT,
    head_sha TEXT,
    updated_at TEXT NOT NULL,
    order_key TEXT NOT NULL,
    delivery_id TEXT NOT NULL,
    received_at TEXT NOT NULL,
    revision INTEGER NOT NULL DEFAULT 1,
    object {{json}} NOT NULL
);
CREATE INDEX pull_request_review_comment_repo_updated ON pull_request_review_comment (repo, updated_at);
CREATE INDEX pull_request_review_comment_updated ON pull_request_review_comment (updated_at);
CREATE INDEX pull_request_review_comment_status_updated ON pull_request_review_comment (status, updated_at);
