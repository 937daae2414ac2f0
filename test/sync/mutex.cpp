// Tests for <asioctx/sync/mutex.hpp>: Task 15's context-aware mutex, FIFO hand-off,
// the grant-versus-cancel race, and a stress run under several threads.
#include <asioctx/core/cancel.hpp>
#include <asioctx/asio/coroutine.hpp>
#include <asioctx/asio/deadline.hpp>
#include <asioctx/asio/detail/context_service.hpp>
#include <asioctx/asio/executor.hpp>
#include <asioctx/sync/mutex.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>
#include <boost/test/unit_test.hpp>

#include "../support.hpp"

#include <atomic>
#include <future>
#include <optional>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
namespace asio = boost::asio;
using boost::system::error_code;
using clock_type = std::chrono::steady_clock;

namespace {

using fixture = test::io_fixture;

} // namespace

BOOST_AUTO_TEST_SUITE(mutex)

// Task 15 (1): Lock succeeds on a free mutex.
BOOST_FIXTURE_TEST_CASE(lock_succeeds_on_a_free_mutex, fixture)
{
    asioctx::mutex m(ioc.get_executor());
    std::optional<error_code> result;
    m.async_lock(root, [&](error_code ec) { result = ec; });
    BOOST_TEST(!result.has_value()); // never inline, even when free
    BOOST_TEST(m.is_locked());       // but taken at once: FIFO order starts at the call
    ioc.run();
    BOOST_TEST((result && !*result));
    BOOST_TEST(m.is_locked());
    m.unlock();
    BOOST_TEST(!m.is_locked());
}

// Task 15 (2): a second lock waits until the first unlock.
BOOST_FIXTURE_TEST_CASE(second_lock_waits_for_unlock, fixture)
{
    asioctx::mutex m(ioc.get_executor());
    BOOST_TEST(m.try_lock());
    std::optional<error_code> second;
    m.async_lock(root, [&](error_code ec) { second = ec; });
    ioc.run_for(20ms);
    BOOST_TEST(!second.has_value());
    BOOST_TEST(m.waiting() == 1u);
    m.unlock();
    BOOST_TEST(m.is_locked()); // handed over inside unlock()
    BOOST_TEST(!second.has_value()); // but the handler is posted, never run in unlock()
    ioc.restart();
    ioc.run();
    BOOST_TEST((second && !*second));
    BOOST_TEST(m.waiting() == 0u);
}

// Task 15 (3): a second lock with a 50 ms timeout ends with deadline_exceeded.
BOOST_FIXTURE_TEST_CASE(second_lock_times_out, fixture)
{
    asioctx::mutex m(ioc.get_executor());
    BOOST_TEST(m.try_lock());
    auto const start = clock_type::now();
    auto [ctx, cancel] = asioctx::with_timeout(root, 50ms);
    std::optional<error_code> result;
    m.async_lock(ctx, [&](error_code ec) { result = ec; });
    ioc.run();
    BOOST_TEST((result && *result == asioctx::error::deadline_exceeded));
    BOOST_TEST((clock_type::now() - start >= 50ms));
    BOOST_TEST(m.waiting() == 0u);
    BOOST_TEST(m.is_locked()); // still the first holder's
    m.unlock();
}

// Task 15 (4): unlocking a mutex that is not locked is a defined error, and the mutex
// keeps working.
BOOST_FIXTURE_TEST_CASE(unlock_of_unlocked_mutex_is_an_error, fixture)
{
    asioctx::mutex m(ioc.get_executor());
    error_code ec;
    m.unlock(ec);
    BOOST_TEST((ec == asioctx::error::not_locked));
    BOOST_TEST(ec.has_location());
    BOOST_TEST(ec.message().find("not locked") != std::string::npos);
    BOOST_CHECK_THROW(m.unlock(), boost::system::system_error);
    BOOST_TEST(!m.is_locked());
    BOOST_TEST(m.try_lock());
    BOOST_TEST(!m.try_lock());
    m.unlock();
    m.unlock(ec);
    BOOST_TEST((ec == asioctx::error::not_locked));
    BOOST_TEST(m.try_lock());
    m.unlock();
}

