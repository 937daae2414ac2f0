#!/usr/bin/env bash
#
# Requests/s of the HTTP server on loopback with wrk (Debian's), bare and behind the
# gateway's whole middleware chain, in one run.
# Usage: bench/http_bench.sh BUILD_DIR [SECONDS] [THREADS] [LAYERS: ids|ids+log|ids+log+auth|full] [ROUNDS]
#
set -euo pipefail
build=${1:?build directory}
seconds=${2:-10}
threads=${3:-1}
layers=${4:-full}
rounds=${5:-5}
server="$build/bench/asioctx_http_bench_server"
bare_port=18181
chain_port=18182
raw_port=18183

# An HS256 token for the chain's verifier (same key as bench/http_server.cpp).
token=$(/usr/bin/python3 -c "import jwt,time; print(jwt.encode({'sub':'bench','exp':int(time.time())+3600}, 'asioctx-bench-secret-0123456789abcdef', algorithm='HS256'))")

# One core each for the server and wrk, so that neither steals the other's.
taskset -c 1 "$server" "$bare_port" "$chain_port" "$raw_port" "$threads" "$layers" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT
sleep 0.5

# The server's CPU time so far, in clock ticks (user + system).
server_ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
tick_us=$((1000000 / $(getconf CLK_TCK)))

# Prints "requests/s server-CPU-µs-per-request" for one wrk run against port $1.
measure() {
    local before out
    before=$(server_ticks)
    out=$(taskset -c 0 wrk -t1 -c32 -d"${seconds}s" -H "Authorization: Bearer $token" -H "X-Request-ID: bench-1" \
        "http://127.0.0.1:$1/hello")
    awk -v ticks=$(($(server_ticks) - before)) -v tick_us="$tick_us" '
        /requests in/ { n = $1 } /Requests\/sec/ { rps = $2 }
        END { printf "%s %.2f\n", rps, ticks * tick_us / n }' <<<"$out"
}
measure "$bare_port" >/dev/null # warm-up
# Alternate the two servers and report medians: loopback figures on two cores move by
# 20% from one run to the next, so one pair of runs says little.
bares=() chains=() raws=() bare_cpus=() chain_cpus=() raw_cpus=()
for _ in $(seq "$rounds"); do
    read -r rps cpu < <(measure "$raw_port")
    raws+=("$rps") raw_cpus+=("$cpu")
    read -r rps cpu < <(measure "$bare_port")
    bares+=("$rps") bare_cpus+=("$cpu")
    read -r rps cpu < <(measure "$chain_port")
    chains+=("$rps") chain_cpus+=("$cpu")
done
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
raw=$(median "${raws[@]}") bare=$(median "${bares[@]}") chain=$(median "${chains[@]}")
raw_cpu=$(median "${raw_cpus[@]}") bare_cpu=$(median "${bare_cpus[@]}") chain_cpu=$(median "${chain_cpus[@]}")
echo "plain Beast (baseline): $raw requests/s, $raw_cpu server CPU µs/request (medians of $rounds: ${raws[*]})"
echo "asioctx server, bare:   $bare requests/s, $bare_cpu server CPU µs/request (medians of $rounds: ${bares[*]})"
echo "with the chain ($layers): $chain requests/s, $chain_cpu server CPU µs/request (medians of $rounds: ${chains[*]})"
awk -v r="$raw" -v b="$bare" -v c="$chain" -v bc="$bare_cpu" -v cc="$chain_cpu" 'BEGIN {
    printf "server vs plain Beast:  %.2fx the throughput\n", b / r
    printf "chain cost:             %.1f%% of throughput, %.1f%% more server CPU per request\n", (1 - c / b) * 100, (cc / bc - 1) * 100 }'
