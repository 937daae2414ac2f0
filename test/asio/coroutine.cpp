// Tests for <asioctx/asio/coroutine.hpp>: co_spawn bound to a context, throw_if_done.
#include <asioctx/asio/coroutine.hpp>
#include <asioctx/asio/deadline.hpp>
#include <asioctx/asio/sleep.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>

#include <optional>
#include <string>

using namespace std::chrono_literals;
namespace asio = boost::asio;
using boost::system::error_code;

namespace {

error_code code_of(std::exception_ptr e)
{
    if(!e)
        return {};
    try
    {
        std::rethrow_exception(e);
    }
    catch(boost::system::system_error const& ex)
    {
        return ex.code();
    }
    catch(...)
    {
        return asio::error::fault;
    }
}

} // namespace

BOOST_AUTO_TEST_SUITE(coroutine)

BOOST_AUTO_TEST_CASE(cancelling_the_context_cancels_what_the_coroutine_awaits)
{
    asio::io_context ioc;
    auto [ctx, cancel] = asioctx::with_cancel(asioctx::background());
    std::optional<error_code> result;
    bool reached_end = false;
    asioctx::co_spawn(ioc.get_executor(), ctx, [&](asioctx::context c) -> asio::awaitable<void> {
        asio::steady_timer t(co_await asio::this_coro::executor, 1h);
        co_await t.async_wait(asio::use_awaitable); // not bound: the coroutine's slot does it
        reached_end = true;
        (void)c;
    }, [&](std::exception_ptr e) { result = code_of(e); });
    asio::post(ioc, [&cancel = cancel] { cancel(); });
    ioc.run();
    BOOST_TEST(!reached_end);
    BOOST_TEST((*result == asioctx::error::canceled), result->what());
}

BOOST_AUTO_TEST_CASE(the_coroutine_gets_a_context_with_its_executor)
{
    asio::io_context ioc;
    std::optional<error_code> result;
    asioctx::co_spawn(ioc.get_executor(), asioctx::background(), [&](asioctx::context c) -> asio::awaitable<int> {
        auto [timed, cancel] = asioctx::with_timeout(c, 10ms); // no executor argument needed
        co_await asioctx::async_sleep(timed, 1h, asio::use_awaitable);
        co_return 1;
    }, [&](std::exception_ptr e, int) { result = code_of(e); });
    ioc.run();
    BOOST_TEST((*result == asioctx::error::deadline_exceeded));
}

BOOST_AUTO_TEST_CASE(pre_cancelled_context_never_starts_the_coroutine)
{
    asio::io_context ioc;
    auto [ctx, cancel] = asioctx::with_cancel(asioctx::background());
    cancel();
    bool started = false;
    std::optional<error_code> result;
    asioctx::co_spawn(ioc.get_executor(), ctx, [&](asioctx::context) -> asio::awaitable<void> {
        started = true;
        co_return;
    }, [&](std::exception_ptr e) { result = code_of(e); });
    ioc.run();
    BOOST_TEST(!started);
    BOOST_TEST((*result == asioctx::error::canceled), result->what());
}

BOOST_AUTO_TEST_CASE(throw_if_done_stops_at_a_cancellation_point)
{
    auto [ctx, cancel] = asioctx::with_cancel(asioctx::background());
    BOOST_CHECK_NO_THROW(asioctx::throw_if_done(ctx));
    cancel();
    try
    {
        asioctx::throw_if_done(ctx);
        BOOST_FAIL("must throw");
    }
    catch(boost::system::system_error const& e)
    {
        BOOST_TEST((e.code() == asioctx::error::canceled));
    }
}

BOOST_AUTO_TEST_CASE(total_cancellation_needs_the_coroutine_to_widen_its_filter)
{
    asio::io_context ioc;
    auto [ctx, cancel] = asioctx::with_cancel(asioctx::background());
    std::optional<error_code> result;
    asioctx::co_spawn(ioc.get_executor(), ctx, [&](asioctx::context) -> asio::awaitable<void> {
        co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
        asio::steady_timer t(co_await asio::this_coro::executor, 1h);
        co_await t.async_wait(asio::use_awaitable);
    }, [&](std::exception_ptr e) { result = code_of(e); }, asio::cancellation_type::total);
    asio::post(ioc, [&cancel = cancel] { cancel(); });
    ioc.run();
    BOOST_TEST((*result == asioctx::error::canceled), result->what());
}

// The coroutine owns the function object: a temporary lambda's captures are still
// valid after the first suspension (checked under ASan).
BOOST_AUTO_TEST_CASE(captures_outlive_the_first_suspension)
{
    asio::io_context ioc;
    auto root = asioctx::with_executor(asioctx::background(), ioc.get_executor());
    std::string seen;
    asioctx::co_spawn(ioc.get_executor(), root,
        [name = std::string(64, 'x')](asioctx::context c) -> asio::awaitable<std::string> {
            co_await asioctx::async_sleep(c, 1ms, asio::use_awaitable);
            co_return name; // read after the suspension
        },
        [&](std::exception_ptr e, std::string s) {
            BOOST_TEST(!e);
            seen = std::move(s);
        });
    ioc.run();
    BOOST_TEST(seen == std::string(64, 'x'));
}

BOOST_AUTO_TEST_SUITE_END()
