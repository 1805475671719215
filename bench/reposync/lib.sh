# shellcheck shell=bash
# lib.sh — helpers shared by the repo-sync benchmarks (sourced, not run).
#
# Expects: REPO (the ghsync checkout), WORK (a scratch directory owned by the
# calling script). Defines functions only; starts nothing by itself.

# die MSG — print MSG to stderr and exit 1.
die() {
	echo "bench: $*" >&2
	exit 1
}

# tools_dir — where missing benchmark tools are installed (GOBIN, else GOPATH/bin).
tools_dir() {
	local d
	d="$(go env GOBIN 2>/dev/null || true)"
	[[ -z "$d" ]] && d="$(go env GOPATH 2>/dev/null || echo "$HOME/go")/bin"
	echo "$d"
}

# need_time — make sure GNU time is at /usr/bin/time (installs Debian "time" when missing).
need_time() {
	[[ -x /usr/bin/time ]] && return
	echo "bench: /usr/bin/time missing; installing Debian package 'time'" >&2
	if [[ $(id -u) == 0 ]]; then
		apt-get update -qq && apt-get install -y -qq time >/dev/null
	else
		sudo apt-get update -qq && sudo apt-get install -y -qq time >/dev/null
	fi
	[[ -x /usr/bin/time ]] || die "could not install GNU time"
}

# require_runs N — exit 2 unless N (the -n option) is a positive number.
require_runs() {
	[[ "$1" =~ ^[1-9][0-9]*$ ]] || {
		echo "bench: -n wants a positive number (got '$1')" >&2
		exit 2
	}
}

# build_ghsync OUT — compile ./cmd/ghsync once into OUT (compilation is never timed),
# with -ldflags "$BENCH_LDFLAGS" when that is set (e.g. BENCH_LDFLAGS='-s -w') and
# -tags "$BENCH_TAGS" when that is set (the release build in the Dockerfile uses
# lambda.norpc, which only matters on Lambda).
build_ghsync() {
	local tags=${BENCH_TAGS:-}
	echo "bench: building ghsync${BENCH_LDFLAGS:+ with -ldflags '$BENCH_LDFLAGS'}${tags:+ -tags $tags}" >&2
	(cd "$REPO" && go build -tags="$tags" -ldflags="${BENCH_LDFLAGS:-}" -o "$1" ./cmd/ghsync) ||
		die "go build ./cmd/ghsync failed"
	echo "bench: ghsync binary $(stat -c %s "$1") bytes" >&2
}

# ghsync_desc — the ghsync revision benchmarked (commit, +dirty, build flags).
ghsync_desc() {
	local d
	d="$(cd "$REPO" && git rev-parse --short HEAD 2>/dev/null || echo '?')"
	(cd "$REPO" && git diff --quiet HEAD -- cmd internal go.mod 2>/dev/null) || d+="+dirty"
	[[ -n "${BENCH_LDFLAGS:-}" ]] && d+=" (-ldflags '$BENCH_LDFLAGS')"
	[[ -n "${BENCH_TAGS:-}" ]] && d+=" (-tags $BENCH_TAGS)"
	echo "$d"
}

# start_s3 [DIR] — start VersityGW in DIR (default $WORK/s3: its data, log and pid)
# on a free loopback port and export S3_ENDPOINT, AWS_ACCESS_KEY_ID,
# AWS_SECRET_ACCESS_KEY, AWS_REGION. The caller's EXIT trap must call stop_s3
# (cleanup does).
# shellcheck disable=SC2120 # DIR is optional; most callers pass none
start_s3() {
	local env
	S3_DIR=${1:-$WORK/s3}
	env="$("$REPO/scripts/s3server.sh" start "$S3_DIR")" || die "S3 server did not start"
	eval "$env"
	S3_ENDPOINT=$GHSYNC_TEST_S3_ENDPOINT
	export S3_ENDPOINT AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION
	S3_STARTED=1
}

