#!/usr/bin/env bash
#
# The core's derivations against Go's context package, in one run on one machine:
# bench/go/context_test.go and the same operations of bench/context_bench.cpp,
# alternately, ROUNDS times; each line gives both medians and their ratio.
# Usage: bench/context_vs_go.sh BUILD_DIR [ROUNDS]   (BUILD_DIR: the release build)
#
set -euo pipefail
build=$(cd "${1:?build directory}" && pwd)
rounds=${2:-3}
here=$(cd "$(dirname "$0")" && pwd)
command -v go >/dev/null || { echo "Go is not installed (./setup.sh bench installs it)" >&2; exit 1; }
pairs=(
    "with_cancel_from_background:WithCancelFromBackground"
    "with_cancel_child_of_cancellable:WithCancelChildOfCancellable"
    "with_timeout_cancel_idle:WithTimeoutCancelIdle"
    "with_timeout_cancel_busy:WithTimeoutCancelBusy"
    "fanout_1000_children_then_cancel_parent:Fanout1000ThenCancelParent"
)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
filter=$(printf '%s|' "${pairs[@]%%:*}")
for r in $(seq "$rounds"); do
    "$build/bench/asioctx_bench" --benchmark_filter="^(${filter%|})\$" --benchmark_format=json \
        >"$out/cpp.$r.json" 2>/dev/null
    (cd "$here/go" && GOFLAGS=-mod=mod GOPROXY=off GOCACHE="$build/go-cache" \
        go test -run '^$' -bench . -benchmem) >"$out/go.$r.txt"
done
/usr/bin/python3 - "$out" "$rounds" "${pairs[@]}" <<'PY'
import json, re, statistics, sys
out, rounds, pairs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
cpp, go = {}, {}
for r in range(1, rounds + 1):
    for b in json.load(open(f"{out}/cpp.{r}.json"))["benchmarks"]:
        cpp.setdefault(b["name"], []).append(b["real_time"])
    for line in open(f"{out}/go.{r}.txt"):
        m = re.match(r"Benchmark(\w+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op", line)
        if m:
            go.setdefault(m.group(1), []).append(float(m.group(2)))
print(f"{'operation':45} {'asioctx':>12} {'Go':>12} {'ratio':>7}")
for p in pairs:
    c, g = p.split(":")
    a, b = statistics.median(cpp[c]), statistics.median(go[g])
    print(f"{c:45} {a:10.1f}ns {b:10.1f}ns {a / b:6.2f}x")
PY
