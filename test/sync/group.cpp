// Tests for <asioctx/sync/group.hpp>: Task 5's errgroup, limits, cancellation from the
// parent, and a group destroyed while its tasks run.
#include <asioctx/core/cancel.hpp>
#include <asioctx/asio/deadline.hpp>
#include <asioctx/asio/executor.hpp>
#include <asioctx/sync/group.hpp>
#include <asioctx/asio/sleep.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>

#include "../support.hpp"

#include <atomic>
#include <future>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
namespace asio = boost::asio;
using boost::system::error_code;
using clock_type = std::chrono::steady_clock;

namespace {

using fixture = test::io_fixture;

using wait_result = test::outcome;

using test::failure;

} // namespace

BOOST_AUTO_TEST_SUITE(task_group)

// Task 5: two tasks sleep 200 ms on the context, one fails after 50 ms: the wait ends
// after about 50 ms with that error, and the sleepers saw the cancellation.
BOOST_FIXTURE_TEST_CASE(first_error_cancels_siblings, fixture)
{
    asioctx::group g(root);
    std::vector<error_code> sleepers;
    for(int i = 0; i < 2; ++i)
        g.spawn([&](asioctx::context ctx) -> asio::awaitable<void> {
            auto [ec] = co_await asioctx::async_sleep(ctx, 200ms, asio::as_tuple(asio::use_awaitable));
            sleepers.push_back(ec);
            if(ec)
                throw boost::system::system_error(ec);
        });
    g.spawn([&](asioctx::context ctx) -> asio::awaitable<error_code> {
        co_await asioctx::async_sleep(ctx, 50ms, asio::use_awaitable);
        co_return failure;
    });
    BOOST_TEST(g.running() == 3u);
    wait_result r;
    auto const start = clock_type::now();
    g.async_wait(r.handler());
    ioc.run();
    auto const took = clock_type::now() - start;
    BOOST_TEST(r.done);
    BOOST_TEST(!r.ep);
    BOOST_TEST((r.ec == failure));
    BOOST_TEST((took >= 50ms));
    BOOST_TEST((took < 180ms)); // well before the sleepers' 200 ms
    BOOST_TEST(sleepers.size() == 2u);
    for(auto& ec : sleepers)
        BOOST_TEST((ec == asioctx::error::canceled));
    BOOST_TEST((asioctx::cause(g.get_context()) == failure));
    BOOST_TEST(g.running() == 0u);
}

BOOST_FIXTURE_TEST_CASE(success_and_wait_cancels_the_context, fixture)
{
    asioctx::group g(root);
    int ran = 0;
    for(int i = 0; i < 3; ++i)
        g.spawn([&](asioctx::context ctx) -> asio::awaitable<void> {
            BOOST_TEST(!ctx.done());
            ++ran;
            co_return;
        });
    g.spawn([&](asioctx::context) { ++ran; }); // a plain function
    g.spawn([&](asioctx::context) { ++ran; return error_code(); });
    wait_result r;
    g.async_wait(r.handler());
    BOOST_TEST(!r.done); // never inline
    ioc.run();
    BOOST_TEST(ran == 5);
    BOOST_TEST(r.done);
    BOOST_TEST(!r.ep);
    BOOST_TEST(!r.ec);
    BOOST_TEST((g.get_context().err() == asioctx::error::canceled)); // Go's Wait cancels
    BOOST_TEST(!root.done());
}

BOOST_FIXTURE_TEST_CASE(wait_with_no_tasks_completes_posted, fixture)
{
    asioctx::group g(root);
    wait_result r;
    g.async_wait(r.handler());
    BOOST_TEST(!r.done);
    ioc.run();
    BOOST_TEST(r.done);
    BOOST_TEST(!r.ec);
    BOOST_TEST(g.get_context().done());
}

// An exception is captured, cancels the siblings (cause task_exception), and reaches
// the waiter: never lost, never terminating.
BOOST_FIXTURE_TEST_CASE(exception_is_surfaced_at_wait, fixture)
{
    asioctx::group g(root);
    std::optional<error_code> sibling;
    g.spawn([&](asioctx::context ctx) -> asio::awaitable<void> {
        auto [ec] = co_await asioctx::async_sleep(ctx, 10s, asio::as_tuple(asio::use_awaitable));
        sibling = ec;
    });
    g.spawn([](asioctx::context) -> asio::awaitable<void> {
        throw std::runtime_error("boom");
        co_return;
    });
    g.spawn([](asioctx::context ctx) -> asio::awaitable<void> {
        // Fails too, after the first failure: not reported.
        co_await asioctx::async_sleep(ctx, 10s, asio::as_tuple(asio::use_awaitable));
        throw std::logic_error("second, ignored");
    });
    wait_result r;
    g.async_wait(r.handler());
    ioc.run();
    BOOST_TEST(r.done);
    BOOST_TEST(!r.ec);
    BOOST_REQUIRE(r.ep);
    BOOST_CHECK_THROW(std::rethrow_exception(r.ep), std::runtime_error);
    BOOST_TEST((sibling && *sibling == asioctx::error::canceled));
    BOOST_TEST((asioctx::cause(g.get_context()) == asioctx::error::task_exception));
}

