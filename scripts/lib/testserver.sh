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

# free_port picks a port below the kernel's ephemeral range when there is room
# (outgoing connections take their local ports from that range, so a port
# free when checked could be taken by one before the server binds it).
free_port() {
	local p i lo=20000 span=40000 eph
	eph="$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true)"
	if [[ "$eph" =~ ^[0-9]+$ ]] && ((eph > lo + 2000)); then
		span=$((eph - lo))
	fi
	for i in $(seq 1 200); do
		p=$((lo + RANDOM % span))
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

# start DIR [PORT]: with no PORT, a free one is picked, and picked again (up
# to 5 times) when the server exits because another process took the port
# first.
start() {
	local dir=$1 port=${2:-0} attempt rc
	mkdir -p "$dir/data"
	dir="$(cd "$dir" && pwd)"
	if running "$dir"; then
		echo "$NAME: already running (pid $(cat "$dir/pid"))" >&2
		print_env "$dir"
		return
	fi
	if [[ "$port" != 0 ]]; then
		start_on "$dir" "$port"
		return
	fi
	for attempt in 1 2 3 4 5; do
		rc=0
		start_on "$dir" "$(free_port)" || rc=$?
		[[ $rc -ne 3 ]] && return $rc
		echo "$NAME: the port was taken before the server bound it; trying another ($attempt/5)" >&2
	done
	exit 1
}

# start_on DIR PORT: starts the server on PORT; returns 3 when it exited
# because the port was in use (the caller may pick another).
start_on() {
	local dir=$1 port=$2 bin pid i
	if port_in_use "$port"; then
		echo "$NAME: port $port is already in use" >&2
		return 3
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
			if grep -qi "address already in use" "$dir/$LOG"; then
				return 3
			fi
			exit 1
		fi
		if probe "$port"; then
			echo "$NAME: $(basename "$bin") pid $pid on 127.0.0.1:$port, data in $dir/data" >&2
			print_env "$dir"
			return 0
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
