// Tests for <asioctx/asio/deadline.hpp>: deadlines, timeouts, causes and wall-clock deadlines.
#include <asioctx/asio/after_func.hpp>
#include <asioctx/asio/deadline.hpp>
#include <asioctx/asio/detail/context_service.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <optional>

using namespace std::chrono_literals;
using boost::system::error_code;
namespace asio = boost::asio;
using clock_type = std::chrono::steady_clock;

namespace {

std::size_t pending(asio::io_context& ioc)
{
    return asioctx::detail::service_for(ioc.get_executor()).deadlines()->size();
}

bool armed(asio::io_context& ioc)
{
    return asioctx::detail::service_for(ioc.get_executor()).deadlines()->armed();
}

} // namespace

BOOST_AUTO_TEST_SUITE(deadline)

BOOST_AUTO_TEST_CASE(timeout_fires_from_the_io_context)
{
    asio::io_context ioc;
    auto const start = clock_type::now();
    auto [ctx, cancel] = asioctx::with_timeout(ioc.get_executor(), asioctx::background(), 30ms);
    BOOST_TEST(!ctx.done());
    BOOST_TEST_REQUIRE(ctx.deadline().has_value());
    BOOST_TEST((*ctx.deadline() >= start + 30ms));
    BOOST_TEST(pending(ioc) == 1u);
    // Nothing fires without the io_context: no thread of the library's own.
    std::this_thread::sleep_for(40ms);
    BOOST_TEST(!ctx.done());
    ioc.run(); // returns once the deadline has fired: nothing else is pending
    BOOST_TEST(ctx.done());
    BOOST_TEST((ctx.err() == asioctx::error::deadline_exceeded));
    BOOST_TEST((ctx.err() == asioctx::condition::deadline_exceeded));
    BOOST_TEST((asioctx::cause(ctx) == asioctx::error::deadline_exceeded));
    BOOST_TEST((clock_type::now() - start >= 30ms));
    BOOST_TEST(pending(ioc) == 0u);
}

// On time, not only no earlier: of five 20 ms timeouts, the one that fired closest to
// its deadline was less than 100 ms late. One late try is a loaded machine; all five
// late is a deadline that fires late.
BOOST_AUTO_TEST_CASE(timeouts_fire_close_to_their_deadline)
{
    auto best = clock_type::duration::max();
    for(int i = 0; i < 5; ++i)
    {
        asio::io_context ioc;
        auto c = asioctx::with_timeout(ioc.get_executor(), asioctx::background(), 20ms);
        BOOST_TEST_REQUIRE(c.ctx.deadline().has_value());
        auto const deadline = *c.ctx.deadline();
        std::optional<clock_type::time_point> fired;
        auto watch = asioctx::after_func(ioc.get_executor(), c.ctx, [&] { fired = clock_type::now(); });
        ioc.run();
        BOOST_TEST_REQUIRE(fired.has_value());
        BOOST_TEST((*fired >= deadline));
        best = std::min(best, *fired - deadline);
    }
    BOOST_TEST_MESSAGE("closest: " << std::chrono::duration_cast<std::chrono::microseconds>(best).count() << " us late");
    BOOST_TEST((best < 100ms));
}

BOOST_AUTO_TEST_CASE(deadlines_fire_in_order_and_children_follow)
{
    asio::io_context ioc;
    auto ex = ioc.get_executor();
    auto [late, cancel_late] = asioctx::with_timeout(ex, asioctx::background(), 60ms);
    auto [early, cancel_early] = asioctx::with_timeout(ex, asioctx::background(), 20ms);
    auto [child, cancel_child] = asioctx::with_cancel(early);
    BOOST_TEST(pending(ioc) == 2u);
    // Run handler by handler until the earliest fires (re-arming for it superseded the
    // first wait, whose aborted handler runs first).
    for(int i = 0; i < 10 && !early.done(); ++i)
        ioc.run_one();
    BOOST_TEST(early.done());
    BOOST_TEST(child.done());
    BOOST_TEST((child.err() == asioctx::error::deadline_exceeded));
    BOOST_TEST(!late.done());
    ioc.run();
    BOOST_TEST(late.done());
}

