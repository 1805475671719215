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
# GHSYNC_TEST_S3_ENDPOINT etc. from /work/services.env when set, its data
# where that server keeps it; else scripts/s3server.sh is started, its data on
# the run's file system: env -u GHSYNC_TEST_S3_ENDPOINT chooses that); with "git" in -d also from a git
# checkout of the same tree (one commit, packed; made once, cached in
# $BENCH_CACHE/scale-FILES/git) into file://OUT?metadata=skip, ghsync only
# (the tree says what changed: the one change is a commit). The kinds run one
# after the other, each with its own one change. Every timed command runs under
# `flock /tmp/measure.lock` (other agents measuring on the machine wait);
# do not run the script itself under that lock: its first timed command
# would wait for the outer hold forever.
#
# Where the files live (BENCH_FS, lib.sh's fs_setup). On an ext4 without a
# journal (this project's VMs) file creations after mass deletions cost 5-10 s
# of system CPU (ext4's recently_deleted()), which swung the 100k file://
# ratio 2-5x. Hence, by default (BENCH_FS=loop, when run as root with
# mkfs.ext4 and loop devices) the tree (copied, untimed, with cp -a from the
# cache, which stays where it is), the git checkout (copied the same way when
# the kind starts, so the cache gets no commits), every output and the data of
# the S3 server scale.sh starts itself live on an ext4 made for the run: a
# sparse loop image in the scratch directory sized for the tree and up to 3
# copies (+4 for that S3 server's two buckets), FILES x COPIES x 5 KiB + 1 GiB,
# mkfs.ext4 -i 4096 (one inode per 4 KiB), unmounted at the end; the script
# stops before making it when $TMPDIR's file system has less free. Before each
# kind the earlier kinds' outputs are removed, and before every timed command
# the file system is written back (syncfs of it, fsync of its image), both
# untimed. With BENCH_FS=tmpdir (the fallback) everything stays in the scratch
# directory until the end and the one changes go to the cached tree. The report
# says which file system it was.
# For ghsync it records wall time, peak RSS (GNU time) and, from the JSON
# summary, the metadata bytes written (bytes uploaded minus the changed
# file's size) and the store requests. Prints a table and the checks of
# issue 20 and writes bench/reposync/results-scale-FILES-YYYY-MM-DD.txt.
#
# Environment: RCLONE (default: rclone on PATH; Debian: apt-get install -y rclone
# — the figures in bench/ used Debian's 1.60.1), BENCH_CACHE, BENCH_KEEP=1,
# BENCH_FS=loop|tmpdir (above; default loop when possible).
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
		sed -n '2,52p' "$0"
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
LOAD0="$(cut -d' ' -f1-3 /proc/loadavg)"
GHSYNC="$WORK/ghsync"
build_ghsync "$GHSYNC"
GHSYNC_DESC="$(ghsync_desc)" # the revision built, not the one checked out when the report is written

OWN_S3=0
[[ " $KINDS " == *" s3 "* && -z "${GHSYNC_TEST_S3_ENDPOINT:-}" ]] && OWN_S3=1
# The tree and up to 3 copies (file-sidecar: ghsync's files and side files,
# and rclone's files) at 5 KiB a file (a 4 KiB block and a 256-byte inode,
# and folders); for the two buckets of an S3 server of our own, kept to the
# end, 4 more (VersityGW takes 8 KiB an object: a block for the data, one for
# its extended attributes); 1 GiB for the journal, the git pack and ghsync's
# manifests.
fs_setup $((FILES * (4 + 4 * OWN_S3) * 5 * 1024 + (1 << 30)))
fs_tree "$CACHE/tree"
OUTDIR="$FSROOT/out"
if [[ $FS == loop ]]; then
	FSDESC+="; tree and outputs on it; before each kind the earlier kinds' outputs removed, before each timed command syncfs of it + fsync of its image (untimed)"
else
	FSDESC+="; outputs kept until the end"
fi
CHANGED="$TREE/d0000/f0000000.txt"
read -r TREE_FILES TREE_BYTES < <(tree_stats "$TREE")

S3DESC=""
if [[ " $KINDS " == *" s3 "* ]]; then
	if [[ $OWN_S3 == 0 ]]; then
		S3_ENDPOINT=$GHSYNC_TEST_S3_ENDPOINT
		export S3_ENDPOINT
		S3DESC="the server of GHSYNC_TEST_S3_ENDPOINT ($S3_ENDPOINT; its data not on the run's file system)"
	else
		start_s3 "$FSROOT/s3"
		S3DESC="VersityGW started by scale.sh (scripts/s3server.sh), data in $S3_DIR/data"
	fi
	rclone_s3_remote
	SUFFIX="$(date +%s)-$$"
	for b in gh rc; do
		env -u AWS_CA_BUNDLE "$RCLONE" mkdir "bench:$b-scale-$SUFFIX" || die "cannot create the S3 bucket $b-scale-$SUFFIX"
	done
fi

# gitb ARGS... — git in the benchmark checkout, with a fixed identity and no
# automatic gc (a detached one made the explicit gc after the first commit fail).
gitb() { git -C "$CHECKOUT" -c user.name=bench -c user.email=bench@localhost -c gc.auto=0 "$@"; }