BOOST_FIXTURE_TEST_CASE(system_error_is_an_error_code, fixture)
{
    asioctx::group g(root);
    g.spawn([](asioctx::context) -> asio::awaitable<void> {
        throw boost::system::system_error(failure);
        co_return;
    });
    wait_result r;
    g.async_wait(r.handler());
    ioc.run();
    BOOST_TEST(!r.ep);
    BOOST_TEST((r.ec == failure));
}

BOOST_FIXTURE_TEST_CASE(awaited_from_a_coroutine, fixture)
{
    std::optional<error_code> seen;
    asio::co_spawn(ioc, [&]() -> asio::awaitable<void> {
        asioctx::group g(root);
        g.spawn([](asioctx::context ctx) -> asio::awaitable<error_code> {
            co_await asioctx::async_sleep(ctx, 1ms, asio::use_awaitable);
            co_return failure;
        });
        seen = co_await g.async_wait(asio::use_awaitable);
    }, asio::detached);
    ioc.run();
    BOOST_TEST((seen && *seen == failure));
}

BOOST_FIXTURE_TEST_CASE(parent_cancellation_reaches_every_task, fixture)
{
    auto [parent, cancel] = asioctx::with_cancel(root);
    asioctx::group g(parent);
    std::atomic<int> cancelled{0};
    for(int i = 0; i < 4; ++i)
        g.spawn([&](asioctx::context ctx) -> asio::awaitable<void> {
            auto [ec] = co_await asioctx::async_sleep(ctx, 10s, asio::as_tuple(asio::use_awaitable));
            if(ec == asioctx::error::canceled)
                ++cancelled;
            co_return;
        });
    wait_result r;
    g.async_wait(r.handler());
    ioc.poll();
    cancel();
    ioc.run();
    BOOST_TEST(cancelled.load() == 4);
    BOOST_TEST(r.done);
    BOOST_TEST(!r.ec); // the tasks returned normally after seeing it
    BOOST_TEST(g.get_context().done());
}

// The limit is never exceeded under load, and is reached.
BOOST_FIXTURE_TEST_CASE(limit_is_never_exceeded, fixture)
{
    asioctx::group g(root);
    g.set_limit(3);
    int running = 0, peak = 0, ran = 0;
    for(int i = 0; i < 60; ++i)
        g.spawn([&, i](asioctx::context ctx) -> asio::awaitable<void> {
            peak = (std::max)(peak, ++running);
            co_await asioctx::async_sleep(ctx, std::chrono::microseconds(100 + 37 * (i % 7)), asio::use_awaitable);
            --running;
            ++ran;
        });
    BOOST_TEST(g.running() == 60u);
    BOOST_CHECK_THROW(g.set_limit(5), boost::system::system_error);
    wait_result r;
    g.async_wait(r.handler());
    ioc.run();
    BOOST_TEST(ran == 60);
    BOOST_TEST(peak == 3);
    BOOST_TEST(!r.ec);
    g.set_limit(asioctx::group::no_limit); // allowed again: nothing runs
}

BOOST_FIXTURE_TEST_CASE(try_spawn_never_waits, fixture)
{
    asioctx::group g(root);
    g.set_limit(1);
    int ran = 0;
    auto task = [&](asioctx::context ctx) -> asio::awaitable<void> {
        ++ran;
        co_await asioctx::async_sleep(ctx, 5ms, asio::use_awaitable);
    };
    BOOST_TEST(g.try_spawn(task));
    BOOST_TEST(!g.try_spawn(task));
    wait_result r;
    g.async_wait(r.handler());
    ioc.run();
    BOOST_TEST(ran == 1);
    BOOST_TEST(r.done);
}