BOOST_AUTO_TEST_CASE(cancel_before_deadline_gives_canceled_and_disarms)
{
    asio::io_context ioc;
    auto [ctx, cancel] = asioctx::with_timeout(ioc.get_executor(), asioctx::background(), 1h);
    BOOST_TEST(!armed(ioc)); // armed from a posted handler
    ioc.poll();
    BOOST_TEST(armed(ioc));
    cancel();
    BOOST_TEST((ctx.err() == asioctx::error::canceled));
    BOOST_TEST(pending(ioc) == 0u);
    BOOST_TEST(armed(ioc)); // disarmed by posted checks, not at once
    ioc.poll();
    BOOST_TEST(!armed(ioc));
    auto const start = clock_type::now();
    ioc.run(); // must not wait for the hour
    BOOST_TEST((clock_type::now() - start < 10s));
}

// One deadline after another (a timeout per request): the next finds the timer still
// armed for the previous one's time and needs no re-arm; it fires early, finds nothing
// due and re-arms for what is pending.
BOOST_AUTO_TEST_CASE(a_deadline_derived_after_the_last_one_ended_reuses_the_armed_timer)
{
    asio::io_context ioc;
    {
        auto [first, cancel_first] = asioctx::with_timeout(ioc.get_executor(), asioctx::background(), 50ms);
        ioc.poll(); // armed for 50 ms
        cancel_first();
    }
    auto [second, cancel_second] = asioctx::with_timeout(ioc.get_executor(), asioctx::background(), 1h);
    ioc.poll(); // the posted check finds a deadline pending: the timer stays armed
    BOOST_TEST(armed(ioc));
    auto const start = clock_type::now();
    ioc.run_for(300ms); // the early wake-up at 50 ms expires nothing
    BOOST_TEST(!second.done());
    BOOST_TEST(armed(ioc));
    BOOST_TEST(pending(ioc) == 1u);
    BOOST_TEST((clock_type::now() - start >= 250ms)); // the timer wait kept run_for busy
    cancel_second();
    ioc.run(); // and now the io_context runs out of work
    BOOST_TEST(!armed(ioc));
}

// A timeout cancelled before the io_context runs again (most of a server's) never arms
// the timer: the arming is posted, and finds nothing left to wait for.
BOOST_AUTO_TEST_CASE(a_deadline_cancelled_before_the_io_context_runs_never_arms_the_timer)
{
    asio::io_context ioc;
    for(int i = 0; i < 3; ++i)
    {
        auto [ctx, cancel] = asioctx::with_timeout(ioc.get_executor(), asioctx::background(), 1h);
        cancel();
        ioc.restart();
        BOOST_TEST(ioc.poll() == 1u); // the posted arming, which finds the heap empty
        BOOST_TEST(!armed(ioc));
    }
    auto const start = clock_type::now();
    ioc.restart();
    ioc.run(); // nothing pending: returns at once
    BOOST_TEST((clock_type::now() - start < 10s));
}

BOOST_AUTO_TEST_CASE(later_deadline_than_parent_arms_no_timer)
{
    asio::io_context ioc;
    auto ex = ioc.get_executor();
    auto [parent, cancel_parent] = asioctx::with_timeout(ex, asioctx::background(), 100ms);
    BOOST_TEST(pending(ioc) == 1u);
    auto [child, cancel_child] = asioctx::with_timeout(ex, parent, 1h);
    BOOST_TEST(pending(ioc) == 1u);
    BOOST_TEST((child.deadline() == parent.deadline()));
    auto [same, cancel_same] = asioctx::with_deadline(ex, parent, *parent.deadline());
    BOOST_TEST(pending(ioc) == 1u);
    BOOST_TEST((same.deadline() == parent.deadline()));
    // An earlier one does arm its own.
    auto [tighter, cancel_tighter] = asioctx::with_timeout(ex, parent, 10ms);
    BOOST_TEST(pending(ioc) == 2u);
    BOOST_TEST((*tighter.deadline() < *parent.deadline()));
    ioc.run();
    BOOST_TEST((child.err() == asioctx::error::deadline_exceeded));
    BOOST_TEST((same.err() == asioctx::error::deadline_exceeded));
}