BOOST_FIXTURE_TEST_CASE(waiters_are_served_in_order, fixture)
{
    asioctx::mutex m(ioc.get_executor());
    BOOST_TEST(m.try_lock());
    std::vector<int> order;
    for(int i = 0; i < 5; ++i)
        m.async_lock(root, [&, i](error_code ec) {
            BOOST_TEST(!ec);
            order.push_back(i);
            m.unlock();
        });
    BOOST_TEST(!m.try_lock()); // waiters come first, even if it were free
    m.unlock();
    ioc.run();
    BOOST_TEST((order == std::vector<int>{0, 1, 2, 3, 4}));
    BOOST_TEST(!m.is_locked());
}

// try_lock does not jump the queue: while anyone waits it fails even though an
// unlock is about to free the mutex.
BOOST_FIXTURE_TEST_CASE(try_lock_fails_while_someone_waits, fixture)
{
    asioctx::mutex m(ioc.get_executor());
    BOOST_TEST(m.try_lock());
    bool got = false;
    m.async_lock(root, [&](error_code ec) { got = !ec; });
    m.unlock();
    BOOST_TEST(!m.try_lock());
    ioc.run();
    BOOST_TEST(got);
    m.unlock();
    BOOST_TEST(m.try_lock());
    m.unlock();
}

// A waiter whose context ends leaves the queue at once (no need to run anything) and
// never gets the mutex; the next waiter does.
BOOST_FIXTURE_TEST_CASE(cancelled_waiter_leaves_at_once, fixture)
{
    asioctx::mutex m(ioc.get_executor());
    BOOST_TEST(m.try_lock());
    auto [ctx, cancel] = asioctx::with_cancel(root);
    std::optional<error_code> first, second;
    m.async_lock(ctx, [&](error_code ec) { first = ec; });
    m.async_lock(root, [&](error_code ec) { second = ec; });
    BOOST_TEST(m.waiting() == 2u);
    BOOST_TEST(asioctx::detail::registration_count(asioctx::detail::access::state_of(ctx)) == 1u);
    cancel();
    BOOST_TEST(m.waiting() == 1u);
    m.unlock();
    ioc.run();
    BOOST_TEST((first && *first == asioctx::error::canceled));
    BOOST_TEST((second && !*second));
    BOOST_TEST(m.is_locked());
    m.unlock();
}

// The hand-off happens, then the waiter's context ends before its handler runs: the
// waiter does not keep the mutex (it gets the context's error) and the mutex goes on
// to the next waiter: never lost, never held by a cancelled waiter.
BOOST_FIXTURE_TEST_CASE(grant_then_cancel_passes_the_lock_on, fixture)
{
    asioctx::mutex m(ioc.get_executor());
    BOOST_TEST(m.try_lock());
    auto [ctx, cancel] = asioctx::with_cancel(root);
    std::optional<error_code> first, second;
    m.async_lock(ctx, [&](error_code ec) { first = ec; });
    m.async_lock(root, [&](error_code ec) { second = ec; });
    m.unlock();    // granted to the first waiter, its handler posted
    BOOST_TEST(m.waiting() == 1u);
    cancel();      // ... and its context ends before the handler runs
    ioc.run();
    BOOST_TEST((first && *first == asioctx::error::canceled));
    BOOST_TEST((second && !*second));
    BOOST_TEST(m.is_locked());
    BOOST_TEST(m.waiting() == 0u);
    m.unlock();
    BOOST_TEST(!m.is_locked());
}

// The same race on the fast path: free at the call, context done before the handler.
BOOST_FIXTURE_TEST_CASE(free_lock_then_cancel_gives_it_back, fixture)
{
    asioctx::mutex m(ioc.get_executor());
    auto [ctx, cancel] = asioctx::with_cancel(root);
    std::optional<error_code> result;
    m.async_lock(ctx, [&](error_code ec) { result = ec; });
    BOOST_TEST(m.is_locked());
    cancel();
    ioc.run();
    BOOST_TEST((result && *result == asioctx::error::canceled));
    BOOST_TEST(!m.is_locked());
}

