-- Missed-delivery recovery (spec 30-webhooks.md, "Missed deliveries"): the
-- GUIDs a redelivery was requested for, so each is requested once.
CREATE TABLE redelivery_requests (
    guid TEXT PRIMARY KEY,
    github_delivery_id BIGINT NOT NULL,
    event TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    error TEXT
);
