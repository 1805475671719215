#!/usr/bin/env bash
# walk-examples.sh [EXAMPLE.yaml…] — run the local commands each example's
# header documents (scripts/example-commands.sh), each example in a fresh
# shell from the repository root, printing "$ command" and its output: the
# transcript in docs/examples.md. Needs `ghsync` on PATH (go build -o DIR/ghsync
# ./cmd/ghsync; PATH=DIR:$PATH). Writes under examples/ (out/, store/, data/, …:
# see .gitignore there). Exit 1 when a command of any example failed.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[[ $# -gt 0 ]] || set -- examples/*.yaml
rc=0
for ex in "$@"; do
	echo "## $ex"
	cmds="$(scripts/example-commands.sh "$ex")"
	if [[ -z "$cmds" ]]; then
		echo "(no local commands documented)"
		rc=1
		continue
	fi
	# Each command is echoed, then run; the first failure ends the example
	# (and stops the fakes it started).
	script='set -eo pipefail
'
	fakes="$(sed -n 's|.*scripts/fakeapis.sh start \([^ )"]*\).*|\1|p' <<<"$cmds" | head -n 1)"
	if [[ -n "$fakes" ]]; then
		script+="trap '[[ -f $fakes/pid ]] && scripts/fakeapis.sh stop $fakes >/dev/null 2>&1' EXIT"$'\n'
	fi
	while IFS= read -r c; do
		script+="echo \"\$ $(printf '%s' "$c" | sed 's/[\\"$`]/\\&/g')\""$'\n'"$c"$'\n'
	done <<<"$cmds"
	if ! bash -c "$script" 2>&1; then
		echo "FAILED: $ex"
		rc=1
	fi
	echo
done
exit $rc