# The git source: the same tree as one commit of a packed repository
# (made once, cached); its one-change step commits the changed file.
if [[ " $KINDS " == *" git "* ]]; then
	CHECKOUT="$CACHE/git/repo"
	if [[ ! -f "$CACHE/git/.complete" ]]; then
		echo "bench: creating a git repository of the tree in $CHECKOUT (once)" >&2
		rm -rf "$CACHE/git"
		mkdir -p "$CHECKOUT"
		cp -r "$CACHE/tree/." "$CHECKOUT/"
		if ! { gitb init -q && gitb add -A && gitb commit -qm "bench: $TREE_FILES files" && gitb gc -q; }; then
			die "could not create the git repository"
		fi
		touch "$CACHE/git/.complete"
	fi
fi

# start_kind KIND — untimed, before KIND's first run: with BENCH_FS=loop,
# remove the earlier kinds' outputs (and git checkout copy), and for git copy
# the cached checkout onto the run's file system (its index refreshed: the
# copy has new inode numbers and change times).
start_kind() {
	mkdir -p "$OUTDIR"
	[[ $FS == loop ]] || return 0
	rm -rf "${OUTDIR:?}"/* "$FSROOT/git"
	if [[ $1 == git ]]; then
		echo "bench: copying the git checkout onto the run's file system" >&2
		nice -n 10 cp -a "$CACHE/git/repo" "$FSROOT/git" || die "copying the git checkout failed"
		CHECKOUT="$FSROOT/git"
		gitb update-index -q --refresh >/dev/null || true
	fi
}

# fs_use KIND — with BENCH_FS=loop, log the run's file system's use after KIND
# and keep the peak in FS_PEAK ("KB INODES").
fs_use() {
	[[ $FS == loop ]] || return 0
	local kb ino pk pi
	kb=$(df -P -k "$FSROOT" | awk 'NR == 2 {print $3}')
	ino=$(df -P -i "$FSROOT" | awk 'NR == 2 {print $3}')
	echo "bench: the run's file system after $1: $((kb / 1024)) MiB, $ino inodes used" >&2
	read -r pk pi <<<"${FS_PEAK:-0 0}"
	((kb > pk)) && pk=$kb
	((ino > pi)) && pi=$ino
	FS_PEAK="$pk $pi"
}

# dest TOOL KIND — the destination of TOOL (ghsync|rclone) for KIND.
dest() {
	case $1-$2 in
	ghsync-file) echo "file://$OUTDIR/gh-file?metadata=skip" ;;
	ghsync-file-sidecar) echo "file://$OUTDIR/gh-sidecar" ;;
	ghsync-mem) echo "mem://" ;;
	ghsync-git) echo "file://$OUTDIR/gh-git?metadata=skip" ;;
	ghsync-s3) s3_url "gh-scale-$SUFFIX" t ;;
	rclone-file | rclone-file-sidecar) echo "$OUTDIR/rc-$2" ;;
	rclone-s3) echo "bench:rc-scale-$SUFFIX/t" ;;
	*) echo "" ;;
	esac
}

# measure TOOL KIND STEP — one timed run; appends a result line to $WORK/rows.
measure() {
	local tool=$1 kind=$2 step=$3 d log tf rc=0 meta="-" puts="-"
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
	fs_sync
	# GNU time inside the lock: the wait for another agent's measurement is not timed.
	flock /tmp/measure.lock /usr/bin/time -f '%e %M %U %S' -o "$tf" "${cmd[@]}" >"$log" 2>&1 || rc=$?
	if [[ $tool == ghsync && $rc == 0 ]]; then
		read -r meta puts _ < <(python3 - "$log" "$step" "$(stat -c %s "$CHANGED")" <<'EOF'
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

mkdir -p "$WORK/logs"
echo "bench: tree $TREE: $TREE_FILES files, $TREE_BYTES bytes (load $(cut -d' ' -f1 /proc/loadavg)); $FSDESC" >&2
for kind in $KINDS; do
	start_kind "$kind"
	for step in cold no-change one-change; do
		[[ $kind == mem && $step != cold ]] && continue
		if [[ $step == one-change ]]; then
			head -c 300 /dev/urandom >"$CHANGED"
			if [[ $kind == git ]]; then
				cp "$CHANGED" "$CHECKOUT/d0000/f0000000.txt"
				gitb commit -qam "bench: one change" || die "could not commit the change"
			fi
			sleep 3 # the new time is not trusted by the fast path within 2 s (racyWindow); the run hashes it either way
		fi
		measure ghsync "$kind" "$step"
		measure rclone "$kind" "$step"
	done
	fs_use "$kind"
done

{
	echo "# repo sync at scale: ghsync vs rclone, $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "machine: $(machine_info); load average $LOAD0 at start, $(cut -d' ' -f1-3 /proc/loadavg) at end (shared with other agents: figures on a loaded machine)"
	echo "tree:    $TREE_FILES files, $TREE_BYTES bytes (1-640 bytes each, folders of 1,000)"
	echo "tools:   ghsync $GHSYNC_DESC, $("$RCLONE" version 2>/dev/null | sed -n 1p) (sync --checksum --transfers 16)"
	echo "fs:      $FSDESC${FS_PEAK:+; peak use $(awk -v k="${FS_PEAK% *}" 'BEGIN {printf "%.2f", k / 1048576}') GiB, ${FS_PEAK#* } inodes}"
	[[ -z $S3DESC ]] || echo "s3:      $S3DESC"
	echo "rerun:   ${BENCH_FS:+BENCH_FS=$BENCH_FS }bench/reposync/scale.sh -f $FILES -d \"$KINDS\""
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
