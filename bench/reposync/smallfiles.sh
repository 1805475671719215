#!/usr/bin/env bash
# smallfiles.sh — many small files: ghsync vs rclone, side by side in one run.
#
#   bench/reposync/smallfiles.sh [-n RUNS]
#
# The tree is 10,000 files of 1–640 random bytes (3.2 MB, 100 folders of 100), made
# once and cached in $BENCH_CACHE (default ~/.cache/ghsync-bench/smalltree). RUNS times
# (default 5; the order of the cases rotates each run) it syncs the tree cold with
#   ghsync file   ghsync sync dir:TREE file://OUT          (built once with go build; not timed;
#                 one file per object, attributes in an extended attribute)
#   ghsync file-sidecar  ghsync sync dir:TREE 'file://OUT?metadata=sidecar'  (NAME.attrs side
#                 files: the file:// default before ghsync's own file driver)
#   rclone file   rclone sync --checksum --transfers 16 TREE OUT      (local folder → folder)
#   ghsync mem    ghsync sync dir:TREE mem://
#   ghsync s3     ghsync sync dir:TREE s3://BUCKET/t/?…    (VersityGW, scripts/s3server.sh)
#   rclone s3     rclone sync --checksum --transfers 16 TREE bench:BUCKET/t
# (both S3 cases without AWS_CA_BUNDLE, which rclone v1.60 cannot combine with its own
# transport; the server is plain HTTP on loopback) each into a fresh destination. Every cold
# result is checked (file or object count and bytes equal the tree's; without side files the
# folder must hold exactly one file per object, no *.attrs at all). Wall time, user+sys CPU
# seconds and peak RSS come from GNU time. Prints the medians with min-max and every run's
# wall and CPU, the ratios against the targets
#   ghsync/rclone file wall <= 0.80 and peak RSS <= rclone's (the default, one file per object; the side-file
#   variant reported beside it), ghsync mem wall <= 0.3 s, ghsync/rclone s3 wall <= 0.80
# and writes bench/reposync/results-smallfiles-YYYY-MM-DD[-SUFFIX].txt (SUFFIX: $BENCH_SUFFIX, e.g. the
# rclone version, so that runs against two rclones on one day keep both files). Every measured
# command runs under `flock $MEASURE_LOCK` (default /tmp/measure.lock; the wait is not timed),
# so wall times come from GNU time (2 decimals). Exits 1 when a run failed.
#
# Where the folders live (BENCH_FS). On an ext4 without a journal (this project's VMs) a new
# inode is not taken from those freed in the last ~30 s (ext4's recently_deleted(), checked
# only without a journal), and every skipped one costs a lookup: after 10,000 deletions — this
# bench's, or any go build's or test's on the machine — creating 10,000 files takes 5-10 s of
# system CPU instead of 0.5 s, so per-run times swung 0.65-3.88 s. Hence, by default
# (BENCH_FS=loop, when run as root with mkfs.ext4 and loop devices) the tree and every output
# live on an ext4 file system made for the run (lib.sh's fs_setup: mkfs.ext4 -i 4096, so with a
# journal; a sparse 2 GiB image in the scratch directory, loop-mounted, unmounted at the end); before each
# timed run, untimed, the case's previous output is removed and written back (syncfs of that
# file system, fsync of its image). With BENCH_FS=tmpdir
# (the fallback) the folders are in the scratch directory on $TMPDIR's file system, every
# output is kept until the end, and the report says which file system it was. In both, before
# each timed run the tree and the binary are read again (untimed): the VM's DAMON reclaim pages
# out page cache untouched for about a minute.
#
# Environment: RCLONE (rclone binary; default: rclone on PATH, e.g. Debian's package; the pinned
# one of cold.sh: RCLONE=$(go env GOPATH)/bin/rclone after cold.sh installed it),
# BENCH_LDFLAGS (go build -ldflags for ghsync), BENCH_CACHE (tree cache dir),
# BENCH_KEEP=1 keeps the scratch directory, BENCH_FS=loop|tmpdir (above; default loop when possible),
# BENCH_CASES (a subset of the case names, e.g. "ghsync-file rclone-file ghsync-mem").
set -euo pipefail

