// Benchmarks of the context tree, each beside the nearest baseline in the same run:
// std::stop_source / std::stop_callback, asio::cancellation_signal, asio::steady_timer.
// Run: build/release/bench/asioctx_bench (see doc/design/benchmarks.md for the table).

#include "alloc_counter.hpp"
#include "stop_source_baseline.hpp"
#include "io_thread.hpp"

#include <asioctx.hpp>

#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <stop_token>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

constexpr asioctx::key<int> keys[9] = {
    asioctx::key<int>{"k0"}, asioctx::key<int>{"k1"}, asioctx::key<int>{"k2"},
    asioctx::key<int>{"k3"}, asioctx::key<int>{"k4"}, asioctx::key<int>{"k5"},
    asioctx::key<int>{"k6"}, asioctx::key<int>{"k7"}, asioctx::key<int>{"missing"}};

// ---- creation + cancel ------------------------------------------------------------

void baseline_stop_source_create_request_stop(benchmark::State& state)
{
    bench::alloc_scope allocs(state);
    for(auto _ : state)
    {
        std::stop_source s;
        s.request_stop();
        benchmark::DoNotOptimize(s);
    }
}
BENCHMARK(baseline_stop_source_create_request_stop);

void with_cancel_from_background(benchmark::State& state)
{
    bench::alloc_scope allocs(state);
    auto const root = asioctx::background();
    for(auto _ : state)
    {
        auto [ctx, cancel] = asioctx::with_cancel(root);
        cancel();
        benchmark::DoNotOptimize(ctx);
    }
}
BENCHMARK(with_cancel_from_background);

using bench::baseline_stop_source_child_via_callback;
BENCHMARK(baseline_stop_source_child_via_callback);

void with_cancel_child_of_cancellable(benchmark::State& state)
{
    auto parent = asioctx::with_cancel(asioctx::background());
    bench::alloc_scope allocs(state);
    for(auto _ : state)
    {
        auto [ctx, cancel] = asioctx::with_cancel(parent.ctx);
        cancel();
        benchmark::DoNotOptimize(ctx);
    }
}
BENCHMARK(with_cancel_child_of_cancellable);

void baseline_asio_signal_assign_emit(benchmark::State& state)
{
    bench::alloc_scope allocs(state);
    for(auto _ : state)
    {
        asio::cancellation_signal sig;
        int hit = 0;
        sig.slot().assign([&hit](asio::cancellation_type) { ++hit; });
        sig.emit(asio::cancellation_type::terminal);
        benchmark::DoNotOptimize(hit);
    }
}
BENCHMARK(baseline_asio_signal_assign_emit);

// ---- deadlines --------------------------------------------------------------------

void baseline_steady_timer_arm_cancel_poll(benchmark::State& state)
{
    asio::io_context ioc;
    asio::steady_timer timer(ioc);
    bench::alloc_scope allocs(state);
    for(auto _ : state)
    {
        timer.expires_after(1h);
        timer.async_wait([](boost::system::error_code) {});
        timer.cancel();
        ioc.restart(); // poll() stops the io_context when it runs out of work
        ioc.poll();
    }
}
BENCHMARK(baseline_steady_timer_arm_cancel_poll);

// The timer is re-armed and disarmed every time (nothing else pending), and the
// aborted wait is run, as the baseline above does.
void with_timeout_cancel_idle(benchmark::State& state)
{
    asio::io_context ioc;
    auto root = asioctx::with_executor(asioctx::background(), ioc.get_executor());
    bench::alloc_scope allocs(state);
    for(auto _ : state)
    {
        auto [ctx, cancel] = asioctx::with_timeout(root, 1h);
        cancel();
        ioc.restart(); // poll() stops the io_context when it runs out of work
        ioc.poll();
        benchmark::DoNotOptimize(ctx);
    }
}
BENCHMARK(with_timeout_cancel_idle);

// A server's steady state: other deadlines are pending, the timer stays armed, and a
// request's timeout costs a heap insertion and removal.
void with_timeout_cancel_busy(benchmark::State& state)
{
    asio::io_context ioc;
    auto root = asioctx::with_executor(asioctx::background(), ioc.get_executor());
    auto other = asioctx::with_timeout(root, 30min);
    bench::alloc_scope allocs(state);
    for(auto _ : state)
    {
        auto [ctx, cancel] = asioctx::with_timeout(root, 1h);
        cancel();
        benchmark::DoNotOptimize(ctx);
    }
}
BENCHMARK(with_timeout_cancel_busy);

// ---- queries ----------------------------------------------------------------------

void baseline_stop_token_stop_requested(benchmark::State& state)
{
    std::stop_source s;
    auto token = s.get_token();
    bench::alloc_scope allocs(state);
    for(auto _ : state)
        benchmark::DoNotOptimize(token.stop_requested());
}
BENCHMARK(baseline_stop_token_stop_requested);

