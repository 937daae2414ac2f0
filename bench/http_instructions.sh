#!/usr/bin/env bash
#
# Instructions per request in each server of bench/http_server.cpp, counted by callgrind:
# unlike requests/s they do not move with the machine's load (the kernel's share, about
# half of a request's time on loopback, is not counted). Each server is measured in a
# process of its own, from after start-up to the end of a wrk run of SECONDS.
# Usage: bench/http_instructions.sh BUILD_DIR [SECONDS] [LAYERS]
#
set -euo pipefail
build=${1:?build directory}
seconds=${2:-5}
layers=${3:-full}
server="$build/bench/asioctx_http_bench_server"
base_port=18191
# KEEP=DIR keeps the callgrind files (cg.0 to cg.4) for callgrind_annotate.
out=${KEEP:-$(mktemp -d)}
mkdir -p "$out"
[ -n "${KEEP:-}" ] || trap 'rm -rf "$out"' EXIT
token=$(/usr/bin/python3 -c "import jwt,time; print(jwt.encode({'sub':'bench','exp':int(time.time())+3600}, 'asioctx-bench-secret-0123456789abcdef', algorithm='HS256'))")
names=("plain Beast" "plain Beast + minimal" "asioctx bare" "asioctx + minimal" "asioctx + chain ($layers)")
declare -a per
for i in 0 1 2 3 4; do
    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out/cg.$i" \
        "$server" "$base_port" 1 "$layers" 2>"$out/log.$i" &
    pid=$!
    # Wait for the server (it runs some 50 times slower under valgrind) and warm it up.
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$((base_port + i))") 2>/dev/null && break
        sleep 0.2
    done
    wrk -t1 -c4 -d1s -H "Authorization: Bearer $token" -H "X-Request-ID: bench-1" \
        "http://127.0.0.1:$((base_port + i))/hello" >/dev/null
    kill -USR1 "$pid"
    callgrind_control -i on asioctx_http_bench_server >/dev/null 2>&1
    n=$(wrk -t1 -c4 -d"${seconds}s" -H "Authorization: Bearer $token" -H "X-Request-ID: bench-1" \
        "http://127.0.0.1:$((base_port + i))/hello" | awk '/requests in/ { print $1 }')
    callgrind_control -i off asioctx_http_bench_server >/dev/null 2>&1
    kill -USR1 "$pid"
    sleep 1
    kill -TERM "$pid"
    wait "$pid" || true
    if [ "${n:-0}" -eq 0 ]; then
        echo "${names[$i]}: wrk completed no request" >&2
        exit 1
    fi
    total=$(awk '/^totals:/ { print $2; exit }' "$out"/cg.$i*)
    per[$i]=$((total / n))
    # Heap allocations: operator new as the server counts it, and every call to malloc
    # that callgrind saw (operator new ends there, and so do OpenSSL's allocations and
    # Asio's recycling allocator when its per-thread cache misses, through memalign).
    allocs=$(awk '/^allocations / { a[++k] = $2 } END { if(k >= 2) printf "%.2f", (a[k] - a[k - 1]) / n }' n="$n" "$out/log.$i")
    mallocs=$(/usr/bin/python3 - "$n" "$out"/cg.$i* <<'PY'
import re, sys
n = float(sys.argv[1]); total = 0
for path in sys.argv[2:]:
    names, callee = {}, None
    for line in open(path, errors="replace"):
        m = re.match(r"c?fn=\((\d+)\)(?: (.*))?", line)
        if m:
            if m.group(2):
                names[m.group(1)] = m.group(2).strip()
            callee = names.get(m.group(1)) if line.startswith("cfn=") else None
        elif line.startswith("calls=") and callee is not None:
            if callee == "malloc":
                total += int(line[6:].split()[0])
            callee = None
print("%.2f" % (total / n))
PY
)
    printf '%-30s %8d instructions/request, %s operator new and %s malloc calls/request (%d requests)\n' \
        "${names[$i]}:" "${per[$i]}" "${allocs:-?}" "${mallocs:-?}" "$n"
done
awk -v r="${per[0]}" -v rm="${per[1]}" -v b="${per[2]}" -v f="${per[3]}" -v c="${per[4]}" 'BEGIN {
    printf "asioctx bare vs plain Beast:   %+d (%.2fx)\n", b - r, b / r
    printf "minimal chain on plain Beast:  %+d\n", rm - r
    printf "minimal chain on asioctx:      %+d (the floor)\n", f - b
    printf "the chain:                     %+d (%.2fx the floor'"'"'s cost)\n", c - b, (c - b) / (f - b) }'
