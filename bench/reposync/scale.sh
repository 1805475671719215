#!/usr/bin/env bash
# scale.sh — repo sync at 100,000 to 1,000,000 small files: ghsync vs rclone,
# side by side in one run (issue 20).
#
#   bench/reposync/scale.sh [-f FILES] [-d "file mem s3"] [-o OUT]
#
# The tree is FILES (default 100000) generated files of 1–640 random bytes in
# folders of 1,000 (made once, cached in $BENCH_CACHE/scale-FILES). For each
# destination kind of -d (default "file mem s3") it runs, interleaved
# ghsync / rclone so that both see the same machine load:
#   cold        ghsync sync dir:TREE DST --json     rclone sync --checksum --transfers 16 TREE DST
#   no change   the same again
#   one change  after rewriting one file (d0000/f0000000.txt) with new content
# into file://OUT?metadata=skip (and the default file:// with side files: case
# "file-sidecar" when -d names it), mem:// (ghsync only; nothing survives the
# process, so only cold is meaningful) and the S3 server (VersityGW:
# GHSYNC_TEST_S3_ENDPOINT etc. from /work/services.env when set, else
# scripts/s3server.sh is started); with "git" in -d also from a git
# checkout of the same tree (one commit, packed; made once, cached in
# $BENCH_CACHE/scale-FILES/git) into file://OUT?metadata=skip, ghsync only
# (the tree says what changed: the one change is a commit). Every timed command runs under
# `flock /tmp/measure.lock` (other agents measuring on the machine wait);
# do not run the script itself under that lock: its first timed command
# would wait for the outer hold forever.
# For ghsync it records wall time, peak RSS (GNU time) and, from the JSON
# summary, the metadata bytes written (bytes uploaded minus the changed
# file's size) and the store requests. Prints a table and the checks of
# issue 20 and writes bench/reposync/results-scale-FILES-YYYY-MM-DD.txt.
#
# Environment: RCLONE (default: rclone on PATH; Debian: apt-get install -y rclone
# — the figures in bench/ used Debian's 1.60.1), BENCH_CACHE, BENCH_KEEP=1.
set -euo pipefail

FILES=100000
KINDS="file mem s3"
RESULT=""
while getopts "f:d:o:h" opt; do
	case $opt in
	f) FILES=$OPTARG ;;
	d) KINDS=$OPTARG ;;
	o) RESULT=$OPTARG ;;
	*)
		sed -n '2,30p' "$0"
		exit 2
		;;
	esac
done
[[ "$FILES" =~ ^[1-9][0-9]*$ ]] || {
	echo "bench: -f wants a positive number" >&2
	exit 2
}

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
# shellcheck source=lib.sh
source "$HERE/lib.sh"
CACHE="${BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ghsync-bench}/scale-$FILES"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/ghsync-bench-scale.XXXXXX")"
RESULT="${RESULT:-$HERE/results-scale-$FILES-$(date -u +%Y-%m-%d).txt}"
trap cleanup EXIT
trap 'exit 130' INT TERM

need_time
need_rclone

fresh=0
[[ -f "$CACHE/.complete" ]] || fresh=1
make_small_tree "$CACHE" "$FILES" 1000 "d%04d" "f%07d.txt"
# Old modification times, as a tree that was not just written has.
[[ $fresh == 0 ]] || find "$CACHE/tree" -type f -exec touch -d '2 hours ago' {} +
TREE="$CACHE/tree"
CHANGED="$TREE/d0000/f0000000.txt"
read -r TREE_FILES TREE_BYTES < <(tree_stats "$TREE")
LOAD0="$(cut -d' ' -f1-3 /proc/loadavg)"
GHSYNC="$WORK/ghsync"
build_ghsync "$GHSYNC"
GHSYNC_DESC="$(ghsync_desc)" # the revision built, not the one checked out when the report is written

if [[ " $KINDS " == *" s3 "* ]]; then
	if [[ -n "${GHSYNC_TEST_S3_ENDPOINT:-}" ]]; then
		S3_ENDPOINT=$GHSYNC_TEST_S3_ENDPOINT
		export S3_ENDPOINT
	else
		start_s3
	fi
	rclone_s3_remote
	SUFFIX="$(date +%s)-$$"
	env -u AWS_CA_BUNDLE "$RCLONE" mkdir "bench:gh-scale-$SUFFIX" && env -u AWS_CA_BUNDLE "$RCLONE" mkdir "bench:rc-scale-$SUFFIX" ||
		die "cannot create the S3 buckets"
fi

# gitb ARGS... — git in the benchmark checkout, with a fixed identity.
gitb() { git -C "$CHECKOUT" -c user.name=bench -c user.email=bench@localhost "$@"; }

# The git source: the same tree as one commit of a packed repository
# (made once, cached); its one-change step commits the changed file.
if [[ " $KINDS " == *" git "* ]]; then
	CHECKOUT="$CACHE/git/repo"
	if [[ ! -f "$CACHE/git/.complete" ]]; then
		echo "bench: creating a git repository of the tree in $CHECKOUT (once)" >&2
		rm -rf "$CACHE/git"
		mkdir -p "$CHECKOUT"
		cp -r "$TREE/." "$CHECKOUT/"
		gitb init -q && gitb add -A && gitb commit -qm "bench: $TREE_FILES files" && gitb gc -q ||
			die "could not create the git repository"
		touch "$CACHE/git/.complete"
	fi
fi

