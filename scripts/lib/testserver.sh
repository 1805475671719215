# scripts/lib/testserver.sh — what the local test servers' scripts (s3server.sh,
# gcsserver.sh, azurite.sh) share: a free loopback port, start in the background
# with a pid file, wait until the server answers, stop, and the start/env/stop
# command line. Source it after defining:
#   NAME          the script's name in messages ("s3server")
#   LOG           the log file's name inside DIR ("versitygw.log")
#   find_bin      prints the server's executable
#   print_env     DIR: prints the exports for the server started in DIR
#   launch        DIR PORT BIN: starts the server in the background (setsid … &)
#   probe         PORT: succeeds once the server answers
# then call: testserver_main "$@"

usage() {
	echo "usage: $0 start DIR [PORT] | env DIR | stop DIR" >&2
	exit 2
}

# go_bin NAME MODULE@VERSION: NAME from GOBIN/GOPATH/bin, else PATH.
go_bin() {
	local gobin
	gobin="$(go env GOBIN 2>/dev/null || true)"
	[[ -z "$gobin" ]] && gobin="$(go env GOPATH 2>/dev/null || echo "$HOME/go")/bin"
	if [[ -x "$gobin/$1" ]]; then
		echo "$gobin/$1"
	elif command -v "$1" >/dev/null 2>&1; then
		command -v "$1"
	else
		echo "$1 not found; install it: go install $2" >&2
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

running() {
	local dir=$1
	[[ -f "$dir/pid" ]] && kill -0 "$(cat "$dir/pid")" 2>/dev/null
}

start() {
	local dir=$1 port=${2:-0} bin pid i
	mkdir -p "$dir/data"
	dir="$(cd "$dir" && pwd)"
	if running "$dir"; then
		echo "$NAME: already running (pid $(cat "$dir/pid"))" >&2
		print_env "$dir"
		return
	fi
	[[ "$port" == 0 ]] && port="$(free_port)"
	if port_in_use "$port"; then
		echo "$NAME: port $port is already in use" >&2
		exit 1
	fi
	bin="$(find_bin)"
	launch "$dir" "$port" "$bin"
	pid=$!
	echo "$pid" >"$dir/pid"
	echo "$port" >"$dir/port"
	for i in $(seq 1 150); do
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "$NAME: $(basename "$bin") exited; log follows" >&2
			cat "$dir/$LOG" >&2
			rm -f "$dir/pid"
			exit 1
		fi
		if probe "$port"; then
			echo "$NAME: $(basename "$bin") pid $pid on 127.0.0.1:$port, data in $dir/data" >&2
			print_env "$dir"
			return
		fi
		sleep 0.2
	done
	echo "$NAME: $(basename "$bin") did not answer within 30s; log follows" >&2
	cat "$dir/$LOG" >&2
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
	echo "$NAME: stopped pid $pid" >&2
}

testserver_main() {
	[[ $# -ge 2 ]] || usage
	case "$1" in
	start) start "$2" "${3:-0}" ;;
	env) print_env "$2" ;;
	stop) stop "$2" ;;
	*) usage ;;
	esac
}