# stop_s3 — stop the server start_s3 started (no-op otherwise).
stop_s3() {
	if [[ "${S3_STARTED:-}" == 1 ]]; then
		"$REPO/scripts/s3server.sh" stop "$S3_DIR" || true
		S3_STARTED=
	fi
}

# awscli ARGS... — the aws CLI against the local server (checksums only when required,
# which VersityGW and every S3-compatible server accept).
awscli() {
	env AWS_REQUEST_CHECKSUM_CALCULATION=when_required AWS_RESPONSE_CHECKSUM_VALIDATION=when_required \
		aws --endpoint-url "$S3_ENDPOINT" --region "$AWS_REGION" "$@"
}

# make_bucket NAME — create an empty bucket.
make_bucket() {
	awscli s3api create-bucket --bucket "$1" >/dev/null || die "create bucket $1 failed"
}

# s3_url BUCKET PREFIX — the ghsync destination URL for BUCKET/PREFIX/ on the local server.
s3_url() {
	echo "s3://$1/$2/?region=$AWS_REGION&endpoint=$S3_ENDPOINT&use_path_style=true"
}

# count_objects BUCKET PREFIX — print "COUNT BYTES" of the objects under BUCKET/PREFIX/,
# not counting ghsync's own PREFIX/.ghsync/ (the manifest).
count_objects() {
	awscli s3 ls "s3://$1/$2/" --recursive |
		awk -v m="$2/.ghsync/" 'index($4, m) != 1 {n++; b+=$3} END {printf "%d %d\n", n, b}'
}

# tree_stats DIR — print "FILES BYTES" for the regular files under DIR.
tree_stats() {
	find "$1" -type f -printf '%s\n' | awk '{n++; b+=$1} END {printf "%d %d\n", n, b}'
}

# timed LOG RSSFILE CMD... — run CMD with stdout+stderr to LOG, record its peak RSS (KB)
# in RSSFILE, print the wall time in seconds (GNU time's, 2 decimals). CMD runs under
# `flock $MEASURE_LOCK` (default /tmp/measure.lock) so that two benchmarks sharing the
# machine never measure at once; the wait for the lock is not timed. Returns CMD's status.
timed() {
	local log=$1 rss=$2 rc=0
	shift 2
	flock "${MEASURE_LOCK:-/tmp/measure.lock}" /usr/bin/time -f '%e %M' -o "$rss.t" "$@" >"$log" 2>&1 || rc=$?
	awk '{print $2}' "$rss.t" >"$rss"
	awk '{printf "%.3f\n", $1}' "$rss.t"
	return $rc
}