// async_spawn waits for a slot; the wait ends with the group's context, or with its
// own cancellation, and the task then never starts.
BOOST_FIXTURE_TEST_CASE(async_spawn_waits_for_a_slot, fixture)
{
    auto [parent, cancel] = asioctx::with_cancel(root);
    asioctx::group g(parent);
    g.set_limit(1);
    bool second_ran = false, third_ran = false;
    g.spawn([](asioctx::context ctx) -> asio::awaitable<void> {
        co_await asioctx::async_sleep(ctx, 10s, asio::as_tuple(asio::use_awaitable));
    });
    std::optional<error_code> second, third;
    asio::cancellation_signal sig;
    g.async_spawn([&](asioctx::context) { third_ran = true; },
        asio::bind_cancellation_slot(sig.slot(), [&](error_code ec) { third = ec; }));
    g.async_spawn([&](asioctx::context) { second_ran = true; }, [&](error_code ec) { second = ec; });
    ioc.poll();
    BOOST_TEST(!second.has_value());
    sig.emit(asio::cancellation_type::terminal);
    ioc.poll();
    BOOST_TEST((third && *third == asio::error::operation_aborted));
    BOOST_TEST(!g.get_context().done()); // the group is unaffected
    cancel();
    wait_result r;
    g.async_wait(r.handler());
    ioc.run();
    BOOST_TEST((second && *second == asioctx::error::canceled));
    BOOST_TEST(!second_ran);
    BOOST_TEST(!third_ran);
    BOOST_TEST(r.done);
    BOOST_TEST(g.running() == 0u);
}

BOOST_FIXTURE_TEST_CASE(async_spawn_starts_when_a_slot_frees, fixture)
{
    asioctx::group g(root);
    g.set_limit(1);
    std::vector<int> order;
    g.spawn([&](asioctx::context ctx) -> asio::awaitable<void> {
        co_await asioctx::async_sleep(ctx, 2ms, asio::use_awaitable);
        order.push_back(1);
    });
    std::optional<error_code> started;
    g.async_spawn([&](asioctx::context) { order.push_back(2); }, [&](error_code ec) { started = ec; });
    wait_result r;
    g.async_wait(r.handler());
    ioc.run();
    BOOST_TEST((started && !*started));
    BOOST_TEST((order == std::vector<int>{1, 2}));
}

// Cancelling the wait cancels the group, and the wait still completes only after the
// tasks have ended.
BOOST_FIXTURE_TEST_CASE(cancelling_the_wait_cancels_the_group, fixture)
{
    asioctx::group g(root);
    bool task_ended = false;
    g.spawn([&](asioctx::context ctx) -> asio::awaitable<void> {
        co_await asioctx::async_sleep(ctx, 10s, asio::as_tuple(asio::use_awaitable));
        task_ended = true;
    });
    asio::cancellation_signal sig;
    wait_result r;
    bool task_ended_first = false;
    g.async_wait(asio::bind_cancellation_slot(sig.slot(), [&](std::exception_ptr ep, error_code ec) {
        task_ended_first = task_ended;
        r.handler()(ep, ec);
    }));
    ioc.poll();
    sig.emit(asio::cancellation_type::terminal);
    ioc.run();
    BOOST_TEST(r.done);
    BOOST_TEST(task_ended_first);
    BOOST_TEST((asioctx::cause(g.get_context()) == asio::error::operation_aborted));
}

// Destroying a busy group cancels its tasks; they end later, through that
// cancellation, touching only state they keep alive (checked under ASan).
BOOST_FIXTURE_TEST_CASE(destroyed_while_busy, fixture)
{
    int ended = 0;
    std::optional<error_code> seen;
    {
        asioctx::group g(root);
        for(int i = 0; i < 3; ++i)
            g.spawn([&](asioctx::context ctx) -> asio::awaitable<void> {
                auto [ec] = co_await asioctx::async_sleep(ctx, 10s, asio::as_tuple(asio::use_awaitable));
                seen = ec;
                ++ended;
            });
        ioc.poll();
        BOOST_TEST(ended == 0);
    }
    auto const start = clock_type::now();
    ioc.run();
    BOOST_TEST(ended == 3);
    BOOST_TEST((seen && *seen == asioctx::error::canceled));
    BOOST_TEST((clock_type::now() - start < 5s));
}

// The io_context goes away with tasks and a wait pending: everything is abandoned and
// freed, nothing leaks (checked under ASan's leak checker).
BOOST_AUTO_TEST_CASE(abandoned_at_shutdown)
{
    std::optional<asioctx::group> g;
    bool waited = false;
    {
        asio::io_context ioc;
        auto root = asioctx::with_executor(asioctx::background(), ioc.get_executor());
        g.emplace(root);
        g->spawn([](asioctx::context ctx) -> asio::awaitable<void> {
            co_await asioctx::async_sleep(ctx, 1h, asio::use_awaitable);
        });
        g->async_wait([&](std::exception_ptr, error_code) { waited = true; });
        ioc.poll();
    }
    BOOST_TEST(!waited);
    g.reset();
}

