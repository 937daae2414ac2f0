#!/usr/bin/env bash
#
# Requests/s of the HTTP server on loopback with wrk (Debian's), bare and behind the
# gateway's whole middleware chain, in one run.
# Usage: bench/http_bench.sh BUILD_DIR [SECONDS] [THREADS] [LAYERS: ids|ids+log|ids+log+auth|full] [ROUNDS]
#
# Five servers in one process (bench/http_server.cpp): plain Beast, plain Beast with a
# hand-written minimal chain, the asioctx server bare, the asioctx server with the same
# hand-written minimum in its handler (the floor under any chain on this server), and the
# asioctx server behind the chain; and, when Go is installed (Debian's golang-go and
# golang-github-golang-jwt-jwt-dev), Go's net/http with the chain of the reference Go
# net/http figure (bench/go). Rounds alternate them; medians are reported.
#
set -euo pipefail
build=$(cd "${1:?build directory}" && pwd)
seconds=${2:-10}
threads=${3:-1}
layers=${4:-full}
rounds=${5:-5}
server="$build/bench/asioctx_http_bench_server"
base_port=18181

# An HS256 token for the verifiers (same key as bench/http_server.cpp).
token=$(/usr/bin/python3 -c "import jwt,time; print(jwt.encode({'sub':'bench','exp':int(time.time())+3600}, 'asioctx-bench-secret-0123456789abcdef', algorithm='HS256'))")

# One core each for the servers and wrk, so that neither steals the other's (one server
# is loaded at a time).
taskset -c 1 "$server" "$base_port" "$threads" "$layers" &
pid=$!
go_pid=""
trap 'kill -TERM $pid $go_pid 2>/dev/null || true; wait 2>/dev/null || true' EXIT
servers=5
if command -v go >/dev/null && [ -d /usr/share/gocode/src/github.com/golang-jwt/jwt ]; then
    (cd "$(dirname "$0")/go" && GOFLAGS=-mod=mod GOPROXY=off GOCACHE="$build/go-cache" \
        go build -o "$build/bench/go_chain_server" .)
    taskset -c 1 env GOMAXPROCS=1 "$build/bench/go_chain_server" $((base_port + 5)) &
    go_pid=$!
    servers=6
fi
sleep 0.5

# A server's CPU time so far, in clock ticks (user + system).
server_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
tick_us=$((1000000 / $(getconf CLK_TCK)))

# Prints "requests/s server-CPU-µs-per-request" for one wrk run against port $1 of
# process $2; fails unless every answer was a 200.
measure() {
    local before out
    before=$(server_ticks "$2")
    out=$(taskset -c 0 wrk -t1 -c32 -d"${seconds}s" -H "Authorization: Bearer $token" -H "X-Request-ID: bench-1" \
        "http://127.0.0.1:$1/hello")
    if grep -q 'Non-2xx' <<<"$out"; then
        echo "port $1 answered errors:" >&2
        echo "$out" >&2
        return 1
    fi
    awk -v ticks=$(($(server_ticks "$2") - before)) -v tick_us="$tick_us" '
        /requests in/ { n = $1 } /Requests\/sec/ { rps = $2 }
        END { printf "%s %.2f\n", rps, ticks * tick_us / n }' <<<"$out"
}
names=("plain Beast" "plain Beast + minimal" "asioctx bare" "asioctx + minimal" "asioctx + chain ($layers)"
    "Go net/http + go chain")
pid_of() { if [ "$1" -eq 5 ]; then echo "$go_pid"; else echo "$pid"; fi; }
for i in $(seq 0 $((servers - 1))); do
    measure $((base_port + i)) "$(pid_of "$i")" >/dev/null # warm-up
done
# Loopback figures on two cores move by 20% from one run to the next, so one run of each
# says little: alternate them and take medians.
declare -a rps_0 rps_1 rps_2 rps_3 rps_4 rps_5 cpu_0 cpu_1 cpu_2 cpu_3 cpu_4 cpu_5
for _ in $(seq "$rounds"); do
    for i in $(seq 0 $((servers - 1))); do
        result=$(measure $((base_port + i)) "$(pid_of "$i")") # a failed run stops the script
        read -r rps cpu <<<"$result"
        eval "rps_$i+=($rps) cpu_$i+=($cpu)"
    done
done
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
for i in $(seq 0 $((servers - 1))); do
    eval "all=(\"\${rps_$i[@]}\") cpus=(\"\${cpu_$i[@]}\")"
    rps[$i]=$(median "${all[@]}") cpu[$i]=$(median "${cpus[@]}")
    printf '%-30s %8s requests/s, %5s server CPU µs/request (runs: %s)\n' "${names[$i]}:" "${rps[$i]}" "${cpu[$i]}" "${all[*]}"
done
awk -v r="${rps[0]}" -v rm="${rps[1]}" -v b="${rps[2]}" -v f="${rps[3]}" -v c="${rps[4]}" \
    -v bc="${cpu[2]}" -v fc="${cpu[3]}" -v cc="${cpu[4]}" 'BEGIN {
    printf "asioctx bare vs plain Beast:        %.2fx the throughput\n", b / r
    printf "minimal chain on plain Beast costs: %.1f%% of throughput\n", (1 - rm / r) * 100
    printf "minimal chain on asioctx costs:     %.1f%% of throughput, %.1f%% more server CPU (the floor)\n", (1 - f / b) * 100, (fc / bc - 1) * 100
    printf "the chain costs:                    %.1f%% of throughput, %.1f%% more server CPU\n", (1 - c / b) * 100, (cc / bc - 1) * 100
    printf "the chain vs the floor:             %.1f%% less throughput, %.1f%% more server CPU\n", (1 - c / f) * 100, (cc / fc - 1) * 100 }'
if [ "$servers" -eq 6 ]; then
    awk -v c="${rps[4]}" -v g="${rps[5]}" -v r="${rps[0]}" 'BEGIN {
    printf "asioctx + chain vs Go + go chain:   %.2fx the throughput (Go at %.2fx plain Beast)\n", c / g, g / r }'
fi
