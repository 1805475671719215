#!/usr/bin/env bash
# bench/inbox/check.sh — time and peak memory to check a 150 MB CSV (spec
# 70-quality.md), `ghsync inbox check` side by side with the original's way
# (Python's csv module reading the whole file, internal/inbox/testdata/pycheck.py),
# same file, same run. Usage: bench/inbox/check.sh [-n RUNS] [-s MB]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
runs=3 mb=149 # the checks refuse files of 150 MB and more (the original's limit)
while getopts "n:s:" o; do case $o in n) runs=$OPTARG ;; s) mb=$OPTARG ;; *) exit 2 ;; esac; done
work=$(mktemp -d "${TMPDIR:-/tmp}/ghsync-bench-inbox.XXXXXX")
trap 'rm -rf "$work"' EXIT
go build -o "$work/ghsync" ./cmd/ghsync
# A Democracy Counts export (the header of internal/inbox/testdata/files/dc_stations.csv)
# with generated rows until the file is MB megabytes.
python3 - "$work/stations.csv" "$mb" <<'PY'
import sys, random
path, mb = sys.argv[1], int(sys.argv[2])
random.seed(1)
cols = ["station","address","xordinate","yordinate"]
with open(path, "w", newline="") as f:
    f.write(",".join(cols) + "\n")
    i = 0
    while f.tell() < mb * 1_000_000:
        f.write(f"Station {i},\"{random.randint(1,999)} Hall, Main Road, Town {i%500}\",{400000+i%9999},{200000+i%8888}\n")
        i += 1
PY
ls -l "$work/stations.csv"
measure() { # measure NAME CMD...
	local name=$1
	shift
	if ! /usr/bin/time -f "%e %M" -o "$work/time" "$@" >"$work/out" 2>"$work/err"; then
		echo "$name failed:" >&2
		cat "$work/err" "$work/out" >&2
		return 1
	fi
	grep -q '"valid": *true' "$work/out" || { echo "$name: the file did not pass: $(head -c 300 "$work/out")" >&2; return 1; }
	read -r wall rss < <(tail -1 "$work/time")
	rows=$(grep -o '"rows": *[0-9]*' "$work/out" | grep -o '[0-9]*$')
	printf '%-8s wall %6.2f s  peak RSS %7.1f MB  rows %s\n' "$name" "$wall" "$(echo "$rss/1024" | bc -l)" "$rows"
}
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for i in $(seq "$runs"); do
	echo "-- run $i"
	measure ghsync "$work/ghsync" inbox check "$work/stations.csv" --json
	measure python python3 internal/inbox/testdata/pycheck.py "$work/stations.csv"
done