void done_live(benchmark::State& state)
{
    auto c = asioctx::with_cancel(asioctx::background());
    auto ctx = asioctx::with_value(c.ctx, keys[0], 1);
    bench::alloc_scope allocs(state);
    for(auto _ : state)
        benchmark::DoNotOptimize(ctx.done());
}
BENCHMARK(done_live);

void err_live(benchmark::State& state)
{
    auto c = asioctx::with_cancel(asioctx::background());
    auto ctx = asioctx::with_value(c.ctx, keys[0], 1);
    bench::alloc_scope allocs(state);
    for(auto _ : state)
        benchmark::DoNotOptimize(ctx.err());
}
BENCHMARK(err_live);

asioctx::context depth8()
{
    asioctx::context ctx;
    for(int i = 0; i < 8; ++i)
        ctx = asioctx::with_value(ctx, keys[i], i);
    return ctx;
}

void value_depth8_deepest(benchmark::State& state)
{
    auto ctx = depth8();
    bench::alloc_scope allocs(state);
    for(auto _ : state)
        benchmark::DoNotOptimize(ctx.value(keys[0]));
}
BENCHMARK(value_depth8_deepest);

void value_depth8_miss(benchmark::State& state)
{
    auto ctx = depth8();
    bench::alloc_scope allocs(state);
    for(auto _ : state)
        benchmark::DoNotOptimize(ctx.value(keys[8]));
}
BENCHMARK(value_depth8_miss);

void with_value_int(benchmark::State& state)
{
    auto const root = asioctx::background();
    bench::alloc_scope allocs(state);
    for(auto _ : state)
    {
        auto ctx = asioctx::with_value(root, keys[0], 42);
        benchmark::DoNotOptimize(ctx);
    }
}
BENCHMARK(with_value_int);

// ---- fan-out ----------------------------------------------------------------------

void baseline_stop_callback_fanout_1000(benchmark::State& state)
{
    bench::alloc_scope allocs(state, 1000);
    for(auto _ : state)
    {
        std::stop_source parent;
        std::vector<std::unique_ptr<std::stop_callback<std::function<void()>>>> children;
        children.reserve(1000);
        int hits = 0;
        for(int i = 0; i < 1000; ++i)
            children.push_back(std::make_unique<std::stop_callback<std::function<void()>>>(
                parent.get_token(), std::function<void()>([&hits] { ++hits; })));
        parent.request_stop();
        benchmark::DoNotOptimize(hits);
    }
    state.counters["ns/child"] = benchmark::Counter(
        static_cast<double>(state.iterations()) * 1000, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(baseline_stop_callback_fanout_1000);

// 1000 children created, then the parent cancelled; the handles live in a reserved
// vector, as a server's requests would live in their own frames.
void fanout_1000_children_then_cancel_parent(benchmark::State& state)
{
    std::vector<asioctx::cancellable> children;
    children.reserve(1000);
    bench::alloc_scope allocs(state, 1000);
    for(auto _ : state)
    {
        auto parent = asioctx::with_cancel(asioctx::background());
        for(int i = 0; i < 1000; ++i)
            children.push_back(asioctx::with_cancel(parent.ctx));
        parent.cancel();
        benchmark::DoNotOptimize(children.back().ctx.done());
        state.PauseTiming();
        children.clear();
        state.ResumeTiming();
    }
    state.counters["ns/child"] = benchmark::Counter(
        static_cast<double>(state.iterations()) * 1000, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(fanout_1000_children_then_cancel_parent);

// ---- cross-thread latency ---------------------------------------------------------

// One io_context thread; this thread cancels and spins until the after_func has run
// there. Baseline: a plain asio::post to the same thread, spun on the same way.
void baseline_post_cross_thread(benchmark::State& state)
{
    bench::io_thread io;
    std::atomic<bool> flag{false};
    bench::alloc_scope allocs(state);
    for(auto _ : state)
    {
        flag.store(false, std::memory_order_relaxed);
        asio::post(io.ioc, [&flag] { flag.store(true, std::memory_order_release); });
        while(!flag.load(std::memory_order_acquire))
        {
        }
    }
}
BENCHMARK(baseline_post_cross_thread)->UseRealTime();

void cancel_to_after_func_cross_thread(benchmark::State& state)
{
    bench::io_thread io;
    std::atomic<bool> flag{false};
    auto root = asioctx::with_executor(asioctx::background(), io.ioc.get_executor());
    bench::alloc_scope allocs(state);
    for(auto _ : state)
    {
        state.PauseTiming();
        flag.store(false, std::memory_order_relaxed);
        auto c = asioctx::with_cancel(root);
        auto stop = asioctx::after_func(c.ctx, [&flag] { flag.store(true, std::memory_order_release); });
        state.ResumeTiming();
        c.cancel();
        while(!flag.load(std::memory_order_acquire))
        {
        }
    }
}
BENCHMARK(cancel_to_after_func_cross_thread)->UseRealTime();

} // namespace

BENCHMARK_MAIN();
