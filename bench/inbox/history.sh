#!/usr/bin/env bash
# bench/inbox/history.sh — what one inbox poll costs as the history of
# processed sets grows (issue 20): N sets processed and recorded, one new
# set, one poll; ledger requests, ledger bytes written, poll index size (what
# a poll reads of the ledger), wall, memory allocated by the poll, and the
# peak RSS of the whole process (/usr/bin/time; it holds the in-memory watch
# store and ledger too). With -b COMMIT the same measurement is made on that
# commit as well (before/after), the bench file copied into a temporary
# worktree. -w cleaned deletes the processed sets' files from the watch area
# before the measured polls (their records stay: history beyond the watch
# area). Usage: bench/inbox/history.sh [-b COMMIT] [-n "100 10000 100000"] [-l "store sqlite"] [-w kept|cleaned]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
base="" sizes="100 10000 100000" ledgers="store sqlite" watch=kept
while getopts "b:n:l:w:" o; do case $o in b) base=$OPTARG ;; n) sizes=$OPTARG ;; l) ledgers=$OPTARG ;; w) watch=$OPTARG ;; *) exit 2 ;; esac; done
work=$(mktemp -d "${TMPDIR:-/tmp}/ghsync-bench-inbox-history.XXXXXX")
cleanup() { [ -z "$base" ] || git worktree remove --force "$work/base" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
go test -c -o "$work/after.test" ./bench/inbox/
builds="after"
if [ -n "$base" ]; then
	git worktree add -q --detach "$work/base" "$base"
	cp bench/inbox/history_test.go "$work/base/bench/inbox/"
	(cd "$work/base" && go test -c -o "$work/before.test" ./bench/inbox/)
	builds="before after"
fi
echo "# $(date -u +%FT%TZ) $(git rev-parse --short HEAD)${base:+ (before: $base)}"
for l in $ledgers; do
	for n in $sizes; do
		for b in $builds; do
			echo "-- $b ledger=$l sets=$n watch=$watch  $(uptime | sed 's/.*load/load/')"
			GHSYNC_BENCH_SETS=$n GHSYNC_BENCH_LEDGER=$l GHSYNC_BENCH_WATCH=$watch /usr/bin/time -f "peak_RSS_KB=%M" \
				"$work/$b.test" -test.run TestHistoryCost -test.v 2>&1 |
				sed -n 's/.*RESULT //p; s/^peak_RSS_KB=\([0-9]*\)/peak_RSS_KB(whole process)=\1/p'
		done
	done
done
