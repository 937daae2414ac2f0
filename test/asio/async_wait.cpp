// Tests for <asioctx/asio/async_wait.hpp>: Go's <-ctx.Done() as an Asio operation.
#include <asioctx/asio/async_wait.hpp>
#include <asioctx/core/cancel.hpp>
#include <asioctx/asio/deadline.hpp>
#include <asioctx/asio/executor.hpp>
#include <asioctx/core/without_cancel.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>

#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <thread>

namespace {
using namespace std::chrono_literals;
namespace asio = boost::asio;
using boost::system::error_code;
} // namespace

BOOST_AUTO_TEST_SUITE(context_async_wait)

BOOST_AUTO_TEST_CASE(completes_when_cancelled_with_err)
{
    asio::io_context ioc;
    auto [ctx, cancel] = asioctx::with_cancel(asioctx::with_executor(asioctx::background(), ioc.get_executor()));
    std::optional<error_code> result;
    asioctx::async_wait(ctx, [&](error_code ec) { result = ec; });
    ioc.poll();
    BOOST_TEST(!result.has_value());
    cancel();
    BOOST_TEST(!result.has_value()); // posted, not run inside cancel()
    ioc.run();
    BOOST_TEST_REQUIRE(result.has_value());
    BOOST_TEST((*result == asioctx::error::canceled));
    BOOST_TEST(asioctx::detail::registration_count(asioctx::detail::access::state_of(ctx)) == 0u);
}

BOOST_AUTO_TEST_CASE(completes_with_deadline_exceeded)
{
    asio::io_context ioc;
    auto root = asioctx::with_executor(asioctx::background(), ioc.get_executor());
    auto [ctx, cancel] = asioctx::with_timeout(root, 20ms);
    std::optional<error_code> result;
    asioctx::async_wait(ctx, [&](error_code ec) { result = ec; }); // runs on the tree's executor
    ioc.run();
    BOOST_TEST((*result == asioctx::error::deadline_exceeded));
}

BOOST_AUTO_TEST_CASE(no_executor_anywhere_is_reported)
{
    auto [ctx, cancel] = asioctx::with_cancel(asioctx::background());
    BOOST_CHECK_THROW(asioctx::async_wait(ctx, [](error_code) {}), boost::system::system_error);
    BOOST_TEST(asioctx::detail::registration_count(asioctx::detail::access::state_of(ctx)) == 0u);
}

BOOST_AUTO_TEST_CASE(done_context_posts_at_once)
{
    asio::io_context ioc;
    auto [ctx, cancel] = asioctx::with_cancel(asioctx::background());
    cancel();
    std::optional<error_code> result;
    asioctx::async_wait(ctx, asio::bind_executor(ioc, [&](error_code ec) { result = ec; }));
    BOOST_TEST(!result.has_value()); // never inside the initiating call
    ioc.run();
    BOOST_TEST((*result == asioctx::error::canceled));
}

BOOST_AUTO_TEST_CASE(own_cancellation_aborts_the_wait_not_the_context)
{
    asio::io_context ioc;
    auto [ctx, cancel] = asioctx::with_cancel(asioctx::background());
    asio::cancellation_signal sig;
    std::optional<error_code> result;
    asioctx::async_wait(ctx, asio::bind_executor(ioc, asio::bind_cancellation_slot(sig.slot(), [&](error_code ec) { result = ec; })));
    asio::post(ioc, [&] { sig.emit(asio::cancellation_type::partial); });
    ioc.run();
    BOOST_TEST((*result == asio::error::operation_aborted));
    BOOST_TEST(!ctx.done());
    BOOST_TEST(asioctx::detail::registration_count(asioctx::detail::access::state_of(ctx)) == 0u);
    cancel(); // nothing left to complete twice
    ioc.restart();
    BOOST_TEST(ioc.run() == 0u);
}

BOOST_AUTO_TEST_CASE(never_done_context_waits_until_its_own_cancellation)
{
    asio::io_context ioc;
    asio::cancellation_signal sig;
    std::optional<error_code> result;
    asioctx::async_wait(asioctx::without_cancel(asioctx::background()),
        asio::bind_executor(ioc, asio::bind_cancellation_slot(sig.slot(), [&](error_code ec) { result = ec; })));
    ioc.poll();
    BOOST_TEST(!result.has_value());
    sig.emit(asio::cancellation_type::terminal);
    ioc.run();
    BOOST_TEST((*result == asio::error::operation_aborted));
}

