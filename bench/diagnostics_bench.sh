#!/usr/bin/env bash
#
# The registry's cost on with_cancel + cancel: compiled out, compiled in and off, on
# (sites), on (stacks). Runs the two benchmark binaries (one per layout) alternately,
# pinned to one core, and prints medians and ratios to "compiled out".
#
#   bench/diagnostics_bench.sh BUILD_DIR [ROUNDS]
#
set -euo pipefail
build=${1:?usage: diagnostics_bench.sh BUILD_DIR [ROUNDS]}
rounds=${2:-5}
in_bin=$build/bench/asioctx_diagnostics_bench
out_bin=$build/bench/asioctx_diagnostics_bench_compiled_out
for b in "$in_bin" "$out_bin"; do
    [ -x "$b" ] || { echo "missing $b (configure with -DASIOCTX_BENCH_COMPILED_OUT=ON, as the release preset does)"; exit 2; }
done
pin=()
command -v taskset >/dev/null && pin=(taskset -c 1)
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
for ((r = 1; r <= rounds; r++)); do
    for b in "$out_bin" "$in_bin"; do
        "${pin[@]}" "$b" --benchmark_min_time=0.3 --benchmark_format=csv 2>/dev/null \
            >"$results/$r-$(basename "$b").csv"
    done
done
/usr/bin/python3 - "$results" "$rounds" <<'PY'
import csv, glob, io, statistics, sys
rows, allocs = {}, {}
for path in glob.glob(sys.argv[1] + "/*.csv"):
    text = open(path).read()
    text = text[text.index("name,"):]  # the context lines come first
    for rec in csv.DictReader(io.StringIO(text)):
        rows.setdefault(rec["name"], []).append(float(rec["cpu_time"]))
        allocs[rec["name"]] = rec.get("allocs/op", "")
med = {k: statistics.median(v) for k, v in rows.items()}
print(f"medians of {sys.argv[2]} alternated rounds, CPU ns per with_cancel + cancel")
for shape in ("from_background", "child_of_cancellable"):
    base = med.get(f"with_cancel_cancel_{shape}/compiled_out")
    print(f"\n{shape}:")
    for variant in ("compiled_out", "tracking_off", "tracking_sites", "tracking_stacks"):
        v = med.get(f"with_cancel_cancel_{shape}/{variant}")
        if v is None:
            continue
        ratio = f"{v / base:.3f}x" if base else "-"
        a = allocs.get(f"with_cancel_cancel_{shape}/{variant}", "")
        print(f"  {variant:16} {v:10.1f} ns   {ratio:>8} of compiled out   allocs/op {float(a or 0):.2f}")
b = med.get("baseline_stop_source_child_via_callback")
if b:
    print(f"\nbaseline std::stop_source child via stop_callback: {b:.1f} ns")
PY

# Instructions per with_cancel + cancel, exact: callgrind totals of two loop lengths,
# subtracted, so start-up and the harness cancel out.
if command -v valgrind >/dev/null; then
    instructions() { # binary shape level loops
        valgrind --tool=callgrind --callgrind-out-file=/dev/null "$1" --loop "$4" "$2" "$3" 2>&1 |
            sed -nE 's/.*Collected : ([0-9]+).*/\1/p'
    }
    echo
    echo "instructions per with_cancel + cancel (callgrind, 20000-iteration difference)"
    for shape in from_background child_of_cancellable; do
        base=""
        for variant in "compiled_out $out_bin off" "tracking_off $in_bin off" "tracking_sites $in_bin sites"; do
            set -- $variant
            a=$(instructions "$2" "$shape" "$3" 10000)
            b=$(instructions "$2" "$shape" "$3" 30000)
            per=$(( (b - a) / 20000 ))
            [ -z "$base" ] && base=$per
            printf '  %-22s %-16s %6d   %s\n' "$shape" "$1" "$per" \
                "$(/usr/bin/python3 -c "print(f'{$per / $base:.3f}x of compiled out')")"
        done
    done
fi
