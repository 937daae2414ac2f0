// Tests for <asioctx/sync/semaphore.hpp>: golang.org/x/sync/semaphore's weighted FIFO
// semaphore with context-cancellable acquires.
#include <asioctx/core/cancel.hpp>
#include <asioctx/asio/deadline.hpp>
#include <asioctx/asio/executor.hpp>
#include <asioctx/sync/semaphore.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>
#include <boost/test/unit_test.hpp>

#include "../support.hpp"

#include <atomic>
#include <optional>
#include <random>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
namespace asio = boost::asio;
using boost::system::error_code;

namespace {

using fixture = test::io_fixture;

} // namespace

BOOST_AUTO_TEST_SUITE(semaphore)

BOOST_FIXTURE_TEST_CASE(acquire_and_release_within_capacity, fixture)
{
    asioctx::semaphore s(ioc.get_executor(), 5);
    BOOST_TEST(s.capacity() == 5u);
    BOOST_TEST(s.try_acquire(2));
    BOOST_TEST(s.available() == 3u);
    std::optional<error_code> result;
    s.async_acquire(root, 3, [&](error_code ec) { result = ec; });
    BOOST_TEST(!result.has_value());
    ioc.run();
    BOOST_TEST((result && !*result));
    BOOST_TEST(s.available() == 0u);
    BOOST_TEST(!s.try_acquire(1));
    BOOST_TEST(s.try_acquire(0));
    s.release(5);
    BOOST_TEST(s.available() == 5u);
}

// A large request at the head blocks later small ones, even when they would fit.
BOOST_FIXTURE_TEST_CASE(large_head_blocks_later_small_requests, fixture)
{
    asioctx::semaphore s(ioc.get_executor(), 10);
    BOOST_TEST(s.try_acquire(8));
    std::vector<int> order;
    s.async_acquire(root, 5, [&](error_code ec) {
        BOOST_TEST(!ec);
        order.push_back(5);
    });
    s.async_acquire(root, 1, [&](error_code ec) {
        BOOST_TEST(!ec);
        order.push_back(1);
    });
    BOOST_TEST(!s.try_acquire(1)); // 2 free, but two wait
    ioc.poll(); // (pending acquires are outstanding work: run() would not return)
    BOOST_TEST(order.empty());
    s.release(3); // 5 free: the head gets them
    ioc.restart();
    ioc.poll();
    BOOST_TEST((order == std::vector<int>{5}));
    BOOST_TEST(s.available() == 0u);
    s.release(1);
    ioc.restart();
    ioc.run();
    BOOST_TEST((order == std::vector<int>{5, 1}));
    BOOST_TEST(s.waiting() == 0u);
}

// FIFO after a partial release: units that come free but do not satisfy the head stay
// free; a later small request that would fit does not overtake the head.
BOOST_FIXTURE_TEST_CASE(a_partial_release_never_lets_a_small_request_overtake_the_head, fixture)
{
    asioctx::semaphore s(ioc.get_executor(), 4);
    BOOST_TEST(s.try_acquire(4));
    std::vector<int> order;
    s.async_acquire(root, 3, [&](error_code ec) {
        BOOST_TEST(!ec);
        order.push_back(3);
    });
    s.async_acquire(root, 1, [&](error_code ec) {
        BOOST_TEST(!ec);
        order.push_back(1);
    });
    s.release(1); // 1 free: the head needs 3
    ioc.poll();
    BOOST_TEST(order.empty());
    BOOST_TEST(s.available() == 1u);
    BOOST_TEST(s.waiting() == 2u);
    s.release(1); // 2 free: still not enough for the head
    ioc.restart();
    ioc.poll();
    BOOST_TEST(order.empty());
    BOOST_TEST(s.available() == 2u);
    s.release(1); // 3 free: the head goes, the small one waits for the last unit
    ioc.restart();
    ioc.poll();
    BOOST_TEST((order == std::vector<int>{3}));
    BOOST_TEST(s.available() == 0u);
    s.release(1);
    ioc.restart();
    ioc.run();
    BOOST_TEST((order == std::vector<int>{3, 1}));
}

// Conservation: units granted to a handler that never runs go back. The handler is bound
// to another io_context, destroyed with the grant still queued in it.
BOOST_AUTO_TEST_CASE(units_granted_to_a_handler_destroyed_uncalled_are_given_back)
{
    asio::io_context a;
    asioctx::semaphore s(a.get_executor(), 5);
    BOOST_TEST(s.try_acquire(5));
    {
        asio::io_context b;
        s.async_acquire(asioctx::background(), 3, asio::bind_executor(b, [](error_code) {}));
        s.release(4); // 3 granted, queued in b; 1 free
        BOOST_TEST(s.available() == 1u);
    }
    BOOST_TEST(s.available() == 4u);
}