# median V... — the median of the numbers given (mean of the middle two for an even count);
# "FAIL" when any value is not a number, "-" when none are given.
median() {
	[[ $# == 0 ]] && {
		echo "-"
		return
	}
	local v
	for v in "$@"; do
		[[ "$v" =~ ^[0-9.]+$ ]] || {
			echo "FAIL"
			return
		}
	done
	printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {
		if (NR % 2) printf "%.3f\n", a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2 }'
}

# ratio A B — A/B with 2 decimals, or "-" when either is not a number.
ratio() {
	if [[ "$1" =~ ^[0-9.]+$ && "$2" =~ ^[0-9.]+$ ]]; then
		awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f\n", a / b; else print "-" }'
	else
		echo "-"
	fi
}

# machine_info — one line describing the machine.
machine_info() {
	local cpu
	cpu="$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//')"
	echo "$(nproc) cores (${cpu:-unknown CPU}), $(awk '/MemTotal/ {printf "%.0f GiB RAM", $2/1048576}' /proc/meminfo), $(uname -sr), $(go version | awk '{print $3}')"
}

# cleanup — stop the S3 server this script started, unmount the run's own file
# system (fs_setup, BENCH_FS=loop) and remove $WORK (kept with BENCH_KEEP=1,
# the image with it). Scripts install it with: trap cleanup EXIT.
cleanup() {
	stop_s3
	fs_unmount
	if [[ "${BENCH_KEEP:-}" == 1 ]]; then
		echo "bench: kept $WORK" >&2
	else
		rm -rf "$WORK"
	fi
}

# rclone_s3_remote — point rclone's remote "bench:" at the S3 server of
# S3_ENDPOINT / AWS_* from the environment only (an empty config file in
# $WORK: no user configuration is read).
rclone_s3_remote() {
	export RCLONE_CONFIG="$WORK/rclone.conf"
	: >"$RCLONE_CONFIG"
	export RCLONE_CONFIG_BENCH_TYPE=s3 RCLONE_CONFIG_BENCH_PROVIDER=Other
	export RCLONE_CONFIG_BENCH_ENDPOINT="$S3_ENDPOINT" RCLONE_CONFIG_BENCH_REGION="$AWS_REGION"
	export RCLONE_CONFIG_BENCH_ACCESS_KEY_ID="$AWS_ACCESS_KEY_ID"
	export RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY="$AWS_SECRET_ACCESS_KEY"
	export RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE=true
}

# need_rclone — set RCLONE to $RCLONE or the rclone on PATH; exit 1 when there is none.
need_rclone() {
	RCLONE="${RCLONE:-$(command -v rclone || true)}"
	[[ -x "$RCLONE" ]] || die "rclone not found (apt-get install -y rclone, or set RCLONE)"
}

# make_small_tree CACHE N PER DIRFMT FILEFMT — unless CACHE/.complete exists,
# create CACHE/tree with N files of 1–640 random bytes (seeded: the same
# tree every time), PER to a folder, named by the printf formats DIRFMT
# (folder number) and FILEFMT (file number); python3: one process, not N.
make_small_tree() {
	local cache=$1 n=$2 per=$3 dfmt=$4 ffmt=$5
	[[ -f "$cache/.complete" ]] && return
	command -v python3 >/dev/null || die "python3 is needed to create the tree once"
	echo "bench: creating $n small files in $cache (once)" >&2
	rm -rf "$cache"
	mkdir -p "$cache/tree"
	python3 - "$cache/tree" "$n" "$per" "$dfmt" "$ffmt" <<'PY'
import os, random, sys
root, n, per, dfmt, ffmt = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
rng = random.Random(42)
for i in range(n):
    d = os.path.join(root, dfmt % (i // per))
    if i % per == 0:
        os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, ffmt % i), "wb") as f:
        f.write(rng.randbytes(1 + rng.randrange(640)))
PY
	touch "$cache/.complete"
}

# The run's own file system (BENCH_FS). On an ext4 without a journal (this
# project's VMs) a new inode is not taken from those freed in the last ~30 s
# (ext4's recently_deleted(), checked only without a journal) and every
# skipped one costs a lookup: after mass deletions — a bench's own, or any
# build's or test's on the machine — creating many files costs seconds of
# system CPU. BENCH_FS=loop (the default when run as root with mkfs.ext4 and
# losetup) puts the tree and the outputs on an ext4 made for the run, with a
# journal; BENCH_FS=tmpdir (the fallback) leaves them in $WORK.

# fs_setup BYTES — choose BENCH_FS and set FS (loop|tmpdir), FSROOT (where the
# tree copy and outputs go) and FSDESC (one line for the report). loop: a
# sparse BYTES-byte image $WORK/fs.img (mkfs.ext4 -i 4096: one inode per
# 4 KiB; default features, so with a journal; inode tables zeroed by mkfs, so
# no background ext4lazyinit during the runs), loop-mounted on $WORK/fs and
# unmounted by cleanup. Dies, before making it, when $WORK's file system has
# less than BYTES free (the image grows up to BYTES as it fills).
# shellcheck disable=SC2034 # FSDESC, FSROOT: for the caller
fs_setup() {
	local bytes=$1 avail
	FS=${BENCH_FS:-}
	if [[ -z $FS ]]; then
		FS=tmpdir
		[[ $(id -u) == 0 ]] && command -v mkfs.ext4 >/dev/null && command -v losetup >/dev/null && FS=loop
	fi
	case $FS in
	loop)
		avail=$(($(df -P -k "$WORK" | awk 'NR == 2 {print $4}') * 1024))
		echo "bench: the run's file system: a sparse $(gib "$bytes") GiB image in $WORK ($(gib "$avail") GiB free there)" >&2
		((avail >= bytes)) ||
			die "the image needs up to $(gib "$bytes") GiB on $(df -P "$WORK" | awk 'NR == 2 {print $6}'), which has $(gib "$avail") GiB free (set TMPDIR elsewhere, or BENCH_FS=tmpdir)"
		truncate -s "$bytes" "$WORK/fs.img"
		mkfs.ext4 -q -F -i 4096 -E lazy_itable_init=0 "$WORK/fs.img" || die "mkfs.ext4 failed"
		FSDESC="ext4 made for the run ($(gib "$bytes") GiB sparse loop image, mkfs.ext4 -i 4096, $(dumpe2fs -h "$WORK/fs.img" 2>/dev/null |
			awk -F': *' '$1 == "Inode count" {n=$2} $1 == "Filesystem features" {gsub(" ", ",", $2); f=$2} END {print n " inodes; features " f}'))"
		mkdir -p "$WORK/fs"
		mount -o loop "$WORK/fs.img" "$WORK/fs" || die "mount -o loop failed (BENCH_FS=tmpdir runs without it)"
		LOOPFS="$WORK/fs"
		FSROOT="$WORK/fs"
		;;
	tmpdir)
		FSROOT="$WORK"
		local type src opts journal=""
		read -r type src opts < <(findmnt -n -o FSTYPE,SOURCE,OPTIONS --target "$WORK" 2>/dev/null || echo '? ? ?')
		if [[ $type == ext* ]] && dumpe2fs -h "$src" >/dev/null 2>&1; then
			journal=", without a journal"
			dumpe2fs -h "$src" 2>/dev/null | grep -q '^Filesystem features:.*has_journal' && journal=", with a journal"
		fi
		FSDESC="$type at $WORK ($src $opts$journal)"
		;;
	*)
		echo "bench: BENCH_FS must be loop or tmpdir (got '$FS')" >&2
		exit 2
		;;
	esac
}

