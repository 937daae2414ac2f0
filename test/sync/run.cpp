// Tests for <asioctx/sync/run.hpp>: Task 11's four guarantees.
#include <asioctx/core/cancel.hpp>
#include <asioctx/asio/executor.hpp>
#include <asioctx/sync/run.hpp>
#include <asioctx/asio/sleep.hpp>
#include <asioctx/core/value.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>

#include "../support.hpp"

#include <optional>
#include <string>
#include <vector>

using namespace std::chrono_literals;
namespace asio = boost::asio;
using boost::system::error_code;
using clock_type = std::chrono::steady_clock;

namespace {

using fixture = test::io_fixture;

using run_result = test::outcome;

using test::user_key;
using test::failure;

} // namespace

BOOST_AUTO_TEST_SUITE(run_functions)

// (1) Every function receives the same derived context, with the caller's values.
BOOST_FIXTURE_TEST_CASE(same_context_and_value_chain, fixture)
{
    auto ctx = asioctx::with_value(root, user_key, std::string("ada"));
    std::vector<asioctx::detail::node*> nodes;
    std::vector<std::string> users;
    auto fn = [&](asioctx::context c) -> asio::awaitable<void> {
        nodes.push_back(asioctx::detail::access::node_of(c));
        users.push_back(*c.value(user_key));
        co_return;
    };
    run_result r;
    asioctx::run(ctx, fn, fn, fn)(r.handler());
    ioc.run();
    BOOST_TEST(r.done);
    BOOST_TEST(!r.ec);
    BOOST_REQUIRE(nodes.size() == 3u);
    BOOST_TEST((nodes[0] == nodes[1] && nodes[1] == nodes[2]));
    BOOST_TEST((nodes[0] != asioctx::detail::access::node_of(ctx))); // derived, not the caller's own
    BOOST_TEST((users == std::vector<std::string>{"ada", "ada", "ada"}));
}

// (2) A fails after 10 ms, B sleeps 1 s on the context: run ends after about 10 ms.
BOOST_FIXTURE_TEST_CASE(early_error_ends_the_run, fixture)
{
    std::optional<error_code> b_saw;
    run_result r;
    auto const start = clock_type::now();
    asioctx::run(root,
        [](asioctx::context c) -> asio::awaitable<error_code> {
            co_await asioctx::async_sleep(c, 10ms, asio::use_awaitable);
            co_return failure;
        },
        [&](asioctx::context c) -> asio::awaitable<void> {
            auto [ec] = co_await asioctx::async_sleep(c, 1s, asio::as_tuple(asio::use_awaitable));
            b_saw = ec;
        })(r.handler());
    ioc.run();
    auto const took = clock_type::now() - start;
    BOOST_TEST((r.ec == failure));
    BOOST_TEST((took >= 10ms));
    BOOST_TEST((took < 500ms));
    BOOST_TEST((b_saw && *b_saw == asioctx::error::canceled)); // B returned before run did
}

// (3) A context kept by a task is done by the time run completes.
BOOST_FIXTURE_TEST_CASE(kept_context_is_done_when_run_completes, fixture)
{
    std::optional<asioctx::context> kept;
    bool done_at_completion = false;
    asioctx::run(root, [&](asioctx::context c) { kept = c; })(
        [&](std::exception_ptr, error_code ec) {
            BOOST_TEST(!ec);
            done_at_completion = kept && kept->done();
        });
    ioc.run();
    BOOST_TEST(done_at_completion);
    BOOST_TEST(!root.done());
}

// (4) A context already done starts nothing and completes with its error.
BOOST_FIXTURE_TEST_CASE(done_context_starts_nothing, fixture)
{
    auto [ctx, cancel] = asioctx::with_cancel(root);
    cancel();
    int started = 0;
    run_result r;
    asioctx::run(ctx,
        [&](asioctx::context) { ++started; },
        [&](asioctx::context) -> asio::awaitable<void> {
            ++started;
            co_return;
        })(r.handler());
    BOOST_TEST(!r.done); // posted, not inline
    ioc.run();
    BOOST_TEST(r.done);
    BOOST_TEST((r.ec == asioctx::error::canceled));
    BOOST_TEST(started == 0);
}

BOOST_FIXTURE_TEST_CASE(no_functions_is_success, fixture)
{
    run_result r;
    asioctx::run(root)(r.handler());
    BOOST_TEST(!r.done);
    ioc.run();
    BOOST_TEST(r.done);
    BOOST_TEST(!r.ec);
    BOOST_TEST(!r.ep);
}

BOOST_FIXTURE_TEST_CASE(from_a_coroutine, fixture)
{
    std::optional<error_code> seen;
    bool threw = false;
    asio::co_spawn(ioc, [&]() -> asio::awaitable<void> {
        seen = co_await asioctx::run(root,
            [](asioctx::context) -> asio::awaitable<void> { co_return; },
            [](asioctx::context) { return failure; })(asio::use_awaitable);
        try
        {
            co_await asioctx::run(root, [](asioctx::context) { throw std::runtime_error("x"); })(
                asio::use_awaitable);
        }
        catch(std::runtime_error const&)
        {
            threw = true;
        }
    }, asio::detached);
    ioc.run();
    BOOST_TEST((seen && *seen == failure));
    BOOST_TEST(threw);
}

// Cancelling the operation cancels the derived context; it still completes only after
// every function has returned.
BOOST_FIXTURE_TEST_CASE(per_operation_cancellation, fixture)
{
    bool returned = false, returned_first = false;
    asio::cancellation_signal sig;
    asioctx::run(root, [&](asioctx::context c) -> asio::awaitable<void> {
        co_await asioctx::async_sleep(c, 10s, asio::as_tuple(asio::use_awaitable));
        returned = true;
    })(asio::bind_cancellation_slot(sig.slot(), [&](std::exception_ptr, error_code) { returned_first = returned; }));
    ioc.poll();
    sig.emit(asio::cancellation_type::terminal);
    ioc.run();
    BOOST_TEST(returned_first);
}

BOOST_AUTO_TEST_SUITE_END()
