// Tests for <asioctx/core/done_callback.hpp>: a callable run synchronously by the thread
// that makes a context done, and the destructor's wait, as std::stop_callback's.
#include <asioctx/core/done_callback.hpp>
#include <asioctx/core/cancel.hpp>
#include <asioctx/core/without_cancel.hpp>

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

BOOST_AUTO_TEST_SUITE(done_callback)

BOOST_AUTO_TEST_CASE(runs_inside_the_cancel_on_the_cancelling_thread)
{
    auto [ctx, cancel] = asioctx::with_cancel(asioctx::background());
    int runs = 0;
    std::thread::id ran_on;
    asioctx::done_callback cb(ctx, [&, &c = ctx]() noexcept {
        ++runs;
        ran_on = std::this_thread::get_id();
        BOOST_TEST(c.done()); // the error is set before callbacks run
    });
    BOOST_TEST(runs == 0);
    std::thread other([&c = cancel] { c(); });
    auto const other_id = other.get_id();
    other.join();
    BOOST_TEST(runs == 1);
    BOOST_TEST((ran_on == other_id));
    cancel(); // a second cancel runs nothing
    BOOST_TEST(runs == 1);
}

BOOST_AUTO_TEST_CASE(runs_in_the_constructor_when_already_done)
{
    auto [ctx, cancel] = asioctx::with_cancel(asioctx::background());
    cancel();
    int runs = 0;
    asioctx::done_callback cb(ctx, [&]() noexcept { ++runs; });
    BOOST_TEST(runs == 1);
}

BOOST_AUTO_TEST_CASE(never_runs_when_destroyed_first)
{
    auto [ctx, cancel] = asioctx::with_cancel(asioctx::background());
    int runs = 0;
    {
        asioctx::done_callback cb(ctx, [&]() noexcept { ++runs; });
        BOOST_TEST(asioctx::detail::registration_count(asioctx::detail::access::state_of(ctx)) == 1u);
    }
    BOOST_TEST(asioctx::detail::registration_count(asioctx::detail::access::state_of(ctx)) == 0u);
    cancel();
    BOOST_TEST(runs == 0);
}

BOOST_AUTO_TEST_CASE(a_parents_cancel_and_a_context_that_cannot_be_done)
{
    auto [parent, cancel] = asioctx::with_cancel(asioctx::background());
    auto [child, cancel_child] = asioctx::with_cancel(parent);
    int runs = 0;
    asioctx::done_callback on_child(child, [&]() noexcept { ++runs; });
    asioctx::done_callback never(asioctx::without_cancel(parent), [&]() noexcept { runs += 100; });
    cancel();
    BOOST_TEST(runs == 1);
}

// Each callback of one cancel runs; one may destroy a later one (it then never runs) or
// itself (the destructor does not wait for itself).
BOOST_AUTO_TEST_CASE(a_callback_may_destroy_itself_or_a_later_one)
{
    auto [ctx, cancel] = asioctx::with_cancel(asioctx::background());
    int first_runs = 0, second_runs = 0, self_runs = 0;
    std::optional<asioctx::done_callback<std::function<void()>>> first, second, self;
    // Callbacks of one context run in the order they were registered.
    second.emplace(ctx, [&] {
        ++second_runs;
        first.reset(); // not run yet: withdrawn from this cancel's pending list
    });
    self.emplace(ctx, [&] {
        ++self_runs;
        self.reset();
    });
    first.emplace(ctx, [&] { ++first_runs; });
    cancel();
    BOOST_TEST(second_runs == 1);
    BOOST_TEST(self_runs == 1);
    BOOST_TEST(first_runs == 0);
    BOOST_TEST(!self.has_value());
}

// The destructor waits for a run in progress on another thread, as std::stop_callback's:
// what the callable uses can be destroyed right after.
BOOST_AUTO_TEST_CASE(the_destructor_waits_for_a_run_on_another_thread)
{
    auto [ctx, cancel] = asioctx::with_cancel(asioctx::background());
    std::atomic<bool> entered{false}, left{false};
    auto cb = std::make_unique<asioctx::done_callback<std::function<void()>>>(ctx, [&] {
        entered = true;
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        left = true;
    });
    std::thread canceller([&c = cancel] { c(); });
    while(!entered)
        std::this_thread::yield();
    cb.reset(); // must not return before the callable has
    BOOST_TEST(left.load());
    canceller.join();
}

// The race the wait exists for, many times: a callback destroyed on one thread while
// another cancels. Clean under TSan and ASan: nothing is touched after destruction.
BOOST_AUTO_TEST_CASE(racing_its_own_destruction_from_another_thread)
{
    for(int round = 0; round < 2000; ++round)
    {
        auto [ctx, cancel] = asioctx::with_cancel(asioctx::background());
        auto counter = std::make_unique<std::atomic<int>>(0);
        auto cb = std::make_unique<asioctx::done_callback<std::function<void()>>>(
            ctx, [c = counter.get()] { c->fetch_add(1); });
        std::atomic<bool> go{false};
        std::thread canceller([&go, &cancel_ = cancel] {
            while(!go)
                std::this_thread::yield();
            cancel_();
        });
        go = true;
        cb.reset();
        int const runs = counter->load();
        counter.reset(); // the callable's state: gone once the destructor returned
        canceller.join();
        BOOST_TEST_REQUIRE(runs <= 1);
    }
}

BOOST_AUTO_TEST_SUITE_END()
