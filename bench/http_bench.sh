#!/usr/bin/env bash
#
# Requests/s of the HTTP server on loopback with wrk (Debian's), bare and behind the
# gateway's whole middleware chain, in one run.
# Usage: bench/http_bench.sh BUILD_DIR [SECONDS] [THREADS] [LAYERS: ids|ids+log|ids+log+auth|full]
#
set -euo pipefail
build=${1:?build directory}
seconds=${2:-10}
threads=${3:-1}
layers=${4:-full}
server="$build/bench/asioctx_http_bench_server"
bare_port=18181
chain_port=18182

# An HS256 token for the chain's verifier (same key as bench/http_server.cpp).
token=$(/usr/bin/python3 -c "import jwt,time; print(jwt.encode({'sub':'bench','exp':int(time.time())+3600}, 'asioctx-bench-secret-0123456789abcdef', algorithm='HS256'))")

"$server" "$bare_port" "$chain_port" "$threads" "$layers" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT
sleep 0.5

measure() {
    wrk -t1 -c32 -d"${seconds}s" -H "Authorization: Bearer $token" -H "X-Request-ID: bench-1" \
        "http://127.0.0.1:$1/hello" | awk '/Requests\/sec/ {print $2}'
}
measure "$bare_port" >/dev/null # warm-up
bare=$(measure "$bare_port")
chain=$(measure "$chain_port")
echo "bare server:        $bare requests/s"
echo "with the chain ($layers): $chain requests/s"
awk -v b="$bare" -v c="$chain" 'BEGIN { printf "chain cost:         %.1f%% of throughput\n", (1 - c / b) * 100 }'