// Conservation: units whose completion cannot be posted (out of memory) go back, on the
// free path (the exception reaches the caller) and on a grant to a waiter.
BOOST_FIXTURE_TEST_CASE(units_that_cannot_be_posted_are_given_back, fixture)
{
    asioctx::semaphore s(ioc.get_executor(), 5);
    // (Asio allocates with the handler's allocator when the executor is the io_context's
    // own type; `any_io_executor` carries no allocator.)
    auto failing = asio::bind_executor(
        ioc.get_executor(), asio::bind_allocator(test::failing_allocator<void>(), [](error_code) {}));
    BOOST_CHECK_THROW(s.async_acquire(root, 2, failing), std::bad_alloc);
    BOOST_TEST(s.available() == 5u);

    BOOST_TEST(s.try_acquire(5));
    s.async_acquire(root, 2, failing);
    std::optional<error_code> next;
    s.async_acquire(root, 4, [&](error_code ec) { next = ec; });
    s.release(4); // the first waiter's 2 cannot be posted: they go on to the second
    BOOST_TEST(s.waiting() == 0u);
    BOOST_TEST(s.available() == 0u);
    ioc.run();
    BOOST_TEST((next && !*next));
    s.release(5); // the second waiter's 4 and the 1 kept from the start
    BOOST_TEST(s.available() == 5u);
}

// When the large head leaves (its context ends), the ones behind it that fit go.
BOOST_FIXTURE_TEST_CASE(cancelled_head_lets_the_rest_through, fixture)
{
    asioctx::semaphore s(ioc.get_executor(), 10);
    BOOST_TEST(s.try_acquire(8));
    auto [ctx, cancel] = asioctx::with_cancel(root);
    std::optional<error_code> big, small1, small2;
    s.async_acquire(ctx, 5, [&](error_code ec) { big = ec; });
    s.async_acquire(root, 1, [&](error_code ec) { small1 = ec; });
    s.async_acquire(root, 1, [&](error_code ec) { small2 = ec; });
    BOOST_TEST(s.waiting() == 3u);
    cancel();
    BOOST_TEST(s.waiting() == 0u);
    BOOST_TEST(s.available() == 0u);
    ioc.run();
    BOOST_TEST((big && *big == asioctx::error::canceled));
    BOOST_TEST((small1 && !*small1));
    BOOST_TEST((small2 && !*small2));
}

BOOST_FIXTURE_TEST_CASE(request_above_capacity_fails_at_once, fixture)
{
    asioctx::semaphore s(ioc.get_executor(), 3);
    std::optional<error_code> result;
    s.async_acquire(root, 4, [&](error_code ec) { result = ec; });
    BOOST_TEST(s.waiting() == 0u);
    BOOST_TEST(!result.has_value());
    ioc.run();
    BOOST_TEST((result && *result == asioctx::error::exceeds_capacity));
    BOOST_TEST(result->has_location());
    BOOST_TEST(!s.try_acquire(4));
    BOOST_TEST(s.available() == 3u);
}

BOOST_FIXTURE_TEST_CASE(over_release_is_an_error_and_changes_nothing, fixture)
{
    asioctx::semaphore s(ioc.get_executor(), 3);
    BOOST_TEST(s.try_acquire(2));
    error_code ec;
    s.release(3, ec);
    BOOST_TEST((ec == asioctx::error::over_released));
    BOOST_TEST(s.available() == 1u);
    BOOST_CHECK_THROW(s.release(3), boost::system::system_error);
    s.release(2);
    BOOST_TEST(s.available() == 3u);
    BOOST_CHECK_THROW(asioctx::semaphore(ioc.get_executor(), asioctx::semaphore::max_capacity + 1),
        std::length_error);
}

BOOST_FIXTURE_TEST_CASE(deadline_while_waiting, fixture)
{
    asioctx::semaphore s(ioc.get_executor(), 2);
    BOOST_TEST(s.try_acquire(2));
    auto [ctx, cancel] = asioctx::with_timeout(root, 10ms);
    std::optional<error_code> result;
    s.async_acquire(ctx, 1, [&](error_code ec) { result = ec; });
    ioc.run();
    BOOST_TEST((result && *result == asioctx::error::deadline_exceeded));
    BOOST_TEST(s.available() == 0u);
    BOOST_TEST(s.waiting() == 0u);
}

