// Benchmarks of the structured-concurrency pieces, each beside the nearest baseline in
// the same run: std::mutex, a channel used as a mutex (the Go reference's design),
// asio::post, and experimental::make_parallel_group.
// Run: build/release/bench/asioctx_bench --benchmark_filter='mutex|lock|group|semaphore'

#include "alloc_counter.hpp"

#include <asioctx.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <benchmark/benchmark.h>

#include <mutex>
#include <vector>

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

// ---- uncontended lock + unlock --------------------------------------------------

void baseline_std_mutex_lock_unlock(benchmark::State& state)
{
    bench::alloc_scope allocs(state);
    std::mutex m;
    for(auto _ : state)
    {
        m.lock();
        benchmark::DoNotOptimize(&m);
        m.unlock();
    }
}
BENCHMARK(baseline_std_mutex_lock_unlock);

// The fast path: one compare-and-swap each way, no lock, no post, no allocation.
void mutex_try_lock_unlock(benchmark::State& state)
{
    bench::alloc_scope allocs(state);
    asio::io_context ioc;
    asioctx::mutex m(ioc.get_executor());
    for(auto _ : state)
    {
        if(!m.try_lock())
            state.SkipWithError("contended");
        benchmark::DoNotOptimize(&m);
        m.unlock();
    }
}
BENCHMARK(mutex_try_lock_unlock);

// async_lock on a free mutex: taken in the call, the handler posted (Asio's rule), so
// the figure includes one trip through the scheduler.
void baseline_post_and_poll(benchmark::State& state)
{
    bench::alloc_scope allocs(state);
    asio::io_context ioc;
    int n = 0;
    for(auto _ : state)
    {
        asio::post(ioc, [&] { ++n; });
        ioc.restart();
        ioc.poll();
    }
    benchmark::DoNotOptimize(n);
}
BENCHMARK(baseline_post_and_poll);

void mutex_async_lock_free_unlock(benchmark::State& state)
{
    bench::alloc_scope allocs(state);
    asio::io_context ioc;
    auto [ctx, cancel] = asioctx::with_cancel(asioctx::with_executor(asioctx::background(), ioc.get_executor()));
    asioctx::mutex m(ioc.get_executor());
    int n = 0;
    for(auto _ : state)
    {
        m.async_lock(ctx, [&](error_code ec) {
            n += !ec;
            m.unlock();
        });
        ioc.restart();
        ioc.poll();
    }
    benchmark::DoNotOptimize(n);
}
BENCHMARK(mutex_async_lock_free_unlock);

// ---- contended hand-off: 4 coroutines take turns ---------------------------------

constexpr int handoff_waiters = 4;
constexpr int handoff_rounds = 250; // per coroutine: 1000 hand-offs per iteration

// A channel of capacity 1 as a mutex: send to lock, receive to unlock.
void baseline_channel_mutex_handoff_4(benchmark::State& state)
{
    bench::alloc_scope allocs(state, handoff_waiters * handoff_rounds);
    asio::io_context ioc;
    asio::experimental::channel<void(error_code)> ch(ioc, 1);
    for(auto _ : state)
    {
        for(int w = 0; w < handoff_waiters; ++w)
            asio::co_spawn(ioc, [&]() -> asio::awaitable<void> {
                for(int i = 0; i < handoff_rounds; ++i)
                {
                    co_await ch.async_send(error_code(), asio::use_awaitable);
                    co_await asio::post(ioc, asio::use_awaitable); // hold across a suspension
                    ch.try_receive([](error_code) {});
                }
            }, asio::detached);
        ioc.restart();
        ioc.run();
    }
    state.SetItemsProcessed(state.iterations() * handoff_waiters * handoff_rounds);
}
BENCHMARK(baseline_channel_mutex_handoff_4);

void mutex_handoff_4(benchmark::State& state)
{
    bench::alloc_scope allocs(state, handoff_waiters * handoff_rounds);
    asio::io_context ioc;
    auto [ctx, cancel] = asioctx::with_cancel(asioctx::with_executor(asioctx::background(), ioc.get_executor()));
    asioctx::mutex m(ioc.get_executor());
    for(auto _ : state)
    {
        for(int w = 0; w < handoff_waiters; ++w)
            asio::co_spawn(ioc, [&]() -> asio::awaitable<void> {
                for(int i = 0; i < handoff_rounds; ++i)
                {
                    co_await m.async_lock(ctx, asio::use_awaitable);
                    co_await asio::post(ioc, asio::use_awaitable);
                    m.unlock();
                }
            }, asio::detached);
        ioc.restart();
        ioc.run();
    }
    state.SetItemsProcessed(state.iterations() * handoff_waiters * handoff_rounds);
}
BENCHMARK(mutex_handoff_4);

// ---- semaphore --------------------------------------------------------------------

void semaphore_try_acquire_release(benchmark::State& state)
{
    bench::alloc_scope allocs(state);
    asio::io_context ioc;
    asioctx::semaphore s(ioc.get_executor(), 8);
    for(auto _ : state)
    {
        if(!s.try_acquire(3))
            state.SkipWithError("contended");
        s.release(3);
    }
}
BENCHMARK(semaphore_try_acquire_release);

// ---- group of 1000 trivial tasks --------------------------------------------------

constexpr int group_tasks = 1000;

asio::awaitable<void> trivial()
{
    co_return;
}

void baseline_parallel_group_1000(benchmark::State& state)
{
    bench::alloc_scope allocs(state, group_tasks);
    asio::io_context ioc;
    for(auto _ : state)
    {
        using op_type = decltype(asio::co_spawn(ioc, trivial(), asio::deferred));
        std::vector<op_type> ops;
        ops.reserve(group_tasks);
        for(int i = 0; i < group_tasks; ++i)
            ops.push_back(asio::co_spawn(ioc, trivial(), asio::deferred));
        bool done = false;
        asio::experimental::make_parallel_group(std::move(ops))
            .async_wait(asio::experimental::wait_for_one_error(),
                [&](std::vector<std::size_t>, std::vector<std::exception_ptr>) { done = true; });
        ioc.restart();
        ioc.run();
        if(!done)
            state.SkipWithError("not done");
    }
    state.SetItemsProcessed(state.iterations() * group_tasks);
}
BENCHMARK(baseline_parallel_group_1000);

// Spawns 1000 trivial tasks into a group whose context carries `ex`, then waits.
void spawn_wait_1000(benchmark::State& state, asio::io_context& ioc, asio::any_io_executor ex)
{
    bench::alloc_scope allocs(state, group_tasks);
    auto root = asioctx::with_executor(asioctx::background(), ex);
    for(auto _ : state)
    {
        asioctx::group g(root);
        for(int i = 0; i < group_tasks; ++i)
            g.spawn([](asioctx::context) { return trivial(); });
        bool done = false;
        g.async_wait([&](std::exception_ptr, error_code) { done = true; });
        ioc.restart();
        ioc.run();
        if(!done)
            state.SkipWithError("not done");
    }
    state.SetItemsProcessed(state.iterations() * group_tasks);
}

void group_spawn_wait_1000(benchmark::State& state)
{
    asio::io_context ioc;
    spawn_wait_1000(state, ioc, ioc.get_executor());
}
BENCHMARK(group_spawn_wait_1000);

// The same on a strand executor: the tasks share the group's strand instead of each
// getting its own.
void group_on_strand_spawn_wait_1000(benchmark::State& state)
{
    asio::io_context ioc;
    spawn_wait_1000(state, ioc, asio::make_strand(ioc));
}
BENCHMARK(group_on_strand_spawn_wait_1000);

} // namespace
