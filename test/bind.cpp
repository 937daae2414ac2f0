// Tests for <asioctx/bind.hpp>: every completion token against every way an operation
// can end, a tracker executor, a cancel-after-k-handlers loop, and a bound socket read.
#include <asioctx.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <functional>
#include <optional>
#include <thread>

using namespace std::chrono_literals;
namespace asio = boost::asio;
using boost::system::error_code;
using clock_type = std::chrono::steady_clock;

namespace {

enum class ending
{
    pre_cancelled,
    cancelled_same_thread,
    cancelled_other_thread,
    deadline,
    ancestor_cancelled,
    finished_first,
    cancelled_in_handler,
};

char const* name(ending e)
{
    switch(e)
    {
    case ending::pre_cancelled: return "pre_cancelled";
    case ending::cancelled_same_thread: return "cancelled_same_thread";
    case ending::cancelled_other_thread: return "cancelled_other_thread";
    case ending::deadline: return "deadline";
    case ending::ancestor_cancelled: return "ancestor_cancelled";
    case ending::finished_first: return "finished_first";
    case ending::cancelled_in_handler: return "cancelled_in_handler";
    }
    return "?";
}

constexpr ending all_endings[] = {ending::pre_cancelled, ending::cancelled_same_thread,
    ending::cancelled_other_thread, ending::deadline, ending::ancestor_cancelled,
    ending::finished_first, ending::cancelled_in_handler};

inline constexpr asioctx::key<int> tag{"tag"};

// One scenario: a timer wait bound to a context, started through `start`, which
// reports the operation's error through `report`.
struct scenario
{
    asio::io_context ioc;
    asioctx::context root = asioctx::with_executor(asioctx::background(), ioc.get_executor());
    std::optional<error_code> result;
    std::function<void()> on_handler; // run inside the handler (cancelled_in_handler)

    void report(error_code ec)
    {
        result = ec;
        if(on_handler)
            on_handler();
    }

