// Package webhooks receives GitHub webhook deliveries, stores each one durably
// (deduplicated on X-GitHub-Delivery) before answering, projects the ones that
// matter into one table per event type, and archives the raw payloads to a
// bucket as batched NDJSON.gz. Docs: docs/webhooks.md (What happens to a delivery,
// Tables, Raw archive, Reading it back; logs, recovery, CircleCI and DynamoDB in the
// subpackages).
//
// Life cycle, as internal/serve uses it:
//
//	if err := webhooks.Migrate(ctx, d); err != nil { … }      // once per start
//	svc, err := webhooks.New(webhooks.Config{DB: d, Secrets: secrets, Logger: log, Registerer: reg})
//	mux.Handle("POST /api/github/webhooks", svc.Handler())    // commits before 2xx
//	svc.Start()                                              // projections, retries, archive
//	… http.Server.Shutdown(…) …                              // finish in-flight requests
//	svc.Close(ctx)                                           // drain, final archive flush
//
// Optional parts, set in Config before New:
//
//	Config.Logs   = logs.New(…)                       // job logs downloaded, stored, classified (subpackage logs)
//	Config.Dynamo = DynamoConfig{Writer: dynamo.New(…)} // projections mirrored to DynamoDB (subpackage dynamo); Only: true writes them only there
//
// Related pieces in subpackages: classify (the log classifier), recovery
// (the redeliver and reconcile jobs, which use ApplyObject), circleci (the
// CircleCI receiver). The tables of all of them are created by Migrate.
//
// Reading back (for the CLI and the HTTP read API):
//
//	webhooks.QueryDeliveries(ctx, d, webhooks.DeliveryQuery{Event: "issues", Limit: 50})
//	webhooks.QueryEvents(ctx, d, "workflow_job", webhooks.EventQuery{Repo: "o/r", Status: "completed"})
//	webhooks.QueryEvents(ctx, d, "workflow_job", webhooks.EventQuery{Classification: "pytest failure"})
//
// Durability: the receiver hands each delivery to a group committer that
// writes concurrent deliveries in one transaction; a request is answered only
// after its transaction committed (SQLite synchronous=FULL, or PostgreSQL).
// Processing reads the stored rows, so a crash between the answer and the
// projection loses nothing: unprocessed rows are picked up at the next Start.
//
// Ordering guard: every projection row carries an order_key (for workflow_job:
// status rank queued < in_progress < completed, then the latest of
// completed_at/started_at/created_at; for workflow_run: run_attempt, then
// updated_at, then status rank; for issues, pull requests, comments and label
// events: updated_at, with deleted ranking last). An update is applied only when
// its order_key is >= the stored one, so an older state never overwrites a newer.
package webhooks
