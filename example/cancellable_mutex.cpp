// A mutex whose Lock takes a context. Four behaviours: lock a free mutex; a
// second lock waits for the unlock; a second lock with a 50 ms timeout gives up with
// deadline_exceeded without holding the mutex; unlocking an unlocked mutex is a clear
// error. Then 1000 coroutines compete, each allowed 5 ms.

#include <asioctx.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <iostream>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using boost::system::error_code;

asio::awaitable<bool> behaviours(asioctx::context root, asioctx::mutex& m)
{
    // (1) and (2): the guard unlocks when it goes out of scope.
    auto first = co_await m.async_guard(root, asio::use_awaitable);
    std::cout << "locked a free mutex: " << first.owns_lock() << "\n";

    // (3): a second lock with a 50 ms budget gives up.
    auto [ctx, cancel] = asioctx::with_timeout(root, 50ms);
    auto [ec] = co_await m.async_lock(ctx, asio::as_tuple(asio::use_awaitable));
    std::cout << "second lock with 50 ms: " << ec.message() << ", still held by the first: " << m.is_locked() << "\n";

    // (2): a second lock that does wait; the first is released 10 ms later.
    asio::steady_timer t(co_await asio::this_coro::executor, 10ms);
    t.async_wait([&first](error_code) { first.unlock(); });
    co_await m.async_lock(root, asio::use_awaitable);
    std::cout << "second lock after the unlock: acquired\n";
    m.unlock();

    // (4): unlocking a mutex that is not locked.
    error_code bad;
    m.unlock(bad);
    std::cout << "unlock of an unlocked mutex: " << bad.message() << "\n";
    co_return ec == asioctx::error::deadline_exceeded && bad == asioctx::error::not_locked && !m.is_locked();
}

int main()
{
    asio::io_context ioc;
    auto root = asioctx::with_executor(asioctx::background(), ioc.get_executor());
    asioctx::mutex m(ioc.get_executor());
    bool ok = false;
    asio::co_spawn(ioc, behaviours(root, m), [&](std::exception_ptr ep, bool r) { ok = !ep && r; });
    ioc.run();

    // The stress: 1000 coroutines, 5 ms each.
    int acquired = 0, timed_out = 0, inside = 0, overlaps = 0;
    for(int i = 0; i < 1000; ++i)
        asio::co_spawn(ioc, [&]() -> asio::awaitable<void> {
            auto [ctx, cancel] = asioctx::with_timeout(root, 5ms);
            auto [ec] = co_await m.async_lock(ctx, asio::as_tuple(asio::use_awaitable));
            if(ec)
            {
                timed_out += ec == asioctx::error::deadline_exceeded;
                co_return;
            }
            overlaps += inside++ != 0;
            asio::steady_timer hold(co_await asio::this_coro::executor, 100us);
            co_await hold.async_wait(asio::use_awaitable);
            --inside;
            ++acquired;
            m.unlock();
        }, asio::detached);
    ioc.restart();
    ioc.run();
    std::cout << "1000 coroutines: acquired + deadline_exceeded = " << acquired + timed_out
              << ", overlaps: " << overlaps << ", left locked: " << m.is_locked() << "\n";
    ok = ok && acquired + timed_out == 1000 && overlaps == 0 && !m.is_locked() && m.waiting() == 0;
    std::cout << (ok ? "cancellable_mutex: ok" : "cancellable_mutex: FAILED") << "\n";
    return ok ? 0 : 1;
}
