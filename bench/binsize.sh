#!/usr/bin/env bash
# bench/binsize.sh — the release binary's size, module by module (issue 17,
# must-be-true 3). Builds cmd/ghsync with the Dockerfile's flags (CGO off,
# -trimpath, -tags lambda.norpc, -ldflags "-s -w") and
# prints its file size; then builds it once more without -s -w (same code,
# with a symbol table) and sums `go tool nm -size` by module: each symbol's
# package (from its name) mapped to its module with `go list -deps`.
# Standard library packages count as "std"; what no symbol names (the
# pclntab, file headers) is the difference to the file size. Last, the
# release binary's `ghsync --help` peak RSS (GNU time, median of 5; the binary
# is copied first so its page-cache state is that of an installed file, not
# the linker's) and the 10 package inits that allocate most
# (GODEBUG=inittrace=1). On a shared machine wrap it: flock /tmp/measure.lock bench/binsize.sh
# Usage: bench/binsize.sh [-o FILE]   (-o also writes the report to FILE)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out=
while getopts "o:" o; do case $o in o) out=$OPTARG ;; *) exit 2 ;; esac; done
work=$(mktemp -d "${TMPDIR:-/tmp}/ghsync-binsize.XXXXXX")
trap 'rm -rf "$work"' EXIT
tags=lambda.norpc
CGO_ENABLED=0 go build -trimpath -tags "$tags" -ldflags "-s -w" -o "$work/ghsync" ./cmd/ghsync
CGO_ENABLED=0 go build -trimpath -tags "$tags" -o "$work/ghsync-syms" ./cmd/ghsync
go list -deps -tags "$tags" -f '{{.ImportPath}} {{if .Module}}{{.Module.Path}}{{else}}std{{end}}' ./cmd/ghsync >"$work/pkgs"
go tool nm -size "$work/ghsync-syms" >"$work/nm"
# .bss and .noptrbss hold no bytes of the file: symbols there are left out.
bss=$(readelf -SW "$work/ghsync-syms" | awk '$2 == ".bss" || $2 == ".noptrbss" {print $4, $6}' | xargs)
{
	echo "ghsync release binary, $(date -u +%Y-%m-%dT%H:%MZ), $(go version | cut -d' ' -f3-), commit $(git rev-parse --short HEAD)$(git diff --quiet || echo +changes)"
	echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "file size (-s -w): $(stat -c %s "$work/ghsync") bytes ($(awk -v b="$(stat -c %s "$work/ghsync")" 'BEGIN{printf "%.1f", b/1e6}') MB)"
	echo
	awk -v bss="$bss" -v filesize="$(stat -c %s "$work/ghsync")" '
	BEGIN { n = split(bss, b, " "); for (i = 1; i < n; i += 2) { lo[i] = strtonum("0x" b[i]); hi[i] = lo[i] + strtonum("0x" b[i+1]) } }
	FNR == NR { mod[$1] = $2; next }
	NF >= 4 {
		addr = strtonum("0x" $1); skip = 0
		for (i in lo) if (addr >= lo[i] && addr < hi[i]) skip = 1
		if (skip) next
		size = $2; name = $4
		sub(/^type:/, "", name); sub(/^go:itab\./, "", name); sub(/^go:(link|string)\./, "", name)
		gsub(/^[*\[\]0-9]+/, "", name); sub(/^(map|chan|func)[^a-z]*/, "", name)
		# the package is the name up to the first "." after its last "/"
		slash = 0; for (i = length(name); i > 0; i--) if (substr(name, i, 1) == "/") { slash = i; break }
		rest = substr(name, slash + 1); dot = index(rest, ".")
		pkg = dot ? substr(name, 1, slash + dot - 1) : name
		m = (pkg in mod) ? mod[pkg] : "(go:func.* funcdata, runtime tables, strings)"
		sum[m] += size; total += size
	}
	END {
		scale = filesize / total
		printf "%-62s %12s %7s %9s\n", "module", "symbol B", "MB", "~file MB"
		n = 0; for (m in sum) keys[++n] = m
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (sum[keys[j]] > sum[keys[i]]) { t = keys[i]; keys[i] = keys[j]; keys[j] = t }
		for (i = 1; i <= n; i++) printf "%-62s %12d %7.2f %9.2f\n", keys[i], sum[keys[i]], sum[keys[i]] / 1e6, sum[keys[i]] * scale / 1e6
		printf "%-62s %12d %7.2f %9.2f\n", "sum of symbols", total, total / 1e6, filesize / 1e6
		printf "\nsymbol B: text, rodata and data symbols of the module (go tool nm -size on the unstripped build).\n"
		printf "~file MB: the same scaled by file size / sum of symbols (%.2f): the .gopclntab tables\n", scale
		printf "(%.1f MB not in any symbol) grow with each function, so a module costs about this much of the file.\n", (filesize - total) / 1e6
	}' "$work/pkgs" "$work/nm"
	echo
	cp "$work/ghsync" "$work/ghsync-installed"
	rss=$(for _ in 1 2 3 4 5; do /usr/bin/time -f %M "$work/ghsync-installed" --help 2>&1 >/dev/null | tail -1; done | sort -n | sed -n 3p)
	echo "ghsync --help peak RSS: $rss KB (median of 5, /usr/bin/time)"
	echo "package inits allocating most at start (GODEBUG=inittrace=1 ghsync --help): bytes, ms, package"
	GODEBUG=inittrace=1 "$work/ghsync-installed" --help 2>&1 >/dev/null | awk '/^init /{print $(NF-3), $(NF-6), $2}' | sort -rn | head -10
	GODEBUG=inittrace=1 "$work/ghsync-installed" --help 2>&1 >/dev/null | awk '/^init /{n++; b += $(NF-3); c += $(NF-6)} END {printf "all %d package inits: %d bytes, %.1f ms\n", n, b, c}'
} | tee ${out:+"$out"}
