-- Upload sets an inbox job has processed: one row per set, with the
-- fingerprint (SHA-256 of the keys and ETags) of the content processed last.
CREATE TABLE IF NOT EXISTS inbox_sets (
	job TEXT NOT NULL,
	set_prefix TEXT NOT NULL,
	fingerprint TEXT NOT NULL,
	passed INTEGER NOT NULL,
	files INTEGER NOT NULL,
	processed_at TEXT NOT NULL,
	PRIMARY KEY (job, set_prefix)
);
