#!/usr/bin/env bash
# cold.sh — cold sync of a real tree into a real S3 server: ghsync vs rclone vs aws s3 sync.
#
#   bench/reposync/cold.sh [-n RUNS] [-s SRC_DIR]
#
# Starts VersityGW on a free loopback port, then RUNS times (default 3, the order of the
# tools rotating each run) syncs SRC_DIR (default $(go env GOROOT)/src) into a fresh empty
# bucket per tool and run with
#   ghsync  sync dir:SRC s3://BUCKET/src/?…      (built once with go build; not timed)
#   rclone  sync --checksum --transfers 16 SRC bench:BUCKET/src
#   aws     s3 sync SRC s3://BUCKET/src/
# then runs the same command again on the unchanged tree (the no-change run). Each cold
# result is checked (object count and bytes under the prefix equal the tree's). Prints
# the median wall times, the ratios ghsync/rclone and ghsync/aws, and writes the report to
# bench/reposync/results-YYYY-MM-DD.txt. Exits 1 when any run failed.
#
# Environment: BENCH_LDFLAGS (go build -ldflags for ghsync, e.g. '-s -w'), RCLONE (path to rclone; default: the tools dir, installed there when
# missing), BENCH_KEEP=1 keeps the scratch directory.
set -euo pipefail

RCLONE_VERSION=v1.76.0
RUNS=3
SRC=""
while getopts "n:s:h" opt; do
	case $opt in
	n) RUNS=$OPTARG ;;
	s) SRC=$OPTARG ;;
	*)
		sed -n '2,17p' "$0"
		exit 2
		;;
	esac
done

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
# shellcheck source=lib.sh
source "$HERE/lib.sh"
require_runs "$RUNS"
[[ -z "$SRC" ]] && SRC="$(go env GOROOT)/src"
SRC="$(cd "$SRC" && pwd)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/ghsync-bench-cold.XXXXXX")"

trap cleanup EXIT
trap 'exit 130' INT TERM

LOAD0="$(cut -d' ' -f1-3 /proc/loadavg)"
need_time
command -v aws >/dev/null || die "the aws CLI is not installed"

# rclone, pinned; go install builds it (several minutes) into the tools dir when missing.
if [[ -z "${RCLONE:-}" ]]; then
	RCLONE="$(tools_dir)/rclone"
	have="$("$RCLONE" version 2>/dev/null || true)" # no "| head": pipefail + SIGPIPE
	if [[ "$have" != "rclone $RCLONE_VERSION"[-$'\n']* ]]; then
		echo "bench: installing rclone $RCLONE_VERSION into $(tools_dir) (takes minutes)" >&2
		(cd "$WORK" && GOBIN="$(tools_dir)" go install "github.com/rclone/rclone@$RCLONE_VERSION") ||
			die "go install rclone failed"
	fi
fi
[[ -x "$RCLONE" ]] || die "rclone not found at $RCLONE"

GHSYNC="$WORK/ghsync"
build_ghsync "$GHSYNC"
start_s3

rclone_s3_remote

read -r TREE_FILES TREE_BYTES < <(tree_stats "$SRC")
echo "bench: tree $SRC: $TREE_FILES files, $TREE_BYTES bytes; warming the page cache" >&2
find "$SRC" -type f -print0 | xargs -0 cat >/dev/null

# run_tool TOOL BUCKET PHASE — one sync of SRC into BUCKET/src; prints the wall seconds.
run_tool() {
	local tool=$1 bucket=$2 phase=$3 log="$WORK/logs/$1-$2-$3.log" rss="$WORK/logs/$1-$2-$3.rss"
	case $tool in
	ghsync)
		timed "$log" "$rss" "$GHSYNC" sync "dir:$SRC" "$(s3_url "$bucket" src)" --json
		;;
	rclone)
		timed "$log" "$rss" "$RCLONE" sync --checksum --transfers 16 "$SRC" "bench:$bucket/src"
		;;
	aws)
		timed "$log" "$rss" env AWS_REQUEST_CHECKSUM_CALCULATION=when_required \
			AWS_RESPONSE_CHECKSUM_VALIDATION=when_required \
			aws --endpoint-url "$S3_ENDPOINT" --region "$AWS_REGION" s3 sync "$SRC" "s3://$bucket/src/" --only-show-errors
		;;
	esac
}

# check_tree TOOL BUCKET — the prefix must hold exactly the tree's files and bytes
# (ghsync's manifest under .ghsync/ aside).
check_tree() {
	local tool=$1 bucket=$2 n b
	read -r n b < <(count_objects "$bucket" src)
	if [[ $n != "$TREE_FILES" || $b != "$TREE_BYTES" ]]; then
		echo "bench: $tool run into $bucket left $n objects / $b bytes; want $TREE_FILES / $TREE_BYTES" >&2
		return 1
	fi
}

