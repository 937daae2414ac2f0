// The live-context registry's cost on with_cancel + cancel. Built twice: against the
// library with diagnostics compiled in (tracking off, sites, stacks), and against a
// copy compiled with ASIOCTX_NO_DIAGNOSTICS (compiled_out). One program cannot hold
// both layouts, so bench/diagnostics_bench.sh runs the two binaries alternately and
// prints the ratios. std::stop_source is the baseline in both.
#include <asioctx/core/cancel.hpp>
#include <asioctx/diagnostics/registry.hpp>

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string_view>

#include "alloc_counter.hpp"
#include "stop_source_baseline.hpp"

namespace {

using bench::baseline_stop_source_child_via_callback;
BENCHMARK(baseline_stop_source_child_via_callback);

// Sets the tracking level for one benchmark run and puts "off" back.
struct level_scope
{
    explicit level_scope(asioctx::tracking level)
    {
        asioctx::set_tracking(level);
    }
    ~level_scope()
    {
        asioctx::set_tracking(asioctx::tracking::off);
    }
};

void with_cancel_cancel_from_background(benchmark::State& state, asioctx::tracking level)
{
    level_scope scope(level);
    auto const root = asioctx::background();
    bench::alloc_scope allocs(state);
    for(auto _ : state)
    {
        auto [ctx, cancel] = asioctx::with_cancel(root);
        cancel();
        benchmark::DoNotOptimize(ctx);
    }
}

void with_cancel_cancel_child_of_cancellable(benchmark::State& state, asioctx::tracking level)
{
    level_scope scope(level);
    auto parent = asioctx::with_cancel(asioctx::background());
    bench::alloc_scope allocs(state);
    for(auto _ : state)
    {
        auto [ctx, cancel] = asioctx::with_cancel(parent.ctx);
        cancel();
        benchmark::DoNotOptimize(ctx);
    }
}

#if ASIOCTX_DIAGNOSTICS_COMPILED_IN
BENCHMARK_CAPTURE(with_cancel_cancel_from_background, tracking_off, asioctx::tracking::off);
BENCHMARK_CAPTURE(with_cancel_cancel_from_background, tracking_sites, asioctx::tracking::sites);
BENCHMARK_CAPTURE(with_cancel_cancel_from_background, tracking_stacks, asioctx::tracking::stacks);
BENCHMARK_CAPTURE(with_cancel_cancel_child_of_cancellable, tracking_off, asioctx::tracking::off);
BENCHMARK_CAPTURE(with_cancel_cancel_child_of_cancellable, tracking_sites, asioctx::tracking::sites);
BENCHMARK_CAPTURE(with_cancel_cancel_child_of_cancellable, tracking_stacks, asioctx::tracking::stacks);
#else
BENCHMARK_CAPTURE(with_cancel_cancel_from_background, compiled_out, asioctx::tracking::off);
BENCHMARK_CAPTURE(with_cancel_cancel_child_of_cancellable, compiled_out, asioctx::tracking::off);
#endif

} // namespace

// `--loop N from_background|child_of_cancellable off|sites|stacks` runs exactly N
// with_cancel + cancel and nothing else, for an instruction count under callgrind
// (bench/diagnostics_bench.sh subtracts two loop lengths): exact where timings are noisy.
int main(int argc, char** argv)
{
    if(argc == 5 && std::string_view(argv[1]) == "--loop")
    {
        long const n = std::atol(argv[2]);
        std::string_view const level = argv[4];
        asioctx::set_tracking(level == "stacks" ? asioctx::tracking::stacks
                : level == "sites"              ? asioctx::tracking::sites
                                                : asioctx::tracking::off);
        auto parent = asioctx::with_cancel(asioctx::background());
        auto const root = std::string_view(argv[3]) == "child_of_cancellable" ? parent.ctx : asioctx::background();
        for(long i = 0; i < n; ++i)
        {
            auto [ctx, cancel] = asioctx::with_cancel(root);
            cancel();
            benchmark::DoNotOptimize(ctx);
        }
        return 0;
    }
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
