#!/usr/bin/env bash
# memory.sh — peak RSS of ghsync syncing a tree with one 1 GiB file and 10,000 small files.
#
#   bench/reposync/memory.sh
#
# The tree is made once and cached in $BENCH_CACHE (default ~/.cache/ghsync-bench/memtree):
# big.bin (1 GiB of random data) and small/dNN/fNNNN.bin (10,000 random files, 1–8 KiB).
# ghsync (built once; not timed) syncs it into a fresh bucket of a VersityGW started on a
# free loopback port, then again with no change, then into a fresh file:// folder, then
# (a what-if, not the product's default) cold into S3 again with GOMEMLIMIT=64MiB. Peak
# RSS and wall time of each come from GNU time -v; a /proc sampler splits the peak into
# anonymous memory and file-backed pages (the 90 MB binary's own text and rodata). Target: peak RSS <= 100 MB (taken as
# 100,000,000 bytes). Prints a table and writes bench/reposync/results-memory-YYYY-MM-DD.txt.
# Exits 1 when a run failed, 3 when a cold run is over the target.
#
# Environment: BENCH_LDFLAGS (go build -ldflags for ghsync, e.g. '-s -w'), BENCH_CACHE (tree cache dir), BENCH_KEEP=1 keeps the scratch directory.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
CACHE="${BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ghsync-bench/memtree}"
SMALL=10000
LIMIT_KB=97656 # 100,000,000 bytes
WORK="$(mktemp -d "${TMPDIR:-/tmp}/ghsync-bench-mem.XXXXXX")"
# shellcheck source=lib.sh
source "$HERE/lib.sh"

trap cleanup EXIT
trap 'exit 130' INT TERM

# make_tree — build the cached tree unless a complete one is there.
make_tree() {
	[[ -f "$CACHE/.complete" ]] && return
	echo "bench: creating the tree in $CACHE (1 GiB + $SMALL small files, once)" >&2
	rm -rf "$CACHE"
	mkdir -p "$CACHE/tree/small"
	head -c 1G /dev/urandom >"$CACHE/tree/big.bin"
	local i d
	RANDOM=42 # reproducible sizes
	for ((i = 0; i < SMALL; i++)); do
		d="$CACHE/tree/small/d$(printf %02d $((i / 100)))"
		((i % 100 == 0)) && mkdir -p "$d"
		head -c $((1024 + RANDOM % 7169)) /dev/urandom >"$d/f$(printf %04d "$i").bin"
	done
	touch "$CACHE/.complete"
}

LOAD0="$(cut -d' ' -f1-3 /proc/loadavg)"
need_time
make_tree
TREE="$CACHE/tree"
read -r TREE_FILES TREE_BYTES < <(tree_stats "$TREE")
GHSYNC="$WORK/ghsync"
build_ghsync "$GHSYNC"
start_s3
make_bucket mem
mkdir -p "$WORK/logs" "$WORK/folder"

declare -A WALL RSS ANON FILE
FAILED=0
# measure NAME DST [VAR=VALUE...] — one ghsync sync of the tree into DST under GNU time -v
# (with the given environment), sampling /proc every 0.1 s for the peak anonymous and
# file-backed (the binary's own pages) parts of the RSS.
measure() {
	local name=$1 dst=$2 log="$WORK/logs/$1.log" tv="$WORK/logs/$1.time" rc=0 tp cp="" k v _ pa=0 pf=0
	shift 2
	echo "bench: $name $*" >&2
	env "$@" /usr/bin/time -v -o "$tv" "$GHSYNC" sync "dir:$TREE" "$dst" --json >"$log" 2>&1 &
	tp=$!
	while kill -0 "$tp" 2>/dev/null; do
		[[ -z "$cp" ]] && read -r cp _ <"/proc/$tp/task/$tp/children" 2>/dev/null || true
		if [[ -n "$cp" ]]; then
			while read -r k v _; do
				case $k in
				RssAnon:) ((v > pa)) && pa=$v ;;
				RssFile:) ((v > pf)) && pf=$v ;;
				esac
			done <"/proc/$cp/status" 2>/dev/null || true
		fi
		sleep 0.1
	done
	wait "$tp" || rc=$?
	if [[ $rc != 0 ]]; then
		echo "bench: $name FAILED (exit $rc); log tail:" >&2
		tail -20 "$log" >&2
		WALL[$name]=FAIL
		RSS[$name]=FAIL
		FAILED=1
		return
	fi
	RSS[$name]=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tv")
	WALL[$name]=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$tv")
	ANON[$name]=$pa
	FILE[$name]=$pf
}

measure s3-cold "$(s3_url mem tree)"
measure s3-nochange "$(s3_url mem tree)"
measure file-cold "file://$WORK/folder"
# What-if: the same cold sync with a Go soft memory limit (not the product's default).
make_bucket memlimit
measure s3-cold-GOMEMLIMIT "$(s3_url memlimit tree)" GOMEMLIMIT=64MiB

# The S3 copy must hold the whole tree.
read -r N B < <(count_objects mem tree)
if [[ $N != "$TREE_FILES" || $B != "$TREE_BYTES" ]]; then
	echo "bench: the bucket holds $N objects / $B bytes; want $TREE_FILES / $TREE_BYTES" >&2
	FAILED=1
fi

report() {
	local name verdict over=0
	echo "# repo-sync memory benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "machine: $(machine_info); load average $LOAD0 at start, $(cut -d' ' -f1-3 /proc/loadavg) at end"
	echo "tree:    $TREE_FILES files, $TREE_BYTES bytes (1 GiB file + $SMALL files of 1-8 KiB)"
	echo "ghsync:  $(ghsync_desc), default flags (--concurrency 16)"
	echo
	printf '%-20s %8s %12s %7s %8s %8s  %s\n' run "wall" "peak RSS KB" "MB" "anon KB" "file KB" "target <= 100 MB"
	for name in s3-cold s3-nochange file-cold s3-cold-GOMEMLIMIT; do
		if [[ ${RSS[$name]} =~ ^[0-9]+$ ]]; then
			verdict=ok
			if ((RSS[$name] > LIMIT_KB)); then
				verdict=OVER
				if [[ $name == s3-cold || $name == file-cold ]]; then over=1; fi
			fi
			printf '%-20s %8s %12s %7s %8s %8s  %s\n' "$name" "${WALL[$name]}" "${RSS[$name]}" \
				"$(awk -v k="${RSS[$name]}" 'BEGIN {printf "%.1f", k * 1024 / 1e6}')" \
				"${ANON[$name]}" "${FILE[$name]}" "$verdict"
		else
			printf '%-20s %8s %12s %7s %8s %8s  %s\n' "$name" FAIL FAIL - - - -
		fi
	done
	if command -v jq >/dev/null && [[ -f "$WORK/logs/s3-cold.log" ]]; then
		printf 'ghsync s3-cold: '
		grep -v '^time=' "$WORK/logs/s3-cold.log" |
			jq -c '{new, bytes_uploaded, store_requests, duration_ms}' 2>/dev/null || echo "(no JSON summary)"
	fi
	[[ $FAILED == 0 ]] || echo "SOME RUNS FAILED (see above)"
	return $over
}

OUT="$HERE/results-memory-$(date -u +%F).txt"
rc=0
report | tee "$OUT" || rc=3 # pipefail: report's status
echo "bench: wrote $OUT" >&2
[[ $FAILED == 0 ]] || exit 1
exit $rc
