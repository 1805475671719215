#!/usr/bin/env bash
# bench/apisync/run.sh — 100,000 Airtable records (the fake on loopback, the
# client's pacing off) into SQLite, PostgreSQL and MariaDB: rows per second of
# the cold run, and the steady-state run's time and rows written (must be 0).
# Usage: bench/apisync/run.sh [RECORDS]   (needs PostgreSQL and MariaDB as in .ci/run)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
export GHSYNC_APISYNC_BENCH="${1:-100000}"
export GHSYNC_TEST_POSTGRES_URL="${GHSYNC_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"
export GHSYNC_TEST_MYSQL_DSN="${GHSYNC_TEST_MYSQL_DSN:-root@tcp(127.0.0.1:3306)/test}"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
go test -count=1 -run TestBenchAirtable -v -timeout 30m ./internal/apisync/ | grep -v '^=== '