BOOST_FIXTURE_TEST_CASE(done_context_never_takes_the_lock, fixture)
{
    asioctx::mutex m(ioc.get_executor());
    auto [ctx, cancel] = asioctx::with_cancel(root);
    cancel();
    std::optional<error_code> result;
    m.async_lock(ctx, [&](error_code ec) { result = ec; });
    BOOST_TEST(!m.is_locked());
    BOOST_TEST(!result.has_value());
    ioc.run();
    BOOST_TEST((result && *result == asioctx::error::canceled));
}

BOOST_FIXTURE_TEST_CASE(per_operation_cancellation, fixture)
{
    for(auto type : {asio::cancellation_type::terminal, asio::cancellation_type::partial,
            asio::cancellation_type::total})
    {
        asioctx::mutex m(ioc.get_executor());
        BOOST_TEST(m.try_lock());
        asio::cancellation_signal sig;
        std::optional<error_code> result;
        m.async_lock(root, asio::bind_cancellation_slot(sig.slot(), [&](error_code ec) { result = ec; }));
        BOOST_TEST(m.waiting() == 1u);
        sig.emit(type);
        BOOST_TEST(m.waiting() == 0u);
        ioc.restart();
        ioc.run();
        BOOST_TEST((result && *result == asio::error::operation_aborted));
        BOOST_TEST(!sig.slot().has_handler()); // cleared before the handler ran
        m.unlock();
        BOOST_TEST(!m.is_locked()); // the aborted waiter never got it
    }
}

// Handlers run on their own associated executor.
BOOST_FIXTURE_TEST_CASE(handler_runs_on_its_executor, fixture)
{
    asio::io_context other;
    asioctx::mutex m(ioc.get_executor());
    BOOST_TEST(m.try_lock());
    bool ran = false;
    m.async_lock(root, asio::bind_executor(other, [&](error_code ec) {
        BOOST_TEST(!ec);
        BOOST_TEST(other.get_executor().running_in_this_thread());
        ran = true;
    }));
    m.unlock();
    ioc.run();
    BOOST_TEST(!ran);
    other.run();
    BOOST_TEST(ran);
}

BOOST_FIXTURE_TEST_CASE(destroying_the_mutex_aborts_waiters, fixture)
{
    std::optional<error_code> granted, aborted;
    {
        asioctx::mutex m(ioc.get_executor());
        BOOST_TEST(m.try_lock());
        m.async_lock(root, [&](error_code ec) { granted = ec; });
        m.unlock(); // handed to the first waiter; its handler is already posted
        m.async_lock(root, [&](error_code ec) { aborted = ec; });
    }
    ioc.run();
    BOOST_TEST((granted && !*granted));
    BOOST_TEST((aborted && *aborted == asio::error::operation_aborted));
}

BOOST_FIXTURE_TEST_CASE(guard_from_a_coroutine, fixture)
{
    asioctx::mutex m(ioc.get_executor());
    std::vector<int> log;
    auto worker = [&](int id) -> asio::awaitable<void> {
        auto g = co_await m.async_guard(root, asio::use_awaitable);
        BOOST_TEST(g.owns_lock());
        log.push_back(id);
        asio::steady_timer t(co_await asio::this_coro::executor, 1ms);
        co_await t.async_wait(asio::use_awaitable);
        log.push_back(id);
    };
    for(int i = 0; i < 3; ++i)
        asio::co_spawn(ioc, worker(i), asio::detached);
    ioc.run();
    BOOST_TEST((log == std::vector<int>{0, 0, 1, 1, 2, 2}));
    BOOST_TEST(!m.is_locked());
}

