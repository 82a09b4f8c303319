#!/usr/bin/env bash
# System calls per request of the Redis-protocol server of
# examples/redis_pubsub, on smp_rt and on tokio, under redis-benchmark: the
# count behind smp_rt_bench's redis_benchmark, to compare before and after a
# change to the IO path.
#
# For each runtime: builds the server (release; --debug for a debug build)
# into $CARGO_TARGET_DIR/redis-<runtime> (target/redis-<runtime> by default),
# where smp_rt_bench's redis_benchmark builds it too; starts it on a free
# port with --workers N; attaches `strace -f` to it (every thread); runs
#   redis-benchmark -h 127.0.0.1 -p PORT -c 50 -n REQUESTS -t get -P 1 -q
# detaches, stops the server with SIGINT, and prints, per GET:
#   socket reads   read/recv*/readv on sockets (of which EAGAIN: futile)
#   socket sends   write/send*/writev on sockets
#   eventfd writes write on eventfds (one worker waking another)
#   futex, sched_yield, epoll waits (epoll_wait/epoll_pwait/epoll_pwait2),
#   io_uring_enter, and every system call together
# then the ten most frequent system calls of each runtime. A call counts
# once whatever it returned, as `strace -c -f` counts it; the trace is
# taken in full with descriptors decoded (-y) because a write to an
# eventfd and a send on a socket can be the same system call (write).
# The trace slows the server down: the counts are what to compare, not the
# rate redis-benchmark prints.
#
# usage: scripts/redis-syscalls.sh [-n REQUESTS] [--workers N] [--debug]
#                                  [--keep DIR]
#   -n REQUESTS   GETs per runtime (default 50000)
#   --workers N   server worker threads (default 2)
#   --debug       build and run debug servers (a quick check of the script)
#   --keep DIR    keep the traces (DIR/smp_rt.trace, DIR/tokio.trace)
# Needs strace and redis-tools (Debian: apt-get install strace redis-tools),
# and the right to trace a process (root, or kernel.yama.ptrace_scope 0).
set -euo pipefail
cd "$(dirname "$0")/.."

requests=50000
workers=2
profile=release
keep=
usage() { sed -n '/^# usage:/,/^# and the right/s/^# \{0,1\}//p' "$0" >&2; exit 2; }
while [ $# -gt 0 ]; do
    case "$1" in
        -n) requests=${2:?-n needs a number of requests}; shift 2 ;;
        --workers) workers=${2:?--workers needs a number of threads}; shift 2 ;;
        --debug) profile=debug; shift ;;
        --keep) keep=${2:?--keep needs a directory}; shift 2 ;;
        -h|--help) usage ;;
        *) echo "redis-syscalls.sh: unknown argument $1" >&2; usage ;;
    esac
done
for n in "$requests" "$workers"; do
    if ! [[ "$n" =~ ^[1-9][0-9]*$ ]]; then
        echo "redis-syscalls.sh: $n is not a whole number of at least 1" >&2
        exit 2
    fi
done
for tool in strace redis-benchmark; do
    if ! command -v "$tool" >/dev/null; then
        echo "redis-syscalls.sh: $tool is not installed (Debian: apt-get install strace redis-tools)" >&2
        exit 1
    fi
done