# gib BYTES — BYTES in GiB, one decimal.
gib() { awk -v b="$1" 'BEGIN {printf "%.1f\n", b / 1073741824}'; }

# fs_tree SRC — set TREE to the tree the run reads: with BENCH_FS=loop a copy
# of SRC on the run's file system (cp -a: modification times kept; untimed,
# niced), else SRC itself.
# shellcheck disable=SC2034 # TREE: for the caller
fs_tree() {
	if [[ $FS == loop ]]; then
		echo "bench: copying $1 onto the run's file system" >&2
		nice -n 10 cp -a "$1" "$FSROOT/tree" || die "copying the tree failed"
		TREE="$FSROOT/tree"
	else
		TREE=$1
	fi
}

# fs_sync — untimed, BENCH_FS=loop only: write the run's file system back
# (syncfs of it, then fsync of its image: not a global sync, which would wait
# for every other process's writes), so that no timed run competes with an
# earlier one's write-back or deletions.
fs_sync() {
	[[ $FS == loop ]] || return 0
	sync -f "$FSROOT"
	sync "$WORK/fs.img"
}

# fs_unmount — unmount the run's own file system (no-op when none is mounted).
fs_unmount() {
	if [[ -n ${LOOPFS:-} ]]; then
		umount "$LOOPFS" || umount -l "$LOOPFS" || true
		LOOPFS=
	fi
}