BOOST_FIXTURE_TEST_CASE(guard_is_empty_on_error, fixture)
{
    asioctx::mutex m(ioc.get_executor());
    BOOST_TEST(m.try_lock());
    auto [ctx, cancel] = asioctx::with_timeout(root, 1ms);
    std::optional<error_code> result;
    bool owned = true;
    m.async_guard(ctx, [&](error_code ec, asioctx::mutex_guard g) {
        result = ec;
        owned = g.owns_lock();
    });
    ioc.run();
    BOOST_TEST((result && *result == asioctx::error::deadline_exceeded));
    BOOST_TEST(!owned);
    BOOST_TEST(m.is_locked());
    {
        asioctx::mutex_guard adopted(m, std::adopt_lock);
        asioctx::mutex_guard moved = std::move(adopted);
        BOOST_TEST(!adopted.owns_lock());
        BOOST_TEST(moved.owns_lock());
    }
    BOOST_TEST(!m.is_locked());
    asioctx::mutex_guard tried(m, std::try_to_lock);
    BOOST_TEST(tried.owns_lock());
}

// A wait pending when its io_context is destroyed is abandoned; destroying the mutex
// afterwards touches nothing of the dead io_context (checked under ASan).
BOOST_AUTO_TEST_CASE(wait_abandoned_at_shutdown)
{
    std::optional<asioctx::mutex> m;
    int destroyed = 0;
    struct counted
    {
        int* n;
        std::shared_ptr<int> alive = std::make_shared<int>();
        void operator()(error_code) const {}
        ~counted()
        {
            if(alive && alive.use_count() == 1)
                ++*n;
        }
    };
    {
        asio::io_context ioc;
        m.emplace(ioc.get_executor());
        auto root = asioctx::with_executor(asioctx::background(), ioc.get_executor());
        BOOST_TEST(m->try_lock());
        m->async_lock(root, counted{&destroyed});
        BOOST_TEST(m->waiting() == 1u);
    }
    BOOST_TEST(destroyed == 1);
    BOOST_TEST(m->waiting() == 0u);
    m.reset();
}

// Conservation: a lock granted to a handler that never runs is given back. The handler
// is bound to another io_context, destroyed with the grant still queued in it.
BOOST_AUTO_TEST_CASE(a_grant_whose_handler_is_destroyed_uncalled_is_given_back)
{
    asio::io_context a;
    asioctx::mutex m(a.get_executor());
    BOOST_TEST(m.try_lock());
    bool called = false;
    {
        asio::io_context b;
        m.async_lock(asioctx::background(), asio::bind_executor(b, [&](error_code) { called = true; }));
        BOOST_TEST(m.waiting() == 1u);
        m.unlock(); // granted: the completion is queued in b
        BOOST_TEST(m.is_locked());
    }
    BOOST_TEST(!called);
    BOOST_TEST(!m.is_locked());
    BOOST_TEST(m.try_lock());
}

