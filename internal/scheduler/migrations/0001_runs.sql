-- Run history of scheduled and queued jobs: one row per attempt (or skipped tick).
CREATE TABLE ghsync_runs (
    id {{serial}},
    job TEXT NOT NULL,
    river_job_id BIGINT NOT NULL DEFAULT 0,
    attempt INTEGER NOT NULL DEFAULT 0,
    dry_run INTEGER NOT NULL DEFAULT 0,
    scheduled_at TEXT NOT NULL DEFAULT '',
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL DEFAULT '',
    outcome TEXT NOT NULL,
    summary {{json}},
    error TEXT NOT NULL DEFAULT '',
    replica TEXT NOT NULL DEFAULT ''
);
CREATE INDEX ghsync_runs_job_id ON ghsync_runs (job, id);
CREATE INDEX ghsync_runs_river_job ON ghsync_runs (river_job_id);
-- One row per job while it runs: a lease renewed by the replica running it.
CREATE TABLE ghsync_job_locks (
    job TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
