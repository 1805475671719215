#!/usr/bin/env bash
# fakeapis.sh — run the project's test fakes as one local process, so the
# examples in examples/ run without any cloud account (docs/examples.md):
# GitHub (REST + GraphQL, held to GitHub's OpenAPI description; the
# repositories the examples name), Airtable, Badgr, an SMTP catcher (STARTTLS;
# each message caught is written to DIR/mail/N.eml) and a Slack webhook catcher
# (each alert to DIR/alerts/N.json). See scripts/fakeapis/.
#
#   scripts/fakeapis.sh start DIR   build the fakes (go test -c, once), start them on
#                                   free loopback ports, wait, print the exports
#   scripts/fakeapis.sh env   DIR   print the exports of the fakes started in DIR
#   scripts/fakeapis.sh stop  DIR   stop them
#
# Use:  eval "$(scripts/fakeapis.sh start /tmp/ghsync-fakes)"
# The exports point ghsync at the fakes: GITHUB_API_URL, GITHUB_TOKEN,
# AIRTABLE_API_URL/TOKEN/BASE_ID, BADGR_API_URL/USERNAME/PASSWORD/ISSUER_ID,
# EMAIL_VIA (smtp://…), SLACK_WEBHOOK_URL and SSL_CERT_FILE (the catcher's certificate: set it
# only for ghsync runs against these fakes). All credentials are test-only values.
# The GitHub contract documents come from scripts/fetch-contracts.sh (run
# first when offline from the npm registry's cache).
set -euo pipefail

ROOT="$(cd -P "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)" # the module root, even through a symbolic link

usage() {
	echo "usage: $0 start DIR | env DIR | stop DIR" >&2
	exit 2
}

running() { [[ -f "$1/pid" ]] && kill -0 "$(cat "$1/pid")" 2>/dev/null; }

start() {
	local dir=$1 pid i
	mkdir -p "$dir"
	dir="$(cd "$dir" && pwd)"
	if running "$dir"; then
		echo "fakeapis: already running (pid $(cat "$dir/pid"))" >&2
		cat "$dir/env"
		return
	fi
	rm -rf "$dir/env" "$dir/mail" "$dir/alerts" # what a previous run caught
	echo "fakeapis: building the fakes (first time: a minute or more)" >&2
	(cd "$ROOT" && go test -c -o "$dir/fakeapis.test" ./scripts/fakeapis)
	# setsid: the fakes must not die with the shell that started them.
	GHSYNC_FAKEAPIS_DIR="$dir" GHSYNC_REQUIRE_CONTRACTS=1 setsid "$dir/fakeapis.test" \
		-test.run '^TestServe$' -test.timeout 0 -test.v >"$dir/fakeapis.log" 2>&1 </dev/null &
	pid=$!
	echo "$pid" >"$dir/pid"
	for i in $(seq 1 300); do
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "fakeapis: exited; log follows" >&2
			cat "$dir/fakeapis.log" >&2
			rm -f "$dir/pid"
			exit 1
		fi
		if [[ -f "$dir/env" ]]; then
			echo "fakeapis: pid $pid, exports in $dir/env, mail and alerts caught in $dir/mail, $dir/alerts" >&2
			cat "$dir/env"
			return
		fi
		sleep 0.2
	done
	echo "fakeapis: not ready after 60s; log in $dir/fakeapis.log" >&2
	exit 1
}

stop() {
	local dir=$1 pid i
	if ! running "$dir"; then
		echo "fakeapis: not running in $dir" >&2
		return
	fi
	pid="$(cat "$dir/pid")"
	kill -TERM "$pid"
	for i in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	rm -f "$dir/pid" "$dir/env"
	# The fakes check every request against GitHub's description: a
	# violation fails TestServe and is in the log.
	if grep -q -- '--- FAIL' "$dir/fakeapis.log"; then
		echo "fakeapis: contract violations while serving:" >&2
		grep -A20 -- '--- FAIL' "$dir/fakeapis.log" >&2
		exit 1
	fi
	echo "fakeapis: stopped" >&2
}

[[ $# -eq 2 ]] || usage
case "$1" in
start) start "$2" ;;
env) [[ -f "$2/env" ]] && cat "$2/env" || { echo "fakeapis: not running in $2" >&2; exit 1; } ;;
stop) stop "$2" ;;
*) usage ;;
esac
