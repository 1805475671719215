// Package apisync copies third-party REST API tables into SQL tables: Airtable
// tables ([SyncAirtable]) and Badgr badge classes and assertions ([SyncBadgr]),
// into SQLite, PostgreSQL or MySQL/MariaDB through [db.DB].
//
// It knows nothing of configuration files, the CLI or runtimes: the caller
// builds an [AirtableConfig] or [BadgrConfig] (each has Validate, whose errors
// name the configuration key), opens the database, creates one
// [RateLimiters] per process and passes it to every run, and gets back a
// JSON-encodable [Summary].
//
// Every run follows the same pipeline: list the upstream pages; for each page
// convert the records into rows (column → value), create the table or add
// columns for new upstream fields (never dropping one), compare each row's
// content hash with the one stored beside it, and upsert the rows that changed
// in one transaction per page (ON CONFLICT … DO UPDATE, or ON DUPLICATE KEY
// UPDATE on MySQL). With delete_missing, rows whose key was not listed are
// deleted, only after a complete listing. A steady-state run writes nothing.
//
// The query side of repos_from is [QueryRows] and [Expand].
package apisync
