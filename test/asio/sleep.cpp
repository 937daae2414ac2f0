// Tests for <asioctx/asio/sleep.hpp>: Task 1's cancellable sleep.
#include <asioctx/core/cancel.hpp>
#include <asioctx/asio/deadline.hpp>
#include <asioctx/asio/executor.hpp>
#include <asioctx/asio/sleep.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <optional>

using namespace std::chrono_literals;
namespace asio = boost::asio;
using boost::system::error_code;
using clock_type = std::chrono::steady_clock;

BOOST_AUTO_TEST_SUITE(sleep_for_context)

BOOST_AUTO_TEST_CASE(sleeps_the_whole_duration_when_live)
{
    asio::io_context ioc;
    auto root = asioctx::with_executor(asioctx::background(), ioc.get_executor());
    auto [ctx, cancel] = asioctx::with_cancel(root);
    std::optional<error_code> result;
    auto const start = clock_type::now();
    asioctx::async_sleep(ctx, 20ms, [&](error_code ec) { result = ec; });
    ioc.run();
    BOOST_TEST(!*result);
    BOOST_TEST((clock_type::now() - start >= 20ms));
}

BOOST_AUTO_TEST_CASE(ends_early_with_the_context_error)
{
    asio::io_context ioc;
    auto root = asioctx::with_executor(asioctx::background(), ioc.get_executor());
    auto [ctx, cancel] = asioctx::with_timeout(root, 20ms);
    std::optional<error_code> result;
    auto const start = clock_type::now();
    asioctx::async_sleep(ctx, 1h, [&](error_code ec) { result = ec; });
    ioc.run();
    BOOST_TEST((*result == asioctx::error::deadline_exceeded));
    BOOST_TEST((clock_type::now() - start < 10s));
}

BOOST_AUTO_TEST_CASE(done_context_completes_at_once)
{
    asio::io_context ioc;
    auto root = asioctx::with_executor(asioctx::background(), ioc.get_executor());
    auto [ctx, cancel] = asioctx::with_cancel(root);
    cancel();
    std::optional<error_code> result;
    asioctx::async_sleep(ctx, 1h, [&](error_code ec) { result = ec; });
    BOOST_TEST(!result.has_value());
    ioc.run();
    BOOST_TEST((*result == asioctx::error::canceled));
}

BOOST_AUTO_TEST_CASE(own_cancellation_gives_operation_aborted)
{
    asio::io_context ioc;
    auto root = asioctx::with_executor(asioctx::background(), ioc.get_executor());
    auto [ctx, cancel] = asioctx::with_cancel(root);
    asio::cancellation_signal sig;
    std::optional<error_code> result;
    asioctx::async_sleep(ctx, 1h, asio::bind_cancellation_slot(sig.slot(), [&](error_code ec) { result = ec; }));
    asio::post(ioc, [&] { sig.emit(asio::cancellation_type::total); });
    ioc.run();
    BOOST_TEST((*result == asio::error::operation_aborted));
    BOOST_TEST(!ctx.done());
}

BOOST_AUTO_TEST_CASE(no_executor_is_reported)
{
    auto [ctx, cancel] = asioctx::with_cancel(asioctx::background());
    BOOST_CHECK_THROW(asioctx::async_sleep(ctx, 1ms, [](error_code) {}), boost::system::system_error);
}

BOOST_AUTO_TEST_SUITE_END()