RUNS=5
while getopts "n:h" opt; do
	case $opt in
	n) RUNS=$OPTARG ;;
	*)
		sed -n '2,49p' "$0"
		exit 2
		;;
	esac
done

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
# shellcheck source=lib.sh
source "$HERE/lib.sh"
require_runs "$RUNS"
CACHE="${BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ghsync-bench/smalltree}"
SMALL=10000
WORK="$(mktemp -d "${TMPDIR:-/tmp}/ghsync-bench-small.XXXXXX")"
trap cleanup EXIT
trap 'exit 130' INT TERM

LOAD0="$(cut -d' ' -f1-3 /proc/loadavg)"
need_time
need_rclone
command -v aws >/dev/null || die "the aws CLI is not installed"
make_small_tree "$CACHE" "$SMALL" 100 "d%02d" "f%04d.txt"
GHSYNC="$WORK/ghsync"
GHSYNC_DESC="$(ghsync_desc)" # the revision built, read before the build (not at the end)
build_ghsync "$GHSYNC"
# The tree and every output on the run's own file system (see the header; lib.sh).
fs_setup $((2 << 30))
fs_tree "$CACHE/tree"
OUTDIR="$FSROOT/out"
mkdir -p "$OUTDIR"
if [[ $FS == loop ]]; then
	FSDESC+="; tree and outputs on it; before each run the case's earlier output removed + synced (syncfs of it, fsync of its image; untimed)"
else
	FSDESC+="; outputs kept until the end"
fi
read -r TREE_FILES TREE_BYTES < <(tree_stats "$TREE")
echo "bench: tree $TREE: $TREE_FILES files, $TREE_BYTES bytes; destination: $FSDESC" >&2
start_s3

rclone_s3_remote

# warm — read the tree and both binaries (untimed), so that no run pays for
# pages the VM's reclaim dropped since the last one.
warm() {
	find "$TREE" -type f -print0 | xargs -0 cat >/dev/null
	cat "$GHSYNC" "$RCLONE" >/dev/null
}

# fresh CASE RUN — untimed: on the run's own file system, remove the case's
# earlier outputs and write everything back (fs_sync), so that no run competes
# with the previous one's write-back or deletions.
fresh() {
	[[ $FS == loop ]] || return 0
	rm -rf "$OUTDIR/$1-"*
	fs_sync
}

# run_case CASE RUN — one cold sync; prints "WALL RSS_KB CPU_S" (CPU = user + sys).
run_case() {
	local c=$1 run=$2 log="$WORK/logs/$1-$2.log" tf="$WORK/logs/$1-$2.time" rc=0
	local cmd
	case $c in
	ghsync-file) cmd=("$GHSYNC" sync "dir:$TREE" "file://$OUTDIR/$c-$run" --json) ;;
	ghsync-file-sidecar) cmd=("$GHSYNC" sync "dir:$TREE" "file://$OUTDIR/$c-$run?metadata=sidecar" --json) ;;
	rclone-file) cmd=("$RCLONE" sync --checksum --transfers 16 "$TREE" "$OUTDIR/$c-$run") ;;
	ghsync-mem) cmd=("$GHSYNC" sync "dir:$TREE" "mem://" --json) ;;
	ghsync-s3)
		make_bucket "gh-$run"
		cmd=(env -u AWS_CA_BUNDLE "$GHSYNC" sync "dir:$TREE" "$(s3_url "gh-$run" t)" --json)
		;;
	rclone-s3)
		make_bucket "rc-$run"
		cmd=(env -u AWS_CA_BUNDLE "$RCLONE" sync --checksum --transfers 16 "$TREE" "bench:rc-$run/t")
		;;
	esac
	fresh "$c" "$run"
	warm
	# Under the shared measurement lock (not timed: GNU time runs inside it).
	flock "${MEASURE_LOCK:-/tmp/measure.lock}" /usr/bin/time -f '%e %M %U %S' -o "$tf" "${cmd[@]}" >"$log" 2>&1 || rc=$?
	[[ $rc == 0 ]] || return $rc
	awk '{printf "%.3f %d %.2f\n", $1, $2, $3 + $4}' "$tf"
}

