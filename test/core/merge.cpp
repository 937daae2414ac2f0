// Tests for <asioctx/core/merge.hpp>: a context done when any of its parents is.
#include <asioctx/core/merge.hpp>
#include <asioctx/core/value.hpp>
#include <asioctx/core/without_cancel.hpp>
#include <asioctx/core/done_callback.hpp>

#include "../support.hpp"

#include <boost/asio/error.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

namespace {
using test::number;

std::size_t listed_in(asioctx::context const& ctx)
{
    return asioctx::detail::registration_count(asioctx::detail::access::state_of(ctx));
}
} // namespace

BOOST_AUTO_TEST_SUITE(merge)

BOOST_AUTO_TEST_CASE(done_when_either_parent_is_with_its_error_and_cause)
{
    for(int which = 0; which < 2; ++which)
    {
        auto [a, cancel_a] = asioctx::with_cancel(asioctx::background());
        auto [b, cancel_b] = asioctx::with_cancel(asioctx::background());
        auto [m, cancel_m] = asioctx::with_merge(a, b);
        BOOST_TEST(!m.done());
        auto const line = __LINE__ + 2;
        if(which == 0)
            cancel_a(boost::asio::error::eof);
        else
            cancel_b(boost::asio::error::eof);
        BOOST_TEST(m.done());
        BOOST_TEST((m.err() == asioctx::error::canceled));
        BOOST_TEST((asioctx::cause(m) == boost::asio::error::eof));
        auto site = asioctx::cancelled_at(m);
        BOOST_TEST((site.source == asioctx::cancel_source::call));
        BOOST_TEST(site.location.line() == (which == 0 ? line : line + 2));
        BOOST_TEST(site.inherited);
        BOOST_TEST(!(which == 0 ? b : a).done());
    }
}

