// Benchmarks of what asioctx adds to Go's context, each beside its nearest baseline in
// the same run: synchronous registration against std::stop_callback, a merged context
// against a single with_cancel, and the cancel site (see doc/design/benchmarks.md).

#include "alloc_counter.hpp"

#include <asioctx.hpp>

#include <benchmark/benchmark.h>

#include <stop_token>

namespace {

struct count_run
{
    int* runs;
    void operator()() const noexcept
    {
        ++*runs;
    }
};

// ---- synchronous registration ---------------------------------------------------

// A source, one callback, a stop that runs it.
void baseline_stop_callback_register_request_stop(benchmark::State& state)
{
    bench::alloc_scope allocs(state);
    int runs = 0;
    for(auto _ : state)
    {
        std::stop_source source;
        std::stop_callback cb(source.get_token(), count_run{&runs});
        source.request_stop();
        benchmark::DoNotOptimize(source);
    }
    benchmark::DoNotOptimize(runs);
}
BENCHMARK(baseline_stop_callback_register_request_stop);

// The same with a context: with_cancel, one done_callback, a cancel that runs it.
void done_callback_register_cancel(benchmark::State& state)
{
    bench::alloc_scope allocs(state);
    int runs = 0;
    auto const root = asioctx::background();
    for(auto _ : state)
    {
        auto [ctx, cancel] = asioctx::with_cancel(root);
        asioctx::done_callback cb(ctx, count_run{&runs});
        cancel();
        benchmark::DoNotOptimize(ctx);
    }
    benchmark::DoNotOptimize(runs);
}
BENCHMARK(done_callback_register_cancel);

// Registration and removal on a long-lived source that is never stopped.
void baseline_stop_callback_register_unregister(benchmark::State& state)
{
    std::stop_source source;
    auto const token = source.get_token();
    bench::alloc_scope allocs(state);
    int runs = 0;
    for(auto _ : state)
    {
        std::stop_callback cb(token, count_run{&runs});
        benchmark::DoNotOptimize(cb);
    }
}
BENCHMARK(baseline_stop_callback_register_unregister);

void done_callback_register_unregister(benchmark::State& state)
{
    auto parent = asioctx::with_cancel(asioctx::background());
    bench::alloc_scope allocs(state);
    int runs = 0;
    for(auto _ : state)
    {
        asioctx::done_callback cb(parent.ctx, count_run{&runs});
        benchmark::DoNotOptimize(cb);
    }
}
BENCHMARK(done_callback_register_unregister);

// ---- merged contexts ----------------------------------------------------------------

// A merge of two cancellable parents, cancelled: a child of one, a link in the other.
// Its single-parent reference is context_bench's with_cancel_child_of_cancellable.
void with_merge_of_two_parents_cancel(benchmark::State& state)
{
    auto a = asioctx::with_cancel(asioctx::background());
    auto b = asioctx::with_cancel(asioctx::background());
    bench::alloc_scope allocs(state);
    for(auto _ : state)
    {
        auto [ctx, cancel] = asioctx::with_merge(a.ctx, b.ctx);
        cancel();
        benchmark::DoNotOptimize(ctx);
    }
}
BENCHMARK(with_merge_of_two_parents_cancel);

// The merge ended by its second parent (a parent made and cancelled each time, as a
// std::stop_source linked by a callback would be).
void baseline_stop_source_linked_to_two(benchmark::State& state)
{
    std::stop_source a;
    bench::alloc_scope allocs(state);
    for(auto _ : state)
    {
        std::stop_source b;
        std::stop_source merged;
        auto stop = [&merged]() noexcept { merged.request_stop(); };
        std::stop_callback from_a(a.get_token(), stop);
        std::stop_callback from_b(b.get_token(), stop);
        b.request_stop();
        benchmark::DoNotOptimize(merged);
    }
}
BENCHMARK(baseline_stop_source_linked_to_two);

void with_merge_ended_by_its_second_parent(benchmark::State& state)
{
    auto a = asioctx::with_cancel(asioctx::background());
    bench::alloc_scope allocs(state);
    for(auto _ : state)
    {
        auto b = asioctx::with_cancel(asioctx::background());
        auto [ctx, cancel] = asioctx::with_merge(a.ctx, b.ctx);
        b.cancel();
        benchmark::DoNotOptimize(ctx);
    }
}
BENCHMARK(with_merge_ended_by_its_second_parent);

// ---- the cancel site ----------------------------------------------------------------

// Every cancel records its site: context_bench's with_cancel_from_background measures
// with_cancel + cancel, to be compared with a build from before the site existed.
// A tracked context (derived with tracking::sites) cancelled with `stacks_on_cancel`
// on or off: what capturing the cancel's stack adds to a tracked cancel.
void tracked_cancel(benchmark::State& state, bool stacks_on_cancel)
{
    auto const previous = asioctx::current_tracking();
    bench::alloc_scope allocs(state);
    auto const root = asioctx::background();
    for(auto _ : state)
    {
        asioctx::set_tracking(asioctx::tracking::sites);
        auto derived = asioctx::with_cancel(root);
        if(stacks_on_cancel)
            asioctx::set_tracking(asioctx::tracking::stacks);
        derived.cancel();
        benchmark::DoNotOptimize(derived.ctx);
    }
    asioctx::set_tracking(previous);
}
BENCHMARK_CAPTURE(tracked_cancel, site_only, false);
BENCHMARK_CAPTURE(tracked_cancel, site_and_stack, true);

} // namespace