# check_case CASE RUN — the destination must hold exactly the tree's files and bytes
# (ghsync's .ghsync/ manifest aside, and with metadata=sidecar the .attrs side files;
# by default there must be no side file at all: one file per object).
check_case() {
	local c=$1 run=$2 n b
	case $c in
	*-file)
		read -r n b < <(find "$OUTDIR/$c-$run" -type f ! -path '*/.ghsync/*' -printf '%s\n' |
			awk '{n++; b+=$1} END {printf "%d %d\n", n, b}')
		;;
	ghsync-file-sidecar)
		read -r n b < <(find "$OUTDIR/$c-$run" -type f ! -name '*.attrs' ! -path '*/.ghsync/*' -printf '%s\n' |
			awk '{n++; b+=$1} END {printf "%d %d\n", n, b}')
		;;
	ghsync-mem) return 0 ;; # gone with the process; its summary is checked instead
	ghsync-s3) read -r n b < <(count_objects "gh-$run" t) ;;
	rclone-s3) read -r n b < <(count_objects "rc-$run" t) ;;
	esac
	[[ $c == *-file* ]] && DISK[$c]+="$(du -sk "$OUTDIR/$c-$run" | cut -f1) "
	if [[ $n != "$TREE_FILES" || $b != "$TREE_BYTES" ]]; then
		echo "bench: $c run $run left $n files / $b bytes; want $TREE_FILES / $TREE_BYTES" >&2
		return 1
	fi
}

# check_summary CASE RUN — ghsync's JSON summary must count every file as new.
check_summary() {
	local new
	[[ $1 == ghsync-* ]] || return 0
	new=$(grep -o '"new": *[0-9]*' "$WORK/logs/$1-$2.log" | head -1 | grep -o '[0-9]*$' || true)
	if [[ $new != "$TREE_FILES" ]]; then
		echo "bench: $1 run $2 reported new=$new; want $TREE_FILES" >&2
		return 1
	fi
}

mkdir -p "$WORK/logs"
CASES=(ghsync-file ghsync-file-sidecar rclone-file ghsync-mem ghsync-s3 rclone-s3)
if [[ -n ${BENCH_CASES:-} ]]; then
	read -r -a CASES <<<"$BENCH_CASES"