    // `start(ctx, timer)` starts timer.async_wait bound to ctx with some token.
    // `after_run` collects results that only exist after the io_context has run.
    void run(ending e, std::function<void(asioctx::context const&, asio::steady_timer&)> start,
        std::function<void()> after_run = {})
    {
        BOOST_TEST_CONTEXT("ending " << name(e))
        {
            auto [parent, cancel_parent] = asioctx::with_cancel(root);
            auto valued = asioctx::with_value(parent, tag, 1);
            auto dctx = e == ending::deadline ? asioctx::with_timeout(valued, 20ms) : asioctx::with_cancel(valued);
            auto& ctx = dctx.ctx;
            asio::steady_timer timer(ioc, e == ending::finished_first || e == ending::cancelled_in_handler ? 1ms : 1h);
            std::thread canceller;
            if(e == ending::pre_cancelled)
                dctx.cancel();
            if(e == ending::cancelled_in_handler)
                on_handler = [&] { dctx.cancel(); };
            start(ctx, timer);
            BOOST_TEST(!result.has_value()); // never completes inside the initiating call
            switch(e)
            {
            case ending::cancelled_same_thread:
                asio::post(ioc, [&] { dctx.cancel(); });
                break;
            case ending::cancelled_other_thread:
                canceller = std::thread([&] {
                    std::this_thread::sleep_for(10ms);
                    dctx.cancel();
                });
                break;
            case ending::ancestor_cancelled:
                asio::post(ioc, [&] { cancel_parent(); });
                break;
            default:
                break;
            }
            auto const start_time = clock_type::now();
            ioc.run_for(20s);
            if(canceller.joinable())
                canceller.join();
            if(after_run)
                after_run();
            BOOST_TEST((clock_type::now() - start_time < 10s)); // nothing waited for the hour
            if(e == ending::finished_first)
            {
                dctx.cancel(); // afterwards: no effect, no crash
                ioc.restart();
                ioc.run();
            }
            BOOST_TEST_REQUIRE(result.has_value());
            error_code expected;
            if(e == ending::deadline)
                expected = asioctx::error::deadline_exceeded;
            else if(e != ending::finished_first && e != ending::cancelled_in_handler)
                expected = asioctx::error::canceled;
            BOOST_TEST((*result == expected), "got " << result->message() << ", expected '" << expected.message() << "'");
            if(expected)
                BOOST_TEST((*result == (e == ending::deadline ? asioctx::condition::deadline_exceeded : asioctx::condition::canceled)));
            // Unbound on completion: the context lists nothing any more.
            BOOST_TEST(asioctx::detail::registration_count(ctx.native_state()) == 0u);
            result.reset();
            on_handler = nullptr;
            ioc.restart();
        }
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(bind_operation)

BOOST_AUTO_TEST_CASE(callback)
{
    for(auto e : all_endings)
    {
        scenario s;
        s.run(e, [&](asioctx::context const& ctx, asio::steady_timer& t) {
            t.async_wait(asioctx::bind(ctx, [&](error_code ec) { s.report(ec); }));
        });
    }
}

BOOST_AUTO_TEST_CASE(use_awaitable)
{
    for(auto e : all_endings)
    {
        scenario s;
        s.run(e, [&](asioctx::context const& ctx, asio::steady_timer& t) {
            asio::co_spawn(s.ioc, [&, ctx]() -> asio::awaitable<void> {
                try
                {
                    co_await t.async_wait(asioctx::bind(ctx, asio::use_awaitable));
                    s.report({});
                }
                catch(boost::system::system_error const& ex)
                {
                    s.report(ex.code());
                }
            }, asio::detached);
        });
    }
}

BOOST_AUTO_TEST_CASE(deferred)
{
    for(auto e : all_endings)
    {
        scenario s;
        s.run(e, [&](asioctx::context const& ctx, asio::steady_timer& t) {
            auto op = t.async_wait(asioctx::bind(ctx, asio::deferred));
            std::move(op)([&](error_code ec) { s.report(ec); });
        });
    }
}

BOOST_AUTO_TEST_CASE(use_future)
{
    for(auto e : all_endings)
    {
        if(e == ending::cancelled_in_handler)
            continue; // a future has no handler to run code in
        scenario s;
        std::future<void> f;
        s.run(
            e, [&](asioctx::context const& ctx, asio::steady_timer& t) {
                f = t.async_wait(asioctx::bind(ctx, asio::use_future));
            },
            [&] {
                try
                {
                    f.get();
                    s.report({});
                }
                catch(boost::system::system_error const& ex)
                {
                    s.report(ex.code());
                }
            });
    }
}

BOOST_AUTO_TEST_CASE(as_tuple)
{
    for(auto e : all_endings)
    {
        scenario s;
        s.run(e, [&](asioctx::context const& ctx, asio::steady_timer& t) {
            t.async_wait(asioctx::bind(ctx, asio::as_tuple([&](std::tuple<error_code> r) { s.report(std::get<0>(r)); })));
        });
    }
}

BOOST_AUTO_TEST_CASE(detached)
{
    // Nothing observes a detached result: the run must simply end without the hour.
    for(auto e : {ending::pre_cancelled, ending::cancelled_same_thread, ending::cancelled_other_thread,
            ending::deadline, ending::ancestor_cancelled})
    {
        asio::io_context ioc;
        auto root = asioctx::with_executor(asioctx::background(), ioc.get_executor());
        auto [parent, cancel_parent] = asioctx::with_cancel(root);
        auto c = e == ending::deadline ? asioctx::with_timeout(parent, 20ms) : asioctx::with_cancel(parent);
        asio::steady_timer t(ioc, 1h);
        if(e == ending::pre_cancelled)
            c.cancel();
        t.async_wait(asioctx::bind(c.ctx, asio::detached));
        std::thread other;
        if(e == ending::cancelled_same_thread)
            asio::post(ioc, [&] { c.cancel(); });
        if(e == ending::ancestor_cancelled)
            asio::post(ioc, [&] { cancel_parent(); });
        if(e == ending::cancelled_other_thread)
            other = std::thread([&] {
                std::this_thread::sleep_for(10ms);
                c.cancel();
            });
        auto const start = clock_type::now();
        ioc.run_for(20s);
        if(other.joinable())
            other.join();
        BOOST_TEST((clock_type::now() - start < 10s), name(e));
        BOOST_TEST(asioctx::detail::registration_count(c.ctx.native_state()) == 0u);
    }
}

BOOST_AUTO_TEST_CASE(yield_context)
{
    for(auto e : all_endings)
    {
        scenario s;
        s.run(e, [&](asioctx::context const& ctx, asio::steady_timer& t) {
            asio::spawn(s.ioc, [&, ctx](asio::yield_context yield) {
                error_code ec;
                t.async_wait(asioctx::bind(ctx, yield[ec]));
                s.report(ec);
            }, asio::detached);
        });
    }
}

BOOST_AUTO_TEST_CASE(binding_to_a_never_cancelled_context_registers_nothing)
{
    asio::io_context ioc;
    asio::steady_timer t(ioc, 1ms);
    error_code result = asio::error::would_block;
    t.async_wait(asioctx::bind(asioctx::background(), [&](error_code ec) { result = ec; }));
    ioc.run();
    BOOST_TEST(!result);
}

BOOST_AUTO_TEST_CASE(outer_slot_still_cancels_and_is_not_translated)
{
    asio::io_context ioc;
    auto [ctx, cancel] = asioctx::with_cancel(asioctx::background());
    asio::steady_timer t(ioc, 1h);
    asio::cancellation_signal outer;
    error_code result;
    t.async_wait(asioctx::bind(ctx, asio::bind_cancellation_slot(outer.slot(), [&](error_code ec) { result = ec; })));
    asio::post(ioc, [&] { outer.emit(asio::cancellation_type::terminal); });
    ioc.run();
    BOOST_TEST((result == asio::error::operation_aborted)); // not the context's doing
    BOOST_TEST(!ctx.done());
    BOOST_TEST(asioctx::detail::registration_count(ctx.native_state()) == 0u);
}

BOOST_AUTO_TEST_CASE(partial_cancellation_type_is_passed_through)
{
    asio::io_context ioc;
    auto [ctx, cancel] = asioctx::with_cancel(asioctx::background());
    asio::steady_timer t(ioc, 1h);
    error_code result;
    t.async_wait(asioctx::bind(ctx, [&](error_code ec) { result = ec; }, asio::cancellation_type::partial));
    asio::post(ioc, [&] { cancel(); });
    ioc.run();
    BOOST_TEST((result == asioctx::error::canceled));
}

BOOST_AUTO_TEST_CASE(a_long_lived_context_does_not_grow)
{
    asio::io_context ioc;
    auto [ctx, cancel] = asioctx::with_cancel(asioctx::background());
    int done = 0;
    asio::steady_timer t(ioc);
    std::function<void()> next = [&] {
        t.expires_after(0ms);
        t.async_wait(asioctx::bind(ctx, [&](error_code) {
            if(++done < 20000)
                next();
        }));
    };
    next();
    ioc.run();
    BOOST_TEST(done == 20000);
    BOOST_TEST(asioctx::detail::registration_count(ctx.native_state()) == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