mkdir -p "$WORK/logs"
TOOLS=(ghsync rclone aws)
declare -A COLD NOCH RSS
FAILED=0
for ((run = 1; run <= RUNS; run++)); do
	off=$(((run - 1) % 3))
	order=("${TOOLS[@]:off}" "${TOOLS[@]:0:off}")
	echo "bench: run $run/$RUNS, order: ${order[*]}" >&2
	for tool in "${order[@]}"; do
		bucket="$tool-$run"
		make_bucket "$bucket"
		if t=$(run_tool "$tool" "$bucket" cold) && check_tree "$tool" "$bucket"; then
			COLD[$tool]+="$t "
			RSS[$tool]+="$(cat "$WORK/logs/$tool-$bucket-cold.rss") "
		else
			echo "bench: $tool cold run $run FAILED; log tail:" >&2
			tail -20 "$WORK/logs/$tool-$bucket-cold.log" >&2
			COLD[$tool]+="FAIL "
			FAILED=1
			continue
		fi
		if t=$(run_tool "$tool" "$bucket" nochange); then
			NOCH[$tool]+="$t "
		else
			echo "bench: $tool no-change run $run FAILED; log tail:" >&2
			tail -20 "$WORK/logs/$tool-$bucket-nochange.log" >&2
			NOCH[$tool]+="FAIL "
			FAILED=1
		fi
		echo "bench:   $tool cold $(echo "${COLD[$tool]}" | awk '{print $NF}')s, no-change $(echo "${NOCH[$tool]:-}" | awk '{print $NF}')s" >&2
	done
done

# summary of ghsync's own counters (first run) when jq is available.
ghsync_summary() {
	local f
	command -v jq >/dev/null || return 0
	for f in cold nochange; do
		if [[ -f "$WORK/logs/ghsync-ghsync-1-$f.log" ]]; then
			printf 'ghsync %-9s run 1: ' "$f"
			grep -v '^time=' "$WORK/logs/ghsync-ghsync-1-$f.log" |
				jq -c '{new, unchanged, bytes_uploaded, store_requests, duration_ms, up_to_date}' 2>/dev/null ||
				echo "(no JSON summary)"
		fi
	done
}

report() {
	local tool gc ga gr
	echo "# repo-sync cold benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "machine: $(machine_info); load average $LOAD0 at start, $(cut -d' ' -f1-3 /proc/loadavg) at end"
	echo "tree:    $SRC ($TREE_FILES files, $TREE_BYTES bytes), S3: VersityGW (scripts/s3server.sh, pinned v1.8.0) on loopback"
	echo "tools:   ghsync $(ghsync_desc), $("$RCLONE" version 2>/dev/null | sed -n 1p), $(aws --version 2>&1 | awk '{print $1}')"
	echo "runs:    $RUNS each, order rotating; wall seconds per run in brackets; RSS = median peak KB (cold)"
	echo
	printf '%-8s %10s %10s %9s   %s\n' tool "cold(s)" "nochg(s)" "RSS(KB)" "cold runs | no-change runs"
	for tool in "${TOOLS[@]}"; do
		# shellcheck disable=SC2086
		printf '%-8s %10s %10s %9s   [%s| %s]\n' "$tool" "$(median ${COLD[$tool]:-})" "$(median ${NOCH[$tool]:-})" \
			"$(median ${RSS[$tool]:-} | awk '/^[0-9.]+$/ {printf "%.0f\n", $1; next} {print}')" "${COLD[$tool]:-}" "${NOCH[$tool]:-}"
	done
	# shellcheck disable=SC2086
	{
		gc=$(median ${COLD[ghsync]:-})
		gr=$(median ${COLD[rclone]:-})
		ga=$(median ${COLD[aws]:-})
	}
	echo
	echo "cold      ghsync/rclone = $(ratio "$gc" "$gr")   ghsync/aws = $(ratio "$gc" "$ga")   (target: ghsync/rclone <= 1.00)"
	# shellcheck disable=SC2086
	echo "no-change ghsync/rclone = $(ratio "$(median ${NOCH[ghsync]:-})" "$(median ${NOCH[rclone]:-})")   ghsync/aws = $(ratio "$(median ${NOCH[ghsync]:-})" "$(median ${NOCH[aws]:-})")"
	ghsync_summary
	[[ $FAILED == 0 ]] || echo "SOME RUNS FAILED (see above)"
}

OUT="$HERE/results-$(date -u +%F).txt"
report | tee "$OUT"
echo "bench: wrote $OUT" >&2
exit "$FAILED"
