// The nearest std:: baseline for deriving a cancellable child: a std::stop_source linked
// to its parent by a std::stop_callback, created and stopped. Used by more than one
// benchmark binary, so each compares against the same code.
#ifndef ASIOCTX_BENCH_STOP_SOURCE_BASELINE_HPP
#define ASIOCTX_BENCH_STOP_SOURCE_BASELINE_HPP

#include "alloc_counter.hpp"

#include <benchmark/benchmark.h>

#include <stop_token>

namespace bench {

inline void baseline_stop_source_child_via_callback(benchmark::State& state)
{
    std::stop_source parent;
    alloc_scope allocs(state);
    for(auto _ : state)
    {
        std::stop_source child;
        std::stop_callback link(parent.get_token(), [&child]() noexcept { child.request_stop(); });
        child.request_stop();
        benchmark::DoNotOptimize(child);
    }
}

} // namespace bench

#endif