BOOST_AUTO_TEST_CASE(values_from_the_first_parent_children_follow)
{
    auto a = asioctx::with_value(asioctx::background(), number, 1);
    auto b = asioctx::with_value(asioctx::background(), number, 2);
    auto [cb, cancel_b] = asioctx::with_cancel(b);
    auto [m, cancel_m] = asioctx::with_merge(a, cb);
    BOOST_TEST(*m.value(number) == 1);
    auto [child, cancel_child] = asioctx::with_cancel(m);
    cancel_b();
    BOOST_TEST(child.done());
    BOOST_TEST(asioctx::to_string(m).find(".with_merge(2 parents)") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_done_parent_gives_a_merge_born_done_the_first_wins)
{
    auto [a, cancel_a] = asioctx::with_cancel(asioctx::background());
    auto [b, cancel_b] = asioctx::with_cancel(asioctx::background());
    auto [c, cancel_c] = asioctx::with_cancel(asioctx::background());
    cancel_c(boost::asio::error::timed_out);
    cancel_b(boost::asio::error::eof);
    asioctx::context const parents[] = {a, b, c};
    auto [m, cancel_m] = asioctx::with_merge(parents);
    BOOST_TEST(m.done());
    BOOST_TEST((asioctx::cause(m) == boost::asio::error::eof)); // b comes before c
    cancel_a(boost::asio::error::broken_pipe);
    BOOST_TEST((asioctx::cause(m) == boost::asio::error::eof)); // never changes
}

BOOST_AUTO_TEST_CASE(its_handle_cancels_it_alone)
{
    auto [a, cancel_a] = asioctx::with_cancel(asioctx::background());
    auto [b, cancel_b] = asioctx::with_cancel(asioctx::background());
    auto [m, cancel_m] = asioctx::with_merge(a, b);
    cancel_m();
    BOOST_TEST(m.done());
    BOOST_TEST(!a.done());
    BOOST_TEST(!b.done());
    BOOST_TEST(!asioctx::cancelled_at(m).inherited);
}

BOOST_AUTO_TEST_CASE(parents_that_can_never_be_done_are_not_listened_to)
{
    auto [b, cancel_b] = asioctx::with_cancel(asioctx::background());
    auto [m, cancel_m] = asioctx::with_merge(asioctx::background(), asioctx::without_cancel(b));
    BOOST_TEST(m.can_be_done()); // its own handle can still end it
    cancel_b();
    BOOST_TEST(!m.done());
    auto [e, cancel_e] = asioctx::with_merge({});
    BOOST_TEST(!e.done());
}

// Released first: the merged context leaves every parent's lists, and a parent
// cancelled afterwards touches nothing of it.
BOOST_AUTO_TEST_CASE(released_it_leaves_every_parent)
{
    auto [a, cancel_a] = asioctx::with_cancel(asioctx::background());
    auto [b, cancel_b] = asioctx::with_cancel(asioctx::background());
    auto [c, cancel_c] = asioctx::with_cancel(asioctx::background());
    {
        asioctx::context const parents[] = {a, b, c};
        auto [m, cancel_m] = asioctx::with_merge(parents);
        BOOST_TEST(asioctx::detail::child_count(asioctx::detail::access::state_of(a)) == 1u);
        BOOST_TEST(listed_in(b) == 1u);
        BOOST_TEST(listed_in(c) == 1u);
    }
    BOOST_TEST(asioctx::detail::child_count(asioctx::detail::access::state_of(a)) == 0u);
    BOOST_TEST(listed_in(b) == 0u);
    BOOST_TEST(listed_in(c) == 0u);
    cancel_b();
    cancel_c();
}

// A merged context released from inside a callback of the cancel that is about to fire
// its link: the link is withdrawn from that cancel's pending list.
BOOST_AUTO_TEST_CASE(released_from_inside_the_cancel_that_would_end_it)
{
    auto [a, cancel_a] = asioctx::with_cancel(asioctx::background());
    auto [b, cancel_b] = asioctx::with_cancel(asioctx::background());
    std::optional<asioctx::cancellable> m;
    asioctx::done_callback releaser(b, [&]() noexcept { m.reset(); });
    m.emplace(asioctx::with_merge(a, b));
    cancel_b();
    BOOST_TEST(!m.has_value());
    BOOST_TEST(!a.done());
}

// The race: parents cancelled from different threads at once. Exactly one cause wins,
// a callback on the merged context runs exactly once (no lost wake-up), and releasing
// the merged context while its parents are cancelled leaks and touches nothing.
BOOST_AUTO_TEST_CASE(parents_cancelled_from_different_threads_at_once)
{
    for(int round = 0; round < 1000; ++round)
    {
        auto [a, cancel_a] = asioctx::with_cancel(asioctx::background());
        auto [b, cancel_b] = asioctx::with_cancel(asioctx::background());
        auto merged = asioctx::with_merge(a, b);
        std::atomic<int> runs{0};
        std::optional<asioctx::done_callback<std::function<void()>>> cb;
        cb.emplace(merged.ctx, [&] { runs.fetch_add(1); });
        std::atomic<int> ready{0};
        auto start = [&ready] {
            ready.fetch_add(1);
            while(ready.load() < 2)
                std::this_thread::yield();
        };
        std::thread ta([&, &ca = cancel_a] {
            start();
            ca(boost::asio::error::eof);
        });
        std::thread tb([&, &cb_ = cancel_b] {
            start();
            cb_(boost::asio::error::timed_out);
        });
        ta.join();
        tb.join();
        BOOST_TEST_REQUIRE(merged.ctx.done());
        auto const cause = asioctx::cause(merged.ctx);
        BOOST_TEST_REQUIRE((cause == boost::asio::error::eof || cause == boost::asio::error::timed_out));
        BOOST_TEST_REQUIRE(runs.load() == 1);
        cb.reset();

        // Released while both parents are cancelled on other threads.
        auto [c, cancel_c] = asioctx::with_cancel(asioctx::background());
        auto [d, cancel_d] = asioctx::with_cancel(asioctx::background());
        auto m2 = std::make_unique<asioctx::cancellable>(asioctx::with_merge(c, d));
        ready = 0;
        std::thread tc([&, &cc = cancel_c] {
            start();
            cc();
        });
        std::thread td([&, &cd = cancel_d] {
            start();
            cd();
        });
        m2.reset();
        tc.join();
        td.join();
        BOOST_TEST_REQUIRE(listed_in(d) == 0u);
    }
}

BOOST_AUTO_TEST_SUITE_END()