BOOST_AUTO_TEST_CASE(needs_an_executor)
{
    BOOST_CHECK_THROW(asioctx::group g(asioctx::background()), boost::system::system_error);
}

// A wait is an operation like any other: its handler's io_context does not run out of
// work while it is pending, even when the tasks run elsewhere.
BOOST_AUTO_TEST_CASE(a_pending_wait_is_outstanding_work_of_its_executor)
{
    asio::io_context tasks_ioc;
    asio::io_context wait_ioc;
    asioctx::group g(asioctx::with_executor(asioctx::background(), tasks_ioc.get_executor()));
    g.spawn([](asioctx::context) {});
    bool waited = false;
    g.async_wait(asio::bind_executor(wait_ioc, [&](std::exception_ptr, error_code) { waited = true; }));
    std::jthread tasks([&] {
        std::this_thread::sleep_for(20ms);
        tasks_ioc.run();
    });
    wait_ioc.run(); // returns once the wait has completed, not at once
    BOOST_TEST(waited);
}

// Coroutine tasks run on a strand of a multi-threaded io_context, and on the io_context's
// own executor when it was built for one thread (concurrency hint 1): nothing there can
// run at once, and a strand would only add a hop to every completion.
BOOST_AUTO_TEST_CASE(a_task_runs_on_a_strand_unless_the_io_context_has_one_thread)
{
    using io_strand = asio::strand<asio::io_context::executor_type>;
    auto const task_executor_is_strand = [](asio::io_context& ioc) {
        asioctx::group g(asioctx::with_executor(asioctx::background(), ioc.get_executor()));
        std::optional<bool> strand;
        g.spawn([&](asioctx::context) -> asio::awaitable<void> {
            auto ex = co_await asio::this_coro::executor;
            strand = ex.target<io_strand>() != nullptr;
        });
        ioc.run();
        BOOST_REQUIRE(strand.has_value());
        return *strand;
    };
    asio::io_context many;
    asio::io_context one(1);
    BOOST_TEST(task_executor_is_strand(many));
    BOOST_TEST(!task_executor_is_strand(one));
    BOOST_TEST(!asioctx::detail::runs_on_one_thread(many.get_executor()));
    BOOST_TEST(asioctx::detail::runs_on_one_thread(one.get_executor()));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(task_group_stress)

// Tasks spawned from several threads into a limited group on a four-thread
// io_context; some fail. The limit holds, the wait sees every task end.
BOOST_AUTO_TEST_CASE(spawn_from_many_threads)
{
    asio::io_context ioc(4);
    auto root = asioctx::with_executor(asioctx::background(), ioc.get_executor());
    auto work = asio::make_work_guard(ioc);
    std::vector<std::jthread> pool;
    for(int i = 0; i < 3; ++i)
        pool.emplace_back([&] { ioc.run(); });
    for(int round = 0; round < 20; ++round)
    {
        asioctx::group g(root);
        g.set_limit(4);
        std::atomic<int> running{0}, peak{0}, ended{0};
        std::vector<std::jthread> spawners;
        for(int t = 0; t < 3; ++t)
            spawners.emplace_back([&, t] {
                for(int i = 0; i < 30; ++i)
                    g.spawn([&, t, i](asioctx::context ctx) -> asio::awaitable<void> {
                        int now = ++running;
                        int p = peak.load();
                        while(now > p && !peak.compare_exchange_weak(p, now))
                        {
                        }
                        co_await asioctx::async_sleep(ctx, 50us, asio::as_tuple(asio::use_awaitable));
                        --running;
                        ++ended;
                        if(t == 1 && i == 20)
                            throw boost::system::system_error(failure);
                    });
            });
        for(auto& s : spawners)
            s.join();
        std::promise<error_code> result;
        g.async_wait([&](std::exception_ptr, error_code ec) { result.set_value(ec); });
        auto ec = result.get_future().get();
        BOOST_REQUIRE(peak.load() <= 4);
        BOOST_REQUIRE(g.running() == 0u);
        BOOST_REQUIRE((ec == failure || ec == asioctx::error::canceled));
    }
    work.reset();
    for(auto& t : pool)
        t.join();
}

BOOST_AUTO_TEST_SUITE_END()