# dest TOOL KIND — the destination of TOOL (ghsync|rclone) for KIND.
dest() {
	case $1-$2 in
	ghsync-file) echo "file://$WORK/out/gh-file?metadata=skip" ;;
	ghsync-file-sidecar) echo "file://$WORK/out/gh-sidecar" ;;
	ghsync-mem) echo "mem://" ;;
	ghsync-git) echo "file://$WORK/out/gh-git?metadata=skip" ;;
	ghsync-s3) s3_url "gh-scale-$SUFFIX" t ;;
	rclone-file | rclone-file-sidecar) echo "$WORK/out/rc-$2" ;;
	rclone-s3) echo "bench:rc-scale-$SUFFIX/t" ;;
	*) echo "" ;;
	esac
}

# measure TOOL KIND STEP — one timed run; appends a result line to $WORK/rows.
measure() {
	local tool=$1 kind=$2 step=$3 d log tf rc=0 meta="-" puts="-" ms="-"
	d=$(dest "$tool" "$kind")
	[[ -n $d ]] || return 0
	log="$WORK/logs/$tool-$kind-$step.log"
	tf="$WORK/logs/$tool-$kind-$step.time"
	local cmd
	if [[ $tool == ghsync ]]; then
		local src="dir:$TREE"
		[[ $kind == git ]] && src=$CHECKOUT
		cmd=(env -u AWS_CA_BUNDLE "$GHSYNC" sync "$src" "$d" --json)
	else
		cmd=(env -u AWS_CA_BUNDLE "$RCLONE" sync --checksum --transfers 16 "$TREE" "$d")
	fi
	# GNU time inside the lock: the wait for another agent's measurement is not timed.
	flock /tmp/measure.lock /usr/bin/time -f '%e %M %U %S' -o "$tf" "${cmd[@]}" >"$log" 2>&1 || rc=$?
	if [[ $tool == ghsync && $rc == 0 ]]; then
		read -r meta puts ms < <(python3 - "$log" "$step" "$(stat -c %s "$CHANGED")" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
up = s["bytes_uploaded"]
if sys.argv[2] == "one-change":
    up -= int(sys.argv[3])  # the changed file itself
# cold: content and manifest are not told apart
print("-" if sys.argv[2] == "cold" else up, s["store_requests"].get("put", 0), s["duration_ms"])
EOF
		)
	fi
	if [[ $rc != 0 ]]; then
		echo "bench: $tool $kind $step exited $rc; log tail:" >&2
		tail -5 "$log" >&2
	fi
	tail -1 "$tf" | awk -v tool="$tool" -v kind="$kind" -v step="$step" -v rc="$rc" -v meta="$meta" -v puts="$puts" \
		'{printf "%-7s %-12s %-11s %8.2f %9d %7.1f %10s %6s %s\n", tool, kind, step, $1, $2, $3 + $4, meta, puts, (rc == 0 ? "ok" : "FAILED")}' |
		tee -a "$WORK/rows" >&2
}

mkdir -p "$WORK/logs" "$WORK/out"
echo "bench: tree $TREE: $TREE_FILES files, $TREE_BYTES bytes (load $(cut -d' ' -f1 /proc/loadavg))" >&2
for step in cold no-change one-change; do
	if [[ $step == one-change ]]; then
		head -c 300 /dev/urandom >"$CHANGED"
		if [[ " $KINDS " == *" git "* ]]; then
			cp "$CHANGED" "$CHECKOUT/d0000/f0000000.txt"
			gitb commit -qam "bench: one change" || die "could not commit the change"
		fi
		sleep 3 # the new time is not trusted by the fast path within 2 s (racyWindow); the run hashes it either way
	fi
	for kind in $KINDS; do
		[[ $kind == mem && $step != cold ]] && continue
		measure ghsync "$kind" "$step"
		measure rclone "$kind" "$step"
	done
done

{
	echo "# repo sync at scale: ghsync vs rclone, $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "machine: $(machine_info); load average $LOAD0 at start, $(cut -d' ' -f1-3 /proc/loadavg) at end (shared with other agents: figures on a loaded machine)"
	echo "tree:    $TREE_FILES files, $TREE_BYTES bytes (1-640 bytes each, folders of 1,000)"
	echo "tools:   ghsync $GHSYNC_DESC, $("$RCLONE" version 2>/dev/null | sed -n 1p) (sync --checksum --transfers 16)"
	echo "rerun:   bench/reposync/scale.sh -f $FILES -d \"$KINDS\""
	echo
	printf '%-7s %-12s %-11s %8s %9s %7s %10s %6s\n' tool dest step "wall(s)" "RSS(KB)" "cpu(s)" "meta(B)" puts
	cat "$WORK/rows"
	echo
	echo "ratios ghsync/rclone (wall):"
	awk '{w[$1" "$2" "$3]=$4} END {for (k in w) {split(k, p, " "); if (p[1] == "ghsync" && (("rclone " p[2] " " p[3]) in w)) printf "  %-12s %-11s %.2f\n", p[2], p[3], w[k] / w["rclone " p[2] " " p[3]]}}' "$WORK/rows" | sort
	echo "targets (issue 20): cold ghsync/rclone <= 0.80 (file, s3); one change <= 1.5 s (file: dir: source), <= 0.5 s (git source):"
	awk '$1 == "ghsync" && $3 == "one-change" && ($2 == "file" || $2 == "git") {printf "  %-12s one-change  %.2f s (target %s s)\n", $2, $4, ($2 == "git" ? "0.5" : "1.5")}' "$WORK/rows"
	echo "meta(B): bytes ghsync uploaded beyond the changed file (manifest root, intent, shards); puts: store PUTs"
} | tee "$RESULT"
echo "bench: wrote $RESULT" >&2
