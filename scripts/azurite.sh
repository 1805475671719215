#!/usr/bin/env bash
# azurite.sh — run a local Azurite blob service (npm package azurite, needs node) as the
# Azure Blob Storage server for tests.
#
#   scripts/azurite.sh start DIR [PORT]   start on 127.0.0.1:PORT (a free port when PORT is
#                                         omitted or 0), wait until it answers, print exports
#   scripts/azurite.sh env   DIR          print the exports for a server started in DIR
#   scripts/azurite.sh stop  DIR          stop the server started in DIR
#
# Use:  eval "$(scripts/azurite.sh start /tmp/ghsync-azurite)"
# The exports are AZURE_STORAGE_ACCOUNT / AZURE_STORAGE_KEY (Azurite's documented
# development account, not a secret) and GHSYNC_TEST_AZURE_DOMAIN (what internal/aztest
# reads; destinations use azblob://C?localemu=true&domain=HOST:PORT&protocol=http).
# DIR holds the blob data (DIR/data), the log (DIR/azurite.log), the pid and the port.
# Azurite is found through $AZURITE_BLOB, else in the directory .ci/run installs it to
# (${XDG_CACHE_HOME:-~/.cache}/ghsync/azurite-VERSION), else on PATH.
set -euo pipefail

VERSION=3.35.0
ACCOUNT=devstoreaccount1
# Azurite's fixed, publicly documented development key.
KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='

usage() {
	echo "usage: $0 start DIR [PORT] | env DIR | stop DIR" >&2
	exit 2
}

find_bin() {
	if [[ -n "${AZURITE_BLOB:-}" ]]; then
		echo "$AZURITE_BLOB"
		return
	fi
	local cached="${XDG_CACHE_HOME:-$HOME/.cache}/ghsync/azurite-$VERSION/node_modules/.bin/azurite-blob"
	if [[ -x "$cached" ]]; then
		echo "$cached"
	elif command -v azurite-blob >/dev/null 2>&1; then
		command -v azurite-blob
	else
		echo "azurite-blob not found; install it: npm install --prefix ${cached%/node_modules/.bin/azurite-blob} azurite@$VERSION" >&2
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
	echo "export AZURE_STORAGE_ACCOUNT=$ACCOUNT"
	echo "export AZURE_STORAGE_KEY=$KEY"
	echo "export GHSYNC_TEST_AZURE_DOMAIN=127.0.0.1:$port"
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
		echo "azurite: already running (pid $(cat "$dir/pid"))" >&2
		print_env "$dir"
		return
	fi
	[[ "$port" == 0 ]] && port="$(free_port)"
	if port_in_use "$port"; then
		echo "azurite: port $port is already in use" >&2
		exit 1
	fi
	bin="$(find_bin)"
	# setsid: the server must not die with the shell that started it, nor get its signals.
	# --skipApiVersionCheck: the Go SDK may speak a newer API version than this Azurite knows.
	setsid "$bin" --blobHost 127.0.0.1 --blobPort "$port" --location "$dir/data" \
		--skipApiVersionCheck --silent \
		>"$dir/azurite.log" 2>&1 </dev/null &
	pid=$!
	echo "$pid" >"$dir/pid"
	echo "$port" >"$dir/port"
	for i in $(seq 1 150); do
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "azurite: azurite-blob exited; log follows" >&2
			cat "$dir/azurite.log" >&2
			rm -f "$dir/pid"
			exit 1
		fi
		# Any HTTP answer (400/403 for an anonymous request) means the server is up.
		if curl -s -o /dev/null "http://127.0.0.1:$port/$ACCOUNT?comp=list" 2>/dev/null; then
			echo "azurite: azurite-blob pid $pid on 127.0.0.1:$port, data in $dir/data" >&2
			print_env "$dir"
			return
		fi
		sleep 0.2
	done
	echo "azurite: azurite-blob did not answer within 30s; log follows" >&2
	cat "$dir/azurite.log" >&2
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
	echo "azurite: stopped pid $pid" >&2
}

[[ $# -ge 2 ]] || usage
case "$1" in
start) start "$2" "${3:-0}" ;;
env) print_env "$2" ;;
stop) stop "$2" ;;
*) usage ;;
esac