// Go's rule: a waiter cancelled at the moment it was granted gives the grant on.
BOOST_FIXTURE_TEST_CASE(grant_then_cancel_gives_the_grant_on, fixture)
{
    asioctx::semaphore s(ioc.get_executor(), 3);
    BOOST_TEST(s.try_acquire(3));
    auto [ctx, cancel] = asioctx::with_cancel(root);
    std::optional<error_code> first, second;
    s.async_acquire(ctx, 2, [&](error_code ec) { first = ec; });
    s.async_acquire(root, 3, [&](error_code ec) { second = ec; });
    s.release(2); // granted to the first
    cancel();     // before its handler runs
    ioc.poll();
    BOOST_TEST((first && *first == asioctx::error::canceled));
    BOOST_TEST(s.available() == 2u); // given back...
    BOOST_TEST(!second.has_value()); // ...but the second needs 3
    s.release(1);
    ioc.restart();
    ioc.run();
    BOOST_TEST((second && !*second));
    BOOST_TEST(s.available() == 0u);
}

BOOST_FIXTURE_TEST_CASE(per_operation_cancellation, fixture)
{
    asioctx::semaphore s(ioc.get_executor(), 1);
    BOOST_TEST(s.try_acquire(1));
    asio::cancellation_signal sig;
    std::optional<error_code> result;
    s.async_acquire(root, 1, asio::bind_cancellation_slot(sig.slot(), [&](error_code ec) { result = ec; }));
    sig.emit(asio::cancellation_type::total);
    BOOST_TEST(s.waiting() == 0u);
    ioc.run();
    BOOST_TEST((result && *result == asio::error::operation_aborted));
    s.release(1);
    BOOST_TEST(s.available() == 1u);
}

BOOST_FIXTURE_TEST_CASE(destroying_aborts_waiters, fixture)
{
    std::optional<error_code> result;
    {
        asioctx::semaphore s(ioc.get_executor(), 1);
        BOOST_TEST(s.try_acquire(1));
        s.async_acquire(root, 1, [&](error_code ec) { result = ec; });
    }
    ioc.run();
    BOOST_TEST((result && *result == asio::error::operation_aborted));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(semaphore_stress)

// Weighted acquires with random weights and deadlines on four threads: the units in
// use never exceed the capacity, every acquire completes once, all units come back.
BOOST_AUTO_TEST_CASE(weighted_acquires_on_four_threads)
{
    constexpr std::uint64_t capacity = 6;
    asio::io_context ioc(4);
    auto rooted = asioctx::with_cancel(asioctx::with_executor(asioctx::background(), ioc.get_executor()));
    auto const& root = rooted.ctx; // (a reference: lambdas cannot capture structured bindings in clang 14)
    asioctx::semaphore s(ioc.get_executor(), capacity);
    std::atomic<std::uint64_t> in_use{0};
    std::atomic<int> over{0}, completed{0}, granted{0};
    int const n = 600;
    auto one = [&](std::uint64_t weight, std::chrono::microseconds budget) -> asio::awaitable<void> {
        auto [ctx, cancel] = asioctx::with_timeout(root, budget);
        auto [ec] = co_await s.async_acquire(ctx, weight, asio::as_tuple(asio::use_awaitable));
        if(!ec)
        {
            if(in_use.fetch_add(weight) + weight > capacity)
                ++over;
            asio::steady_timer t(co_await asio::this_coro::executor, 50us);
            co_await t.async_wait(asio::use_awaitable);
            in_use.fetch_sub(weight);
            ++granted;
            s.release(weight);
        }
        ++completed;
    };
    std::mt19937 rng(7);
    for(int i = 0; i < n; ++i)
        asio::co_spawn(ioc,
            one(1 + rng() % capacity, std::chrono::microseconds(200 + rng() % 5000)), asio::detached);
    std::vector<std::jthread> pool;
    for(int i = 0; i < 3; ++i)
        pool.emplace_back([&] { ioc.run(); });
    ioc.run();
    for(auto& t : pool)
        t.join();
    BOOST_TEST(over.load() == 0);
    BOOST_TEST(completed.load() == n);
    BOOST_TEST(granted.load() > 0);
    BOOST_TEST(s.available() == capacity);
    BOOST_TEST(s.waiting() == 0u);
    BOOST_TEST(asioctx::detail::registration_count(asioctx::detail::access::state_of(root)) == 0u);
    BOOST_TEST(asioctx::detail::child_count(asioctx::detail::access::state_of(root)) == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
