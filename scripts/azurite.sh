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

NAME=azurite
LOG=azurite.log

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


print_env() {
	local dir=$1 port
	port="$(cat "$dir/port")"
	echo "export AZURE_STORAGE_ACCOUNT=$ACCOUNT"
	echo "export AZURE_STORAGE_KEY=$KEY"
	echo "export GHSYNC_TEST_AZURE_DOMAIN=127.0.0.1:$port"
}

# setsid: the server must not die with the shell that started it, nor get its signals.
# --skipApiVersionCheck: the Go SDK may speak a newer API version than this Azurite knows.
launch() {
	setsid "$3" --blobHost 127.0.0.1 --blobPort "$2" --location "$1/data" \
		--skipApiVersionCheck --silent \
		>"$1/$LOG" 2>&1 </dev/null &
}

# Any HTTP answer (400/403 for an anonymous request) means the server is up.
probe() { curl -s -o /dev/null "http://127.0.0.1:$1/$ACCOUNT?comp=list" 2>/dev/null; }

# shellcheck source=lib/testserver.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/testserver.sh"
testserver_main "$@"
