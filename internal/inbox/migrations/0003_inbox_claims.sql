-- Claims: a run takes a set (claim_owner, a random id per run) until
-- claim_until (TEXT in db.TimeLayout, so string order is time order) before
-- it acts, so that concurrent runs (Lambda invocations, serve replicas) do
-- not both act on one set; an expired claim (a crashed run) is free.
-- claim_fingerprint is the content the claimer is processing: a run that
-- finds the set claimed for other content waits for it rather than drop its own.
ALTER TABLE inbox_sets ADD COLUMN claim_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE inbox_sets ADD COLUMN claim_until TEXT NOT NULL DEFAULT '';
ALTER TABLE inbox_sets ADD COLUMN claim_fingerprint TEXT NOT NULL DEFAULT '';
