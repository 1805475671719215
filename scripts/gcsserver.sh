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

usage() {
	echo "usage: $0 start DIR [PORT] | env DIR | stop DIR" >&2
	exit 2
}

find_bin() {
	if [[ -n "${FAKE_GCS_SERVER:-}" ]]; then
		echo "$FAKE_GCS_SERVER"
		return
	fi
	local gobin
	gobin="$(go env GOBIN 2>/dev/null || true)"
	[[ -z "$gobin" ]] && gobin="$(go env GOPATH 2>/dev/null || echo "$HOME/go")/bin"
	if [[ -x "$gobin/fake-gcs-server" ]]; then
		echo "$gobin/fake-gcs-server"
	elif command -v fake-gcs-server >/dev/null 2>&1; then
		command -v fake-gcs-server
	else
		echo "fake-gcs-server not found; install it: go install github.com/fsouza/fake-gcs-server@$VERSION" >&2
		exit 1
	fi
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
	local p i
	for i in $(seq 1 200); do
		p=$((20000 + RANDOM % 40000))
		if ! port_in_use "$p"; then
			echo "$p"
			return
		fi
	done
	echo "no free port found" >&2
	exit 1
}

print_env() {
	local dir=$1 port
	port="$(cat "$dir/port")"
	echo "export STORAGE_EMULATOR_HOST=127.0.0.1:$port"
	echo "export GHSYNC_TEST_GCS_EMULATOR=127.0.0.1:$port"
}

running() {
	local dir=$1
	[[ -f "$dir/pid" ]] && kill -0 "$(cat "$dir/pid")" 2>/dev/null
}

start() {
	local dir=$1 port=${2:-0} bin pid i
	mkdir -p "$dir"
	dir="$(cd "$dir" && pwd)"
	if running "$dir"; then
		echo "gcsserver: already running (pid $(cat "$dir/pid"))" >&2
		print_env "$dir"
		return
	fi
	[[ "$port" == 0 ]] && port="$(free_port)"
	if port_in_use "$port"; then
		echo "gcsserver: port $port is already in use" >&2
		exit 1
	fi
	bin="$(find_bin)"
	# setsid: the server must not die with the shell that started it, nor get its signals.
	setsid "$bin" -scheme http -host 127.0.0.1 -port "$port" -backend memory \
		-public-host "127.0.0.1:$port" -external-url "http://127.0.0.1:$port" -log-level warn \
		>"$dir/fake-gcs-server.log" 2>&1 </dev/null &
	pid=$!
	echo "$pid" >"$dir/pid"
	echo "$port" >"$dir/port"
	for i in $(seq 1 150); do
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "gcsserver: fake-gcs-server exited; log follows" >&2
			cat "$dir/fake-gcs-server.log" >&2
			rm -f "$dir/pid"
			exit 1
		fi
		if curl -sf -o /dev/null "http://127.0.0.1:$port/storage/v1/b" 2>/dev/null; then
			echo "gcsserver: fake-gcs-server pid $pid on 127.0.0.1:$port (in memory)" >&2
			print_env "$dir"
			return
		fi
		sleep 0.2
	done
	echo "gcsserver: fake-gcs-server did not answer within 30s; log follows" >&2
	cat "$dir/fake-gcs-server.log" >&2
	kill "$pid" 2>/dev/null || true
	exit 1
}

stop() {
	local dir=$1 pid i
	if ! running "$dir"; then
		rm -f "$dir/pid"
		return
	fi
	pid="$(cat "$dir/pid")"
	kill "$pid"
	for i in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null || true
	rm -f "$dir/pid"
	echo "gcsserver: stopped pid $pid" >&2
}

[[ $# -ge 2 ]] || usage
case "$1" in
start) start "$2" "${3:-0}" ;;
env) print_env "$2" ;;
stop) stop "$2" ;;
*) usage ;;
esac
