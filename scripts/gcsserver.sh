#!/usr/bin/env bash
# gcsserver.sh — run a local fake-gcs-server (github.com/fsouza/fake-gcs-server, in-memory
# backend, plain HTTP) as the Cloud Storage server for tests.
#
#   scripts/gcsserver.sh start DIR [PORT]   start on 127.0.0.1:PORT (a free port when PORT is
#                                           omitted or 0), wait until it answers, print exports
#   scripts/gcsserver.sh env   DIR          print the exports for a server started in DIR
#   scripts/gcsserver.sh stop  DIR          stop the server started in DIR
#
# Use:  eval "$(scripts/gcsserver.sh start /tmp/ghsync-gcs)"
# The exports are STORAGE_EMULATOR_HOST (how every Cloud Storage client library finds an
# emulator) and GHSYNC_TEST_GCS_EMULATOR (what internal/gcstest reads). DIR holds the log
# (DIR/fake-gcs-server.log), the pid and the port. No credentials are needed.
set -euo pipefail

VERSION=v1.56.1

NAME=gcsserver
LOG=fake-gcs-server.log

find_bin() {
	if [[ -n "${FAKE_GCS_SERVER:-}" ]]; then
		echo "$FAKE_GCS_SERVER"
		return
	fi
	go_bin fake-gcs-server "github.com/fsouza/fake-gcs-server@$VERSION"
}

print_env() {
	local dir=$1 port
	port="$(cat "$dir/port")"
	echo "export STORAGE_EMULATOR_HOST=127.0.0.1:$port"
	echo "export GHSYNC_TEST_GCS_EMULATOR=127.0.0.1:$port"
}

# setsid: the server must not die with the shell that started it, nor get its signals.
launch() {
	setsid "$3" -scheme http -host 127.0.0.1 -port "$2" -backend memory \
		-public-host "127.0.0.1:$2" -external-url "http://127.0.0.1:$2" -log-level warn \
		>"$1/$LOG" 2>&1 </dev/null &
}

probe() { curl -sf -o /dev/null "http://127.0.0.1:$1/storage/v1/b" 2>/dev/null; }

# shellcheck source=lib/testserver.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/testserver.sh"
testserver_main "$@"
