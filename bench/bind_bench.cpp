// Benchmarks of the Asio integration beside raw Asio per-operation cancellation, in the
// same binary and run: binding an operation that is not cancelled, and cancel-to-handler
// latency on the same thread and across threads.

#include "alloc_counter.hpp"
#include "io_thread.hpp"

#include <asioctx.hpp>

#include <boost/asio/append.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <thread>

using namespace std::chrono_literals;
namespace asio = boost::asio;
using boost::system::error_code;

namespace {

// ---- an operation that completes normally -----------------------------------------

// An operation that completes through the scheduler without the reactor: what a
// completed timer wait does, minus the epoll_wait system call that dominates (and adds
// hundreds of ns of noise to) the timer figures on this machine.
template<class Token>
auto async_null_op(asio::io_context& ioc, Token&& token)
{
    return asio::async_initiate<Token, void(error_code)>(
        [&ioc](auto handler) { asio::post(ioc, asio::append(std::move(handler), error_code())); }, token);
}

void baseline_null_op_raw_slot(benchmark::State& state)
{
    asio::io_context ioc;
    asio::cancellation_signal sig;
    int done = 0;
    bench::alloc_scope allocs(state);
    for(auto _ : state)
    {
        async_null_op(ioc, asio::bind_cancellation_slot(sig.slot(), [&done](error_code) { ++done; }));
        ioc.restart();
        ioc.poll();
    }
    benchmark::DoNotOptimize(done);
}
BENCHMARK(baseline_null_op_raw_slot);

void null_op_bound_to_live_context(benchmark::State& state)
{
    asio::io_context ioc;
    auto [ctx, cancel] = asioctx::with_cancel(asioctx::background());
    int done = 0;
    bench::alloc_scope allocs(state);
    for(auto _ : state)
    {
        async_null_op(ioc, asioctx::bind(ctx, [&done](error_code) { ++done; }));
        ioc.restart();
        ioc.poll();
    }
    benchmark::DoNotOptimize(done);
}
BENCHMARK(null_op_bound_to_live_context);

void baseline_timer_wait_raw_slot(benchmark::State& state)
{
    asio::io_context ioc;
    asio::steady_timer t(ioc);
    asio::cancellation_signal sig;
    int done = 0;
    bench::alloc_scope allocs(state);
    for(auto _ : state)
    {
        t.expires_at(asio::steady_timer::time_point::min());
        t.async_wait(asio::bind_cancellation_slot(sig.slot(), [&done](error_code) { ++done; }));
        ioc.restart(); // poll() stops the io_context when it runs out of work
        ioc.poll();
    }
    benchmark::DoNotOptimize(done);
}
BENCHMARK(baseline_timer_wait_raw_slot);

// A zero-length timer wait bound to `ctx`, completed by one poll.
void timer_wait_bound_to(benchmark::State& state, asioctx::context const& ctx)
{
    asio::io_context ioc;
    asio::steady_timer t(ioc);
    int done = 0;
    bench::alloc_scope allocs(state);
    for(auto _ : state)
    {
        t.expires_at(asio::steady_timer::time_point::min());
        t.async_wait(asioctx::bind(ctx, [&done](error_code) { ++done; }));
        ioc.restart(); // poll() stops the io_context when it runs out of work
        ioc.poll();
    }
    benchmark::DoNotOptimize(done);
}

void timer_wait_bound_to_live_context(benchmark::State& state)
{
    auto [ctx, cancel] = asioctx::with_cancel(asioctx::background());
    timer_wait_bound_to(state, ctx);
}
BENCHMARK(timer_wait_bound_to_live_context);

void timer_wait_bound_to_background(benchmark::State& state)
{
    timer_wait_bound_to(state, asioctx::background());
}
BENCHMARK(timer_wait_bound_to_background);

// ---- cancel to handler, same thread -------------------------------------------------
// Both start the wait and cancel it from inside a handler of the io_context (where a
// single-threaded program cancels), then run until the aborted wait has completed.

void baseline_emit_to_handler_same_thread(benchmark::State& state)
{
    asio::io_context ioc;
    asio::steady_timer t(ioc);
    int done = 0;
    bench::alloc_scope allocs(state);
    for(auto _ : state)
    {
        asio::post(ioc, [&] {
            asio::cancellation_signal sig;
            t.expires_after(1h);
            t.async_wait(asio::bind_cancellation_slot(sig.slot(), [&done](error_code) { ++done; }));
            sig.emit(asio::cancellation_type::terminal);
        });
        ioc.restart(); // poll() stops the io_context when it runs out of work
        ioc.poll();
    }
    benchmark::DoNotOptimize(done);
}
BENCHMARK(baseline_emit_to_handler_same_thread);

void cancel_to_bound_handler_same_thread(benchmark::State& state)
{
    asio::io_context ioc;
    asio::steady_timer t(ioc);
    auto root = asioctx::with_cancel(asioctx::background());
    int done = 0;
    bench::alloc_scope allocs(state);
    for(auto _ : state)
    {
        asio::post(ioc, [&] {
            auto [ctx, cancel] = asioctx::with_cancel(root.ctx);
            t.expires_after(1h);
            t.async_wait(asioctx::bind(ctx, [&done](error_code) { ++done; }));
            cancel();
        });
        ioc.restart(); // poll() stops the io_context when it runs out of work
        ioc.poll();
    }
    benchmark::DoNotOptimize(done);
}
BENCHMARK(cancel_to_bound_handler_same_thread);

// ---- cancel to handler, across threads ----------------------------------------------


// The emit must run on the operation's thread, so the raw path posts it there.
void baseline_emit_to_handler_cross_thread(benchmark::State& state)
{
    bench::io_thread io;
    asio::steady_timer t(io.ioc);
    asio::cancellation_signal sig;
    std::atomic<bool> armed{false}, done{false};
    bench::alloc_scope allocs(state);
    for(auto _ : state)
    {
        state.PauseTiming();
        armed = false;
        done = false;
        asio::post(io.ioc, [&] {
            t.expires_after(1h);
            t.async_wait(asio::bind_cancellation_slot(sig.slot(), [&done](error_code) { done.store(true, std::memory_order_release); }));
            armed.store(true, std::memory_order_release);
        });
        bench::spin_until(armed);
        state.ResumeTiming();
        asio::post(io.ioc, [&sig] { sig.emit(asio::cancellation_type::terminal); });
        bench::spin_until(done);
    }
}
BENCHMARK(baseline_emit_to_handler_cross_thread)->UseRealTime();

void cancel_to_bound_handler_cross_thread(benchmark::State& state)
{
    bench::io_thread io;
    asio::steady_timer t(io.ioc);
    auto root = asioctx::with_cancel(asioctx::background());
    std::atomic<bool> armed{false}, done{false};
    bench::alloc_scope allocs(state);
    for(auto _ : state)
    {
        state.PauseTiming();
        armed = false;
        done = false;
        auto c = asioctx::with_cancel(root.ctx);
        asio::post(io.ioc, [&, ctx = c.ctx] {
            t.expires_after(1h);
            t.async_wait(asioctx::bind(ctx, [&done](error_code) { done.store(true, std::memory_order_release); }));
            armed.store(true, std::memory_order_release);
        });
        bench::spin_until(armed);
        state.ResumeTiming();
        c.cancel(); // from this thread; the emit is dispatched to the operation's executor
        bench::spin_until(done);
    }
}
BENCHMARK(cancel_to_bound_handler_cross_thread)->UseRealTime();

} // namespace
