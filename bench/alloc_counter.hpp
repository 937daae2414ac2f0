// Counts heap allocations made by the benchmarks (global operator new replaced in
// alloc_counter.cpp), so every figure comes with allocations and bytes per operation.
#ifndef ASIOCTX_BENCH_ALLOC_COUNTER_HPP
#define ASIOCTX_BENCH_ALLOC_COUNTER_HPP

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstddef>

namespace bench {

extern std::atomic<std::size_t> allocations;
extern std::atomic<std::size_t> allocated_bytes;

// Sets allocs/op and bytes/op on `state` from the counts taken since construction.
class alloc_scope
{
public:
    explicit alloc_scope(benchmark::State& state, double ops_per_iteration = 1.0) noexcept
        : state_(state)
        , ops_(ops_per_iteration)
        , count_(allocations.load())
        , bytes_(allocated_bytes.load())
    {
    }
    ~alloc_scope()
    {
        auto const ops = static_cast<double>(state_.iterations()) * ops_;
        if(ops == 0)
            return;
        state_.counters["allocs/op"] = static_cast<double>(allocations.load() - count_) / ops;
        state_.counters["bytes/op"] = static_cast<double>(allocated_bytes.load() - bytes_) / ops;
    }

private:
    benchmark::State& state_;
    double ops_;
    std::size_t count_;
    std::size_t bytes_;
};

} // namespace bench

#endif
