// A fire-and-forget send that outlives its request.
//
// log_after_request ships a line to a slow sink (200 ms) after the handler has returned.
// The send derives from without_cancel(request): it keeps the request's values (its id)
// but not its cancellation, and gets a ceiling of its own so a stuck sink cannot keep it
// forever.

#include <asioctx.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <iostream>
#include <string>

using namespace std::chrono_literals;
namespace asio = boost::asio;
using boost::system::error_code;

namespace {

constexpr asioctx::key<std::string> request_id{"request_id"};

std::string id_of(asioctx::context const& ctx)
{
    auto id = ctx.value(request_id);
    return id ? *id : "-";
}

// The send owns its context's cancel handle: the ceiling lives exactly as long as it.
asio::awaitable<void> send_to_sink(asioctx::context ctx, asioctx::cancel_handle, std::string payload,
    std::chrono::milliseconds sink_latency, int& shipped, int& dropped)
{
    auto [ec] = co_await asioctx::async_sleep(ctx, sink_latency, asio::as_tuple(asio::use_awaitable));
    if(ec)
    {
        std::cout << "audit log dropped: " << ec.message() << " (request_id=" << id_of(ctx) << ")\n";
        ++dropped;
        co_return;
    }
    std::cout << "audit shipped: " << payload << " (request_id=" << id_of(ctx) << ")\n";
    ++shipped;
}

void log_after_request(asioctx::context const& request, std::string payload, std::chrono::milliseconds ceiling,
    std::chrono::milliseconds sink_latency, int& shipped, int& dropped)
{
    auto [ctx, cancel] = asioctx::with_timeout(asioctx::without_cancel(request), ceiling);
    auto ex = *asioctx::executor_of(ctx);
    asio::co_spawn(ex, send_to_sink(ctx, std::move(cancel), std::move(payload), sink_latency, shipped, dropped),
        [](std::exception_ptr e) {
            if(e)
                std::rethrow_exception(e);
        });
}

} // namespace

int main()
{
    asio::io_context ioc;
    auto server = asioctx::with_executor(asioctx::background(), ioc.get_executor());
    int shipped = 0, dropped = 0;

    {
        std::cout << "request 1: handler returns and its context is cancelled at once\n";
        auto [request, cancel] = asioctx::with_cancel(asioctx::with_value(server, request_id, "req-1"));
        log_after_request(request, "GET /orders 200", 5s, 200ms, shipped, dropped);
        cancel();
        std::cout << "request 1 context: " << request.err().message() << "\n";
    }
    {
        std::cout << "request 2: the sink is slower than the send's own ceiling\n";
        auto [request, cancel] = asioctx::with_cancel(asioctx::with_value(server, request_id, "req-2"));
        log_after_request(request, "GET /slow 200", 100ms, 200ms, shipped, dropped);
    }
    ioc.run();

    bool ok = shipped == 1 && dropped == 1;
    std::cout << (ok ? "detached_send: ok" : "detached_send: FAILED") << "\n";
    return ok ? 0 : 1;
}