BOOST_AUTO_TEST_CASE(cancel_from_another_thread)
{
    asio::io_context ioc;
    auto [ctx, cancel] = asioctx::with_cancel(asioctx::background());
    std::optional<error_code> result;
    asioctx::async_wait(ctx, asio::bind_executor(ioc, [&](error_code ec) { result = ec; }));
    std::jthread other([&cancel = cancel] {
        std::this_thread::sleep_for(10ms);
        cancel();
    });
    ioc.run();
    other.join();
    BOOST_TEST((*result == asioctx::error::canceled));
}

BOOST_AUTO_TEST_CASE(execution_context_shut_down_first)
{
    // A wait pending when its io_context is destroyed is abandoned: its handler is
    // destroyed uncalled; cancelling the context afterwards touches nothing of it.
    auto [ctx, cancel] = asioctx::with_cancel(asioctx::background());
    auto token = std::make_shared<int>(0);
    bool called = false;
    {
        asio::io_context ioc;
        asioctx::async_wait(ctx, asio::bind_executor(ioc, [&called, token](error_code) { called = true; }));
        BOOST_TEST(token.use_count() == 2);
    }
    BOOST_TEST(token.use_count() == 1);
    BOOST_TEST(asioctx::detail::registration_count(asioctx::detail::access::state_of(ctx)) == 0u);
    cancel();
    BOOST_TEST(!called);
}

BOOST_AUTO_TEST_CASE(never_done_wait_is_abandoned_at_shutdown)
{
    // Listed in no node, only its own slot could end it: shutdown abandons it.
    asio::cancellation_signal sig;
    auto token = std::make_shared<int>(0);
    bool called = false;
    {
        asio::io_context ioc;
        asioctx::async_wait(asioctx::without_cancel(asioctx::background()),
            asio::bind_executor(ioc,
                asio::bind_cancellation_slot(sig.slot(), [&called, token](error_code) { called = true; })));
        BOOST_TEST(token.use_count() == 2);
    }
    BOOST_TEST(token.use_count() == 1);
    sig.emit(asio::cancellation_type::terminal); // nothing left to complete
    BOOST_TEST(!called);
}

BOOST_AUTO_TEST_CASE(races_other_work_in_awaitable_operators)
{
    using namespace asio::experimental::awaitable_operators;
    asio::io_context ioc;
    auto [ctx, cancel] = asioctx::with_timeout(ioc.get_executor(), asioctx::background(), 20ms);
    std::optional<std::size_t> winner;
    asio::co_spawn(ioc, [&, c = ctx]() -> asio::awaitable<void> {
        asio::steady_timer slow(ioc, 1h);
        // as_tuple: a done context is an ordinary outcome here, not an exception.
        auto r = co_await (asioctx::async_wait(c, asio::as_tuple(asio::use_awaitable)) || slow.async_wait(asio::use_awaitable));
        winner = r.index();
        BOOST_TEST((std::get<0>(std::get<0>(r)) == asioctx::error::deadline_exceeded));
    }, asio::detached);
    ioc.run();
    BOOST_TEST_REQUIRE(winner.has_value());
    BOOST_TEST(*winner == 0u); // the context's wait finished first; the timer was cancelled
}

BOOST_AUTO_TEST_CASE(races_other_work_in_parallel_group)
{
    asio::io_context ioc;
    auto [ctx, cancel] = asioctx::with_cancel(asioctx::background());
    asio::steady_timer fast(ioc, 10ms);
    std::optional<std::array<std::size_t, 2>> order;
    error_code wait_ec, timer_ec;
    asio::experimental::make_parallel_group(
        [&, c = ctx](auto token) { return asioctx::async_wait(c, asio::bind_executor(ioc, token)); },
        [&](auto token) { return fast.async_wait(token); })
        .async_wait(asio::experimental::wait_for_one(),
            [&](std::array<std::size_t, 2> o, error_code e1, error_code e2) {
                order = o;
                wait_ec = e1;
                timer_ec = e2;
            });
    ioc.run();
    BOOST_TEST_REQUIRE(order.has_value());
    BOOST_TEST((*order)[0] == 1u); // the timer first
    BOOST_TEST(!timer_ec);
    BOOST_TEST((wait_ec == asio::error::operation_aborted)); // the wait was cancelled by the group
    BOOST_TEST(!ctx.done());
}

BOOST_AUTO_TEST_SUITE_END()
