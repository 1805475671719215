#!/usr/bin/env bash
# s3server.sh — run a local VersityGW (posix backend) as the real S3 server for tests.
#
#   scripts/s3server.sh start DIR [PORT]   start on 127.0.0.1:PORT (a free port when PORT is
#                                          omitted or 0), wait until it answers, print exports
#   scripts/s3server.sh env   DIR          print the exports for a server started in DIR
#   scripts/s3server.sh stop  DIR          stop the server started in DIR
#
# Use:  eval "$(scripts/s3server.sh start /tmp/ghsync-s3)"
# DIR holds the object data (DIR/data), the log (DIR/versitygw.log), the pid and the port.
# The credentials are fixed, test-only values.
set -euo pipefail

ACCESS=ghsynctest
SECRET=ghsynctestsecret
REGION=us-east-1
VERSION=v1.8.0

NAME=s3server
LOG=versitygw.log

find_bin() {
	if [[ -n "${VERSITYGW:-}" ]]; then
		echo "$VERSITYGW"
		return
	fi
	go_bin versitygw "github.com/versity/versitygw/cmd/versitygw@$VERSION"
}

print_env() {
	local dir=$1 port
	port="$(cat "$dir/port")"
	echo "export GHSYNC_TEST_S3_ENDPOINT=http://127.0.0.1:$port"
	echo "export AWS_ACCESS_KEY_ID=$ACCESS"
	echo "export AWS_SECRET_ACCESS_KEY=$SECRET"
	echo "export AWS_REGION=$REGION"
}

# setsid: the server must not die with the shell that started it, nor get its signals.
launch() {
	setsid "$3" --access "$ACCESS" --secret "$SECRET" --region "$REGION" \
		--port "127.0.0.1:$2" --quiet posix "$1/data" \
		>"$1/$LOG" 2>&1 </dev/null &
}

# Any HTTP answer (403 for an anonymous request) means the server is up.
probe() { curl -s -o /dev/null "http://127.0.0.1:$1/" 2>/dev/null; }

# shellcheck source=lib/testserver.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/testserver.sh"
testserver_main "$@"