// Conservation: when posting the completion fails (out of memory), the lock is given
// back, on the free path (the exception reaches the caller) and on a grant to a waiter
// (the next waiter, on the same io_context, gets it).
BOOST_FIXTURE_TEST_CASE(a_grant_that_cannot_be_posted_is_given_back, fixture)
{
    asioctx::mutex m(ioc.get_executor());
    // (Asio allocates with the handler's allocator when the executor is the io_context's
    // own type; `any_io_executor` carries no allocator.)
    auto failing = asio::bind_executor(
        ioc.get_executor(), asio::bind_allocator(test::failing_allocator<void>(), [](error_code) {}));
    BOOST_CHECK_THROW(m.async_lock(root, failing), std::bad_alloc);
    BOOST_TEST(!m.is_locked());

    BOOST_TEST(m.try_lock());
    m.async_lock(root, failing);
    std::optional<error_code> next;
    m.async_lock(root, [&](error_code ec) { next = ec; });
    BOOST_TEST(m.waiting() == 2u);
    m.unlock(); // the first waiter's grant cannot be posted: the second one's turn
    BOOST_TEST(m.waiting() == 0u);
    ioc.run();
    BOOST_TEST((next && !*next));
    BOOST_TEST(m.is_locked());
    m.unlock();
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(mutex_stress)

namespace {

#if defined(__SANITIZE_THREAD__)
constexpr bool under_tsan = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
constexpr bool under_tsan = true;
#else
constexpr bool under_tsan = false;
#endif
#else
constexpr bool under_tsan = false;
#endif

// Task 15's stress: 1000 coroutines compete, each with a 5 ms timeout. Every one ends
// with either the lock or deadline_exceeded; mutual exclusion holds; nothing is left
// queued, registered or tracked.
void compete(int threads)
{
    asio::io_context ioc(threads);
    auto rooted = asioctx::with_cancel(asioctx::with_executor(asioctx::background(), ioc.get_executor()));
    auto const& root = rooted.ctx; // (a reference: lambdas cannot capture structured bindings in clang 14)
    asioctx::mutex m(ioc.get_executor());
    std::atomic<int> inside{0}, acquired{0}, timed_out{0}, other{0}, overlap{0};
    int const n = 1000;
    auto one = [&]() -> asio::awaitable<void> {
        auto [ctx, cancel] = asioctx::with_timeout(root, 5ms);
        auto [ec] = co_await m.async_lock(ctx, asio::as_tuple(asio::use_awaitable));
        if(!ec)
        {
            if(inside.fetch_add(1) != 0)
                ++overlap;
            // Hold it across a suspension so that others queue and time out.
            asio::steady_timer t(co_await asio::this_coro::executor, 100us);
            co_await t.async_wait(asio::use_awaitable);
            inside.fetch_sub(1);
            ++acquired;
            m.unlock();
        }
        else if(ec == asioctx::error::deadline_exceeded)
            ++timed_out;
        else
            ++other;
    };
    for(int i = 0; i < n; ++i)
        asio::co_spawn(ioc, one(), asio::detached);
    std::vector<std::jthread> pool;
    for(int i = 1; i < threads; ++i)
        pool.emplace_back([&] { ioc.run(); });
    ioc.run();
    for(auto& t : pool)
        t.join();
    BOOST_TEST(overlap.load() == 0);
    BOOST_TEST(other.load() == 0);
    BOOST_TEST(acquired.load() + timed_out.load() == n);
    BOOST_TEST(acquired.load() > 0);
    BOOST_TEST(timed_out.load() > 0);
    BOOST_TEST(!m.is_locked());
    BOOST_TEST(m.waiting() == 0u);
    BOOST_TEST(asioctx::detail::child_count(asioctx::detail::access::state_of(root)) == 0u);
    BOOST_TEST(asioctx::detail::registration_count(asioctx::detail::access::state_of(root)) == 0u);
    BOOST_TEST(asioctx::detail::service_for(ioc.get_executor()).waiters()->size() == 0u);
}

} // namespace

BOOST_AUTO_TEST_CASE(thousand_coroutines_one_thread)
{
    compete(1);
}

BOOST_AUTO_TEST_CASE(thousand_coroutines_four_threads)
{
    compete(4);
}

// Unlock, cancel and per-operation cancellation racing on several threads: every
// waiter completes exactly once and the mutex ends unlocked.
BOOST_AUTO_TEST_CASE(unlock_races_cancel)
{
    int const rounds = under_tsan ? 100 : 1000;
    asio::io_context ioc(4);
    auto work = asio::make_work_guard(ioc);
    std::vector<std::jthread> pool;
    for(int i = 0; i < 3; ++i)
        pool.emplace_back([&] { ioc.run(); });
    auto root = asioctx::with_executor(asioctx::background(), ioc.get_executor());
    asioctx::mutex m(ioc.get_executor());
    for(int r = 0; r < rounds; ++r)
    {
        BOOST_REQUIRE(m.try_lock());
        auto [ctx, cancel] = asioctx::with_cancel(root);
        std::atomic<int> done{0}, got{0};
        std::promise<void> all;
        auto on = [&](error_code ec) {
            if(!ec)
            {
                ++got;
                m.unlock();
            }
            if(++done == 3)
                all.set_value();
        };
        m.async_lock(ctx, on);
        m.async_lock(root, on);
        m.async_lock(ctx, on);
        std::jthread canceller([&, c = &cancel] { (*c)(); });
        m.unlock();
        canceller.join();
        all.get_future().wait();
        BOOST_REQUIRE(got.load() >= 1); // the root waiter always gets it
        BOOST_REQUIRE(!m.is_locked());
        BOOST_REQUIRE(m.waiting() == 0u);
    }
    work.reset();
    for(auto& t : pool)
        t.join();
}

BOOST_AUTO_TEST_SUITE_END()