BOOST_AUTO_TEST_CASE(past_deadline_is_born_done)
{
    asio::io_context ioc;
    auto ex = ioc.get_executor();
    auto [ctx, cancel] = asioctx::with_deadline(ex, asioctx::background(), clock_type::now() - 1s);
    BOOST_TEST(ctx.done());
    BOOST_TEST((ctx.err() == asioctx::error::deadline_exceeded));
    auto [zero, cancel_zero] = asioctx::with_timeout(ex, asioctx::background(), 0ms);
    BOOST_TEST((zero.err() == asioctx::error::deadline_exceeded));
    auto [negative, cancel_negative] = asioctx::with_timeout(ex, asioctx::background(), -5s);
    BOOST_TEST((negative.err() == asioctx::error::deadline_exceeded));
    BOOST_TEST(pending(ioc) == 0u);
    BOOST_TEST(ioc.poll() == 0u);
}

BOOST_AUTO_TEST_CASE(parent_error_wins_over_past_deadline)
{
    asio::io_context ioc;
    auto [parent, cancel_parent] = asioctx::with_cancel(asioctx::background());
    cancel_parent(asio::error::eof);
    auto [ctx, cancel] = asioctx::with_deadline(ioc.get_executor(), parent, clock_type::now() - 1s);
    BOOST_TEST((ctx.err() == asioctx::error::canceled));
    BOOST_TEST((asioctx::cause(ctx) == asio::error::eof));
}

BOOST_AUTO_TEST_CASE(huge_timeout_means_no_deadline)
{
    asio::io_context ioc;
    auto [ctx, cancel] = asioctx::with_timeout(
        ioc.get_executor(), asioctx::background(), std::chrono::hours::max());
    BOOST_TEST(!ctx.deadline().has_value());
    BOOST_TEST(pending(ioc) == 0u);
}

BOOST_AUTO_TEST_CASE(deadline_cause_only_when_timer_fires)
{
    asio::io_context ioc;
    auto ex = ioc.get_executor();
    error_code const why = asio::error::timed_out;
    auto [fired, cancel_fired] = asioctx::with_timeout_cause(ex, asioctx::background(), 10ms, why);
    auto [cancelled, cancel_cancelled] = asioctx::with_timeout_cause(ex, asioctx::background(), 10ms, why);
    cancel_cancelled();
    ioc.run();
    BOOST_TEST((fired.err() == asioctx::error::deadline_exceeded));
    BOOST_TEST((asioctx::cause(fired) == why));
    BOOST_TEST((cancelled.err() == asioctx::error::canceled));
    BOOST_TEST((asioctx::cause(cancelled) == asioctx::error::canceled));

    auto [past, cancel_past] = asioctx::with_deadline_cause(ex, asioctx::background(), clock_type::now() - 1ms, why);
    BOOST_TEST((asioctx::cause(past) == why));
}

BOOST_AUTO_TEST_CASE(wall_clock_deadline)
{
    // Task 16: past, future, tighter parent wins.
    asio::io_context ioc;
    auto ex = ioc.get_executor();
    auto const now = std::chrono::system_clock::now();
    auto [past, cancel_past] = asioctx::with_deadline_at(ex, asioctx::background(), now - 1h);
    BOOST_TEST((past.err() == asioctx::error::deadline_exceeded));

    auto [soon, cancel_soon] = asioctx::with_deadline_at(ex, asioctx::background(), now + 20ms);
    BOOST_TEST(!soon.done());
    BOOST_TEST((*soon.deadline() <= clock_type::now() + 20ms));

    auto [parent, cancel_parent] = asioctx::with_timeout(ex, asioctx::background(), 100ms);
    auto [child, cancel_child] = asioctx::with_deadline_at(ex, parent, now + 1h);
    BOOST_TEST((child.deadline() == parent.deadline()));
    ioc.run();
    BOOST_TEST((soon.err() == asioctx::error::deadline_exceeded));
    BOOST_TEST((child.err() == asioctx::error::deadline_exceeded));
}