fi
declare -A WALL RSS CPU DISK
FAILED=0
for ((run = 1; run <= RUNS; run++)); do
	off=$(((run - 1) % ${#CASES[@]}))
	order=("${CASES[@]:off}" "${CASES[@]:0:off}")
	echo "bench: run $run/$RUNS (load $(cut -d' ' -f1 /proc/loadavg)), order: ${order[*]}" >&2
	for c in "${order[@]}"; do
		if out=$(run_case "$c" "$run") && check_case "$c" "$run" && check_summary "$c" "$run"; then
			read -r w r u <<<"$out"
			WALL[$c]+="$w "
			RSS[$c]+="$r "
			CPU[$c]+="$u "
			echo "bench:   $c ${w}s, ${r} KB, cpu ${u}s" >&2
		else
			echo "bench: $c run $run FAILED; log tail:" >&2
			tail -20 "$WORK/logs/$c-$run.log" >&2 || true
			WALL[$c]+="FAIL "
			FAILED=1
		fi
	done
done

# minmax V... — "MIN-MAX" of the numbers given ("-" when none, FAIL when one is not a number).
minmax() {
	[[ $# == 0 ]] && {
		echo "-"
		return
	}
	printf '%s\n' "$@" | awk '!/^[0-9.]+$/ {bad=1} {if (NR==1 || $1<lo) lo=$1; if (NR==1 || $1>hi) hi=$1}
		END {if (bad) print "FAIL"; else printf "%.2f-%.2f\n", lo, hi}'
}

report() {
	local c gf gn rf gm gs rs gfr gnr rfr
	echo "# repo-sync small-files benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "machine: $(machine_info); load average $LOAD0 at start, $(cut -d' ' -f1-3 /proc/loadavg) at end"
	echo "tree:    $TREE_FILES files, $TREE_BYTES bytes (1-640 bytes each, 100 folders); S3: VersityGW (scripts/s3server.sh) on loopback"
	echo "tools:   ghsync $GHSYNC_DESC (default flags: --concurrency 16), $("$RCLONE" version 2>/dev/null | sed -n 1p) (sync --checksum --transfers 16)"
	echo "dest:    $FSDESC"
	echo "runs:    $RUNS each, order rotating; medians (min-max); per-run wall and CPU seconds in brackets"
	echo
	printf '%-21s %8s %13s %9s %8s   %s\n' case "wall(s)" "min-max" "RSS(KB)" "cpu(s)" "per run: wall / cpu (user+sys) seconds"
	for c in "${CASES[@]}"; do
		# shellcheck disable=SC2086
		printf '%-21s %8s %13s %9s %8s   [%s] / [%s]\n' "$c" "$(median ${WALL[$c]:-})" "$(minmax ${WALL[$c]:-})" \
			"$(median ${RSS[$c]:-} | awk '/^[0-9.]+$/ {printf "%.0f\n", $1; next} {print}')" \
			"$(median ${CPU[$c]:-})" "${WALL[$c]:-}" "${CPU[$c]:-}"
	done
	# shellcheck disable=SC2086
	{
		gf=$(median ${WALL[ghsync-file]:-})
		gn=$(median ${WALL[ghsync-file-sidecar]:-})
		rf=$(median ${WALL[rclone-file]:-})
		gm=$(median ${WALL[ghsync-mem]:-})
		gs=$(median ${WALL[ghsync-s3]:-})
		rs=$(median ${WALL[rclone-s3]:-})
		gfr=$(median ${RSS[ghsync-file]:-})
		gnr=$(median ${RSS[ghsync-file-sidecar]:-})
		rfr=$(median ${RSS[rclone-file]:-})
	}
	echo
	echo "file  ghsync/rclone wall = $(ratio "$gf" "$rf")  (target <= 0.80)   peak RSS = $(ratio "$gfr" "$rfr")  (target <= 1.00)"
	echo "file  ghsync (metadata=sidecar, the earlier default)/rclone wall = $(ratio "$gn" "$rf")   peak RSS = $(ratio "$gnr" "$rfr")"
	echo "mem   ghsync wall = ${gm}s  (target <= 0.3 s)"
	echo "s3    ghsync/rclone wall = $(ratio "$gs" "$rs")  (target <= 0.80)"
	if command -v jq >/dev/null && [[ -f "$WORK/logs/ghsync-s3-1.log" ]]; then
		printf 'ghsync s3 run 1: '
		grep -v '^time=' "$WORK/logs/ghsync-s3-1.log" | jq -c '{new, bytes_uploaded, store_requests, duration_ms}' 2>/dev/null ||
			echo "(no JSON summary)"
	fi
	# shellcheck disable=SC2086
	echo "disk  KB used by one output (du -sk, median): ghsync file $(median ${DISK[ghsync-file]:-} | cut -d. -f1), ghsync file-sidecar $(median ${DISK[ghsync-file-sidecar]:-} | cut -d. -f1), rclone file $(median ${DISK[rclone-file]:-} | cut -d. -f1)"
	[[ $FAILED == 0 ]] || echo "SOME RUNS FAILED (see above)"
}

OUT="$HERE/results-smallfiles-$(date -u +%F)${BENCH_SUFFIX:+-$BENCH_SUFFIX}.txt"
report | tee "$OUT"
echo "bench: wrote $OUT" >&2
exit "$FAILED"
