// An errgroup. Three downloads share the group's context; one fails after
// 50 ms, the group's context is cancelled with that failure as the cause, and the two
// slow downloads stop at once instead of running their full 200 ms.
//
// Go's errgroup.WithContext + g.Go + g.Wait, with Asio coroutines: the group hands
// every task the same context; the first error wins and cancels the siblings; Wait
// cancels the context even on success.

#include <asioctx.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/errc.hpp>

#include <chrono>
#include <iostream>
#include <string>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using boost::system::error_code;

// A download that takes `duration`, unless the context ends first.
asio::awaitable<error_code> download(asioctx::context ctx, std::string name, std::chrono::milliseconds duration)
{
    auto [ec] = co_await asioctx::async_sleep(ctx, duration, asio::as_tuple(asio::use_awaitable));
    if(ec)
    {
        std::cout << name << ": stopped early (" << ec.message() << ")\n";
        co_return ec; // Go: return ctx.Err()
    }
    std::cout << name << ": done\n";
    co_return error_code();
}

asio::awaitable<bool> fetch_all(asioctx::context ctx)
{
    asioctx::group g(ctx);
    auto const start = std::chrono::steady_clock::now();
    g.spawn([](asioctx::context c) { return download(c, "slow-a", 200ms); });
    g.spawn([](asioctx::context c) { return download(c, "slow-b", 200ms); });
    g.spawn([](asioctx::context c) -> asio::awaitable<error_code> {
        co_await asioctx::async_sleep(c, 50ms, asio::use_awaitable);
        std::cout << "broken: failing\n";
        co_return boost::system::errc::make_error_code(boost::system::errc::host_unreachable);
    });

    error_code first = co_await g.async_wait(asio::use_awaitable);
    auto const took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    std::cout << "wait: " << first.message() << "\n";
    std::cout << "cause seen by the siblings: " << asioctx::cause(g.get_context()).message() << "\n";
    std::cout << "finished early: " << (took < 150ms) << "\n";

    // A group where everything succeeds: Wait still cancels its context.
    asioctx::group ok(ctx);
    ok.spawn([](asioctx::context c) { return download(c, "quick", 5ms); });
    error_code none = co_await ok.async_wait(asio::use_awaitable);
    std::cout << "second wait: " << (none ? none.message() : "success")
              << ", its context: " << ok.get_context().err().message() << "\n";
    co_return first == boost::system::errc::host_unreachable && took < 150ms && !none && ok.get_context().done();
}

int main()
{
    asio::io_context ioc;
    auto root = asioctx::with_executor(asioctx::background(), ioc.get_executor());
    bool ok = false;
    asio::co_spawn(ioc, fetch_all(root), [&](std::exception_ptr ep, bool r) { ok = !ep && r; });
    ioc.run();
    std::cout << (ok ? "errgroup: ok" : "errgroup: FAILED") << "\n";
    return ok ? 0 : 1;
}
