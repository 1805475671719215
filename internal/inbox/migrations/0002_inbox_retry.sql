-- Retrying failed actions: which actions of the recorded content are settled
-- (done, or deliberately not performed), which failed, how many runs tried,
-- and whether the set is complete (nothing left to try). Rows written before
-- this migration are complete: the defaults say so.
ALTER TABLE inbox_sets ADD COLUMN complete INTEGER NOT NULL DEFAULT 1;
ALTER TABLE inbox_sets ADD COLUMN attempts INTEGER NOT NULL DEFAULT 1;
ALTER TABLE inbox_sets ADD COLUMN done_actions TEXT NOT NULL DEFAULT '';
ALTER TABLE inbox_sets ADD COLUMN failed_actions TEXT NOT NULL DEFAULT '';
ALTER TABLE inbox_sets ADD COLUMN github_issue TEXT NOT NULL DEFAULT '';
