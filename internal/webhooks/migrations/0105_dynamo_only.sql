-- Projections written only to DynamoDB (webhooks.dynamodb.sql_projections:
-- false; spec 30-webhooks.md, DynamoDB option). The outbox then carries the
-- projected item itself, since no SQL projection row exists to read:
-- kind 'row' (the mirror: read the SQL row at sync time), 'item' (write
-- order_key, delivery_id, updated_at, object as queued) or 'classification'
-- (set the job's classification attribute). The classification of a job log
-- is also kept in log_downloads, where the syncer finds it for every
-- workflow_job item it writes (so a later full put does not erase it).
ALTER TABLE dynamo_outbox ADD COLUMN kind TEXT NOT NULL DEFAULT 'row';
ALTER TABLE dynamo_outbox ADD COLUMN order_key TEXT;
ALTER TABLE dynamo_outbox ADD COLUMN delivery_id TEXT;
ALTER TABLE dynamo_outbox ADD COLUMN updated_at TEXT;
ALTER TABLE dynamo_outbox ADD COLUMN object TEXT;
ALTER TABLE log_downloads ADD COLUMN classification {{json}};
