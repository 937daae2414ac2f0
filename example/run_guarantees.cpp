// Structured concurrency in one call. asioctx::run(ctx, fns...) gives every
// function the same derived context, cancels it on the first error, completes only
// after every function has returned, and starts nothing if the context is already done.

#include <asioctx.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/errc.hpp>

#include <chrono>
#include <iostream>
#include <optional>
#include <string>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using boost::system::error_code;

namespace {
constexpr asioctx::key<std::string> trace_key{"trace"};
}

asio::awaitable<bool> demo(asioctx::context root)
{
    auto ctx = asioctx::with_value(root, trace_key, std::string("t-42"));
    std::optional<asioctx::context> kept;
    bool b_returned = false;
    auto const start = std::chrono::steady_clock::now();

    // (1)-(3): A fails after 10 ms; B would sleep 1 s; B keeps its context.
    error_code ec = co_await asioctx::run(ctx,
        [](asioctx::context c) -> asio::awaitable<error_code> {
            std::cout << "A sees trace " << *c.value(trace_key) << "\n";
            co_await asioctx::async_sleep(c, 10ms, asio::use_awaitable);
            co_return boost::system::errc::make_error_code(boost::system::errc::permission_denied);
        },
        [&](asioctx::context c) -> asio::awaitable<void> {
            std::cout << "B sees trace " << *c.value(trace_key) << "\n";
            kept = c;
            auto [e] = co_await asioctx::async_sleep(c, 1s, asio::as_tuple(asio::use_awaitable));
            std::cout << "B returns: " << e.message() << "\n";
            b_returned = true;
        })(asio::use_awaitable);
    auto const took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    std::cout << "run: " << ec.message() << ", well under 1 s: " << (took < 500ms) << "\n";
    std::cout << "B had returned: " << b_returned << ", kept context done: " << kept->done() << "\n";

    // (4): an already-cancelled context starts nothing.
    auto [dead, cancel] = asioctx::with_cancel(root);
    cancel();
    int started = 0;
    error_code pre = co_await asioctx::run(dead, [&](asioctx::context) { ++started; })(asio::use_awaitable);
    std::cout << "pre-cancelled: " << pre.message() << ", functions started: " << started << "\n";

    // No functions: success.
    error_code none = co_await asioctx::run(root)(asio::use_awaitable);
    std::cout << "no functions: " << (none ? none.message() : "success") << "\n";

    co_return ec == boost::system::errc::permission_denied && took < 500ms && b_returned && kept->done() &&
        pre == asioctx::error::canceled && started == 0 && !none;
}

int main()
{
    asio::io_context ioc;
    auto root = asioctx::with_executor(asioctx::background(), ioc.get_executor());
    bool ok = false;
    asio::co_spawn(ioc, demo(root), [&](std::exception_ptr ep, bool r) { ok = !ep && r; });
    ioc.run();
    std::cout << (ok ? "run_guarantees: ok" : "run_guarantees: FAILED") << "\n";
    return ok ? 0 : 1;
}
