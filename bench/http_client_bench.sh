#!/usr/bin/env bash
#
# The fetch client against a plain Beast client over one kept-alive loopback connection:
# RUNS runs of both benchmarks in one process each (asioctx_http_bench, same server,
# client and server pinned to a core each), the overhead computed within each run, then
# the median over runs, since this VM's speed moves between runs.
#
#   bench/http_client_bench.sh BUILD_DIR [RUNS]
#
set -euo pipefail
build=${1:?usage: http_client_bench.sh BUILD_DIR [RUNS]}
runs=${2:-9}
bin=$build/bench/asioctx_http_bench
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
for ((r = 1; r <= runs; r++)); do
    "$bin" --benchmark_filter='baseline_beast_client|fetch_keepalive' --benchmark_min_time=0.3 \
        --benchmark_repetitions=5 --benchmark_report_aggregates_only=true --benchmark_format=csv \
        2>/dev/null >"$results/$r.csv"
done
/usr/bin/python3 - "$results" "$runs" <<'PY'
import csv, glob, io, statistics, sys
per_run = []
for path in sorted(glob.glob(sys.argv[1] + "/*.csv")):
    text = open(path).read()
    text = text[text.index("name,"):]
    med = {}
    for rec in csv.DictReader(io.StringIO(text)):
        if rec["name"].endswith("_median"):
            name = rec["name"][: -len("_median")].replace("/real_time", "")
            med[name] = (float(rec["real_time"]), float(rec["cpu_time"]), rec.get("allocs/op", ""))
    per_run.append(med)
base = "baseline_beast_client_keepalive"
print(f"{len(per_run)} runs; per run: median of 5 repetitions; wall time per exchange (client CPU)")
for name in ("fetch_keepalive/background", "fetch_keepalive/deadline", "fetch_keepalive/parsed_origin"):
    ratios = [m[name][0] / m[base][0] for m in per_run if name in m and base in m]
    cpu = [m[name][1] - m[base][1] for m in per_run if name in m and base in m]
    print(f"{name}: overhead per run " + ", ".join(f"{(r - 1) * 100:+.0f}%" for r in ratios))
    print(f"  median overhead {(statistics.median(ratios) - 1) * 100:+.1f}%, "
          f"median extra client CPU {statistics.median(cpu) / 1000:.1f} us, "
          f"allocations {float(per_run[0][name][2]):.0f} (plain Beast {float(per_run[0][base][2]):.0f})")
print(f"plain Beast: median {statistics.median(m[base][0] for m in per_run) / 1000:.1f} us per exchange")
PY