BOOST_AUTO_TEST_CASE(no_executor_fails_clearly)
{
    try
    {
        auto r = asioctx::with_timeout(asioctx::background(), 1s);
        BOOST_FAIL("with_timeout without an executor must throw");
    }
    catch(boost::system::system_error const& e)
    {
        BOOST_TEST((e.code() == asioctx::error::no_executor));
        BOOST_TEST(e.code().has_location());
    }
    BOOST_CHECK_THROW(
        (void)asioctx::with_deadline(asio::any_io_executor(), asioctx::background(), clock_type::now()),
        boost::system::system_error);
}

BOOST_AUTO_TEST_CASE(shut_down_context_drops_deadlines)
{
    asioctx::cancellable survivor;
    {
        asio::io_context ioc;
        survivor = asioctx::with_timeout(ioc.get_executor(), asioctx::background(), 1h);
        BOOST_TEST(pending(ioc) == 1u);
    }
    // The io_context is gone; the context is simply never done by its deadline, and
    // cancelling it is still safe.
    BOOST_TEST(!survivor.ctx.done());
    survivor.cancel();
    BOOST_TEST(survivor.ctx.done());
}

// An io_context made where a destroyed one was: its deadlines fire. (A thread remembers
// the queue of the context it last derived a deadline on; the old one's must not serve.)
BOOST_AUTO_TEST_CASE(a_new_io_context_at_a_destroyed_ones_address_gets_its_own_queue)
{
    std::optional<asio::io_context> ioc;
    ioc.emplace();
    auto* const address = &*ioc;
    {
        auto first = asioctx::with_timeout(ioc->get_executor(), asioctx::background(), 1h);
        BOOST_TEST(pending(*ioc) == 1u);
    }
    ioc.reset();
    ioc.emplace();
    BOOST_REQUIRE(&*ioc == address);
    auto [ctx, cancel] = asioctx::with_timeout(ioc->get_executor(), asioctx::background(), 1ms);
    BOOST_TEST(pending(*ioc) == 1u);
    ioc->run();
    BOOST_TEST((ctx.err() == asioctx::error::deadline_exceeded));
}

BOOST_AUTO_TEST_CASE(many_deadlines_fire_each_once)
{
    asio::io_context ioc;
    auto ex = ioc.get_executor();
    std::vector<asioctx::cancellable> all;
    for(int i = 0; i < 500; ++i)
        all.push_back(asioctx::with_timeout(ex, asioctx::background(), std::chrono::milliseconds(1 + (i * 7) % 40)));
    for(int i = 0; i < 500; i += 3)
        all[i].cancel();
    ioc.run();
    for(int i = 0; i < 500; ++i)
    {
        auto expected = i % 3 == 0 ? asioctx::error::canceled : asioctx::error::deadline_exceeded;
        BOOST_TEST((all[i].ctx.err() == expected));
    }
    BOOST_TEST(pending(ioc) == 0u);
}

// A deadline's cancel reports where the deadline was set, for the context itself and for
// a child that inherits it (and for one that needed no timer of its own).
BOOST_AUTO_TEST_CASE(a_deadline_reports_where_it_was_set)
{
    boost::asio::io_context ioc;
    auto const line = __LINE__ + 1;
    auto [ctx, cancel] = asioctx::with_timeout(ioc.get_executor(), asioctx::background(), std::chrono::milliseconds(1));
    auto [child, cancel_child] = asioctx::with_timeout(ioc.get_executor(), ctx, std::chrono::hours(1));
    ioc.run();
    BOOST_TEST((ctx.err() == asioctx::error::deadline_exceeded));
    auto site = asioctx::cancelled_at(ctx);
    BOOST_TEST((site.source == asioctx::cancel_source::deadline));
    BOOST_TEST(site.location.line() == line);
    BOOST_TEST(!site.inherited);
    BOOST_TEST(asioctx::to_string(site).starts_with("deadline set at "));
    auto inherited = asioctx::cancelled_at(child);
    BOOST_TEST((inherited.source == asioctx::cancel_source::deadline));
    BOOST_TEST(inherited.location.line() == line);
    BOOST_TEST(inherited.inherited);

    auto const past_line = __LINE__ + 1;
    auto [past, cancel_past] = asioctx::with_timeout(ioc.get_executor(), asioctx::background(), std::chrono::milliseconds(0));
    BOOST_TEST(asioctx::cancelled_at(past).location.line() == past_line);
}

BOOST_AUTO_TEST_SUITE_END()
