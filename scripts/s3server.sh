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

usage() {
	echo "usage: $0 start DIR [PORT] | env DIR | stop DIR" >&2
	exit 2
}

find_bin() {
	if [[ -n "${VERSITYGW:-}" ]]; then
		echo "$VERSITYGW"
		return
	fi
	local gobin
	gobin="$(go env GOBIN 2>/dev/null || true)"
	[[ -z "$gobin" ]] && gobin="$(go env GOPATH 2>/dev/null || echo "$HOME/go")/bin"
	if [[ -x "$gobin/versitygw" ]]; then
		echo "$gobin/versitygw"
	elif command -v versitygw >/dev/null 2>&1; then
		command -v versitygw
	else
		echo "versitygw not found; install it: go install github.com/versity/versitygw/cmd/versitygw@$VERSION" >&2
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
	echo "export GHSYNC_TEST_S3_ENDPOINT=http://127.0.0.1:$port"
	echo "export AWS_ACCESS_KEY_ID=$ACCESS"
	echo "export AWS_SECRET_ACCESS_KEY=$SECRET"
	echo "export AWS_REGION=$REGION"
}

running() {
	local dir=$1
	[[ -f "$dir/pid" ]] && kill -0 "$(cat "$dir/pid")" 2>/dev/null
}

start() {
	local dir=$1 port=${2:-0} bin pid i
	mkdir -p "$dir/data"
	dir="$(cd "$dir" && pwd)"
	if running "$dir"; then
		echo "s3server: already running (pid $(cat "$dir/pid"))" >&2
		print_env "$dir"
		return
	fi
	[[ "$port" == 0 ]] && port="$(free_port)"
	if port_in_use "$port"; then
		echo "s3server: port $port is already in use" >&2
		exit 1
	fi
	bin="$(find_bin)"
	# setsid: the server must not die with the shell that started it, nor get its signals.
	setsid "$bin" --access "$ACCESS" --secret "$SECRET" --region "$REGION" \
		--port "127.0.0.1:$port" --quiet posix "$dir/data" \
		>"$dir/versitygw.log" 2>&1 </dev/null &
	pid=$!
	echo "$pid" >"$dir/pid"
	echo "$port" >"$dir/port"
	for i in $(seq 1 150); do
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "s3server: versitygw exited; log follows" >&2
			cat "$dir/versitygw.log" >&2
			rm -f "$dir/pid"
			exit 1
		fi
		# Any HTTP answer (403 for an anonymous request) means the server is up.
		if curl -s -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null; then
			echo "s3server: versitygw pid $pid on 127.0.0.1:$port, data in $dir/data" >&2
			print_env "$dir"
			return
		fi
		sleep 0.2
	done
	echo "s3server: versitygw did not answer within 30s; log follows" >&2
	cat "$dir/versitygw.log" >&2
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
	echo "s3server: stopped pid $pid" >&2
}

[[ $# -ge 2 ]] || usage
case "$1" in
start) start "$2" "${3:-0}" ;;
env) print_env "$2" ;;
stop) stop "$2" ;;
*) usage ;;
esac