work=$(mktemp -d)
server_pid=
strace_pid=
cleanup() {
    for pid in $strace_pid $server_pid; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
if [ -n "$keep" ]; then mkdir -p "$keep"; fi

target=${CARGO_TARGET_DIR:-target}
build() { # runtime
    local features=()
    [ "$1" = smp_rt ] && features=(--no-default-features --features on-smp_rt)
    local release=()
    [ "$profile" = release ] && release=(--release)
    echo "building: cargo build ${release[*]} -p redis_pubsub --bin redis_pubsub ${features[*]} (CARGO_TARGET_DIR=$target/redis-$1)" >&2
    CARGO_TARGET_DIR="$target/redis-$1" cargo build -q "${release[@]}" \
        -p redis_pubsub --bin redis_pubsub "${features[@]}"
    echo "$target/redis-$1/$profile/redis_pubsub"
}

# Waits (up to 30 s) until FILE has a line matching PATTERN.
wait_for() { # file pattern what
    for _ in $(seq 300); do
        if grep -qE "$2" "$1" 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    echo "redis-syscalls.sh: no $3 within 30 s; $1 says:" >&2
    cat "$1" >&2
    exit 1
}

# Counts per GET from a trace (`strace -f -y -o`: `PID name(args) = result`).
summarize() { # runtime trace
    awk -v rt="$1" -v n="$requests" -v top="$work/$1.top" '
        # A call, or the start of one that another thread interrupted;
        # `<... name resumed>` lines finish calls already counted.
        match($0, /^[0-9]+ +[a-z_0-9]+\(/) {
            line = substr($0, RSTART, RLENGTH - 1)
            sub(/^[0-9]+ +/, "", line)
            name = line
            all++
            calls[name]++
            socket = $0 ~ /^[0-9]+ +[a-z_0-9]+\([0-9]+<(socket|TCP|TCPv6|UDP|UNIX):/
            eventfd = $0 ~ /^[0-9]+ +[a-z_0-9]+\([0-9]+<anon_inode:\[eventfd\]>/
            if (socket && name ~ /^(read|readv|recv|recvfrom|recvmsg|recvmmsg)$/) {
                reads++
                if ($0 ~ /= -1 EAGAIN/) futile++
            }
            if (socket && name ~ /^(write|writev|send|sendto|sendmsg|sendmmsg)$/) sends++
            if (eventfd && name == "write") wakes++
            if (name == "futex") futex++
            if (name == "sched_yield") yields++
            if (name ~ /^epoll_(wait|pwait|pwait2)$/) waits++
            if (name == "io_uring_enter") uring++
        }
        function per(x) { return sprintf("%8.3f", x / n) }
        END {
            printf "%-7s socket reads %s (EAGAIN %s)  socket sends %s  eventfd writes %s  futex %s  sched_yield %s  epoll waits %s  io_uring_enter %s  all %s\n",
                rt, per(reads), per(futile), per(sends), per(wakes), per(futex), per(yields), per(waits), per(uring), per(all)
            printf "%-7s totals: %d socket reads (%d EAGAIN), %d socket sends, %d eventfd writes, %d futex, %d sched_yield, %d epoll waits, %d io_uring_enter, %d system calls\n",
                rt, reads, futile, sends, wakes, futex, yields, waits, uring, all > "/dev/stderr"
            for (name in calls) printf "%d %s\n", calls[name], name > top
        }' "$2"
}

measure() { # runtime program
    local rt=$1 program=$2 trace="$work/$1.trace"
    "$program" 127.0.0.1:0 --workers "$workers" >"$work/$rt.out" 2>"$work/$rt.err" &
    server_pid=$!
    wait_for "$work/$rt.out" '^listening on ' "address from the $rt server"
    local addr port
    addr=$(sed -n 's/^listening on \([^;]*\);.*/\1/p' "$work/$rt.out")
    port=${addr##*:}
    strace -f -y -s 0 -o "$trace" -p "$server_pid" 2>"$work/$rt.strace" &
    strace_pid=$!
    wait_for "$work/$rt.strace" 'attached' "strace attach to the $rt server"
    echo "$rt: $(head -1 "$work/$rt.out"); redis-benchmark -h 127.0.0.1 -p $port -c 50 -n $requests -t get -P 1 -q" >&2
    if ! redis-benchmark -h 127.0.0.1 -p "$port" -c 50 -n "$requests" -t get -P 1 -q \
        >"$work/$rt.load" 2>&1; then
        echo "redis-syscalls.sh: redis-benchmark failed against the $rt server:" >&2
        tr '\r' '\n' <"$work/$rt.load" | tail -5 >&2
        exit 1
    fi
    tr '\r' '\n' <"$work/$rt.load" | grep -E '^GET: .*requests per second' | tail -1 \
        | sed "s/^/$rt: (traced) /" >&2 || true
    kill -INT "$strace_pid"
    wait "$strace_pid" || true
    strace_pid=
    kill -INT "$server_pid"
    local status=0
    wait "$server_pid" || status=$?
    server_pid=
    if [ "$status" != 0 ]; then
        echo "redis-syscalls.sh: the $rt server exited with $status; its messages:" >&2
        cat "$work/$rt.err" >&2
        exit 1
    fi
    summarize "$rt" "$trace" >"$work/$rt.summary"
    if [ -n "$keep" ]; then cp "$trace" "$keep/"; fi
}

programs=()
for rt in smp_rt tokio; do programs+=("$(build "$rt")"); done
echo "per GET ($requests GETs, 50 clients, no pipelining, $workers workers, $profile build):"
measure smp_rt "${programs[0]}"
measure tokio "${programs[1]}"
cat "$work/smp_rt.summary" "$work/tokio.summary"
for rt in smp_rt tokio; do
    echo "$rt: the ten most frequent system calls (calls)"
    sort -rn "$work/$rt.top" | head -10 | awk '{ printf "  %-20s %10d\n", $2, $1 }'
done
