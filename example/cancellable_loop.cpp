// A function that respects the context.
//
// process_items handles one item at a time, 50 ms each, checking the context before the
// work and making the work itself cancellable (async_sleep ends the moment the context
// is done). It returns ctx.err() verbatim, so callers can tell canceled from
// deadline_exceeded. Cancelled after 120 ms, it stops after two items, at once.

#include <asioctx.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
namespace asio = boost::asio;
using boost::system::error_code;
using clock_type = std::chrono::steady_clock;

asio::awaitable<std::pair<std::vector<std::string>, error_code>> process_items(
    asioctx::context ctx, std::vector<std::string> items)
{
    std::vector<std::string> out;
    for(auto const& item : items)
    {
        // Check before the work: nobody is waiting for it any more.
        if(auto ec = ctx.err())
            co_return std::pair{std::move(out), ec};
        // The work itself is cancellable: 50 ms unless the context ends first.
        auto [ec] = co_await asioctx::async_sleep(ctx, 50ms, asio::as_tuple(asio::use_awaitable));
        if(ec)
            co_return std::pair{std::move(out), ec};
        out.push_back("processed:" + item);
    }
    co_return std::pair{std::move(out), error_code()};
}

int main()
{
    asio::io_context ioc;
    auto root = asioctx::with_executor(asioctx::background(), ioc.get_executor());
    auto [ctx, cancel] = asioctx::with_cancel(root);

    std::vector<std::string> items;
    for(int i = 0; i < 100; ++i)
        items.push_back("item-" + std::to_string(i));

    std::size_t processed = 0;
    error_code result;
    clock_type::time_point cancelled_at, returned_at;
    asio::co_spawn(ioc, [&, c = ctx]() -> asio::awaitable<void> {
        auto [out, ec] = co_await process_items(c, items);
        returned_at = clock_type::now();
        processed = out.size();
        result = ec;
    }, asio::detached);

    asio::steady_timer in_120ms(ioc, 120ms);
    in_120ms.async_wait([&, &cancel = cancel](error_code) {
        cancelled_at = clock_type::now();
        cancel();
    });
    ioc.run();

    auto const lag = std::chrono::duration_cast<std::chrono::milliseconds>(returned_at - cancelled_at);
    std::cout << "processed " << processed << " of 100 items\n";
    std::cout << "error: " << result.message() << " (is canceled: " << (result == asioctx::error::canceled) << ")\n";
    std::cout << "returned " << lag.count() << " ms after the cancel\n";
    bool ok = processed == 2 && result == asioctx::error::canceled && lag < 30ms;
    std::cout << (ok ? "cancellable_loop: ok" : "cancellable_loop: FAILED") << "\n";
    return ok ? 0 : 1;
}
