#!/usr/bin/env bash
# bench/statuses/history.sh — what a statuses run costs after one new status
# (the head commit's queued job concludes) as the repository's history
# grows (issue 20): 10, 1,000 and 10,000 commits on main, snapshots of 10,
# 100 and 1,000 commits (history_size, capped by the commits), against the
# contract-checked fake GitHub and an in-memory store. Per run: GraphQL
# requests, store requests, bytes read and written, wall, memory allocated,
# and the peak RSS of the whole process (/usr/bin/time; it holds the fake
# GitHub's repository too). Usage: bench/statuses/history.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
work=$(mktemp -d "${TMPDIR:-/tmp}/ghsync-bench-statuses-history.XXXXXX")
trap 'rm -rf "$work"' EXIT
go test -c -o "$work/statuses.test" ./bench/statuses/
echo "# $(date -u +%FT%TZ) $(git rev-parse --short HEAD)"
for c in 10 1000 10000; do
	for h in 10 100 1000; do
		[ "$h" -le "$c" ] || continue
		echo "-- commits=$c history_size=$h  $(uptime | sed 's/.*load/load/')"
		GHSYNC_BENCH_COMMITS=$c GHSYNC_BENCH_HISTORY_SIZE=$h /usr/bin/time -f "peak_RSS_KB=%M" \
			"$work/statuses.test" -test.run TestHistoryCost -test.v 2>&1 |
			sed -n 's/.*RESULT //p; s/^peak_RSS_KB=\([0-9]*\)/peak_RSS_KB(whole process)=\1/p'
	done
done
