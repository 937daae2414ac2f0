// An edge, a middle and a backend service, three servers on loopback
// in one process, each calling the next through asioctx's fetch client.
//
// - The request id the client sends appears in every log line of all three services.
// - The deadline budget shrinks hop by hop: each hop passes on what remains of its own.
// - A client that disconnects at the edge cancels the backend's work: the edge's request
//   context ends, so its fetch to the middle closes its connection, so the middle's
//   request context ends, so its fetch to the backend closes, so the backend's ends.

#include <asioctx.hpp>
#include <asioctx/http/budget.hpp>
#include <asioctx/http/client.hpp>
#include <asioctx/http/middleware.hpp>
#include <asioctx/http/server.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>

#include <chrono>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace ahttp = asioctx::http;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

std::vector<std::string> log_lines;

void log(std::string const& service, asioctx::context const& ctx, std::string const& what)
{
    auto line = service + " id=" + std::string(ahttp::request_id(ctx)) + " " + what;
    std::cout << line << "\n";
    log_lines.push_back(line);
}

std::string budget_of(asioctx::context const& ctx)
{
    auto d = ctx.deadline();
    if(!d)
        return "none";
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*d - std::chrono::steady_clock::now());
    return std::to_string(left.count()) + " ms";
}

// A hop: logs what it got, works 20 ms and calls `next` or, at the end of the chain, works through
// its context (50 ms for /work, 5 s for /long), and answers with what it learnt.
ahttp::handler hop(std::string name, ahttp::client& client, std::string next)
{
    auto h = [name, &client, next](asioctx::context ctx, ahttp::incoming& in) -> asio::awaitable<ahttp::response> {
        log(name, ctx, "received " + std::string(in.header().target()) + ", budget " + budget_of(ctx));
        if(next.empty())
        {
            auto const work = in.header().target() == "/long" ? std::chrono::milliseconds(5000) : std::chrono::milliseconds(50);
            asio::steady_timer timer(co_await asio::this_coro::executor, work);
            auto [ec] = co_await timer.async_wait(asioctx::bind(ctx, asio::as_tuple(asio::use_awaitable)));
            if(ec)
            {
                log(name, ctx, "work stopped: " + asioctx::cause(ctx).message());
                throw boost::system::system_error(ec);
            }
            log(name, ctx, "work done");
            co_return ahttp::make_response(in.header(), bhttp::status::ok, name + " done");
        }
        // 20 ms of work of its own first: what it passes on is what remains after it.
        co_await asioctx::async_sleep(ctx, 20ms, asio::as_tuple(asio::use_awaitable));
        auto [ec, res] = co_await client.async_get(ctx, next + std::string(in.header().target()), asio::as_tuple(asio::use_awaitable));
        if(ec)
        {
            log(name, ctx, "call to the next hop ended: " + ec.message());
            co_return ahttp::make_response(in.header(), bhttp::status::gateway_timeout, name + ": " + ec.message());
        }
        log(name, ctx, "next hop answered " + std::to_string(res.result_int()));
        co_return ahttp::make_response(in.header(), res.result(), name + " <- " + res.body());
    };
    return ahttp::chain(ahttp::request_ids(), ahttp::deadline_budget(), h);
}

// The scripted client: one request through all three hops, then one that leaves early.
bool has_line(std::string const& prefix)
{
    for(auto const& line : log_lines)
        if(line.rfind(prefix, 0) == 0)
            return true;
    return false;
}

// Waits until a log line starts with `prefix`, for at most 4 s (the check afterwards reports
// a line that never came).
asio::awaitable<void> logged(std::string const& prefix)
{
    asio::steady_timer t(co_await asio::this_coro::executor);
    auto const give_up = std::chrono::steady_clock::now() + 4s;
    while(!has_line(prefix) && std::chrono::steady_clock::now() < give_up)
    {
        t.expires_after(10ms);
        co_await t.async_wait(asio::use_awaitable);
    }
}

asio::awaitable<bool> script(unsigned short edge_port)
{
    auto ex = co_await asio::this_coro::executor;
    bool ok = true;

    // 1: the id and a 500 ms budget go in at the edge.
    {
        tcp::socket s(ex);
        co_await s.async_connect({asio::ip::address_v4::loopback(), edge_port}, asio::use_awaitable);
        std::string const req = "GET /work HTTP/1.1\r\nHost: edge\r\nX-Request-ID: trip-1\r\nRequest-Timeout: 500m\r\n\r\n";
        co_await asio::async_write(s, asio::buffer(req), asio::use_awaitable);
        boost::beast::flat_buffer buffer;
        bhttp::response<bhttp::string_body> res;
        co_await bhttp::async_read(s, buffer, res, asio::use_awaitable);
        std::cout << "1. client <- " << res.result_int() << " " << res.body() << "\n";
        ok = ok && res.result_int() == 200;
    }

    // 2: the client leaves once the backend has started its 5 s of work, then waits for the
    // cancellation to reach the backend. Both waits watch the log, not the clock: a slow machine
    // (or a sanitizer) may need longer than any fixed time.
    {
        tcp::socket s(ex);
        co_await s.async_connect({asio::ip::address_v4::loopback(), edge_port}, asio::use_awaitable);
        std::string const req = "GET /long HTTP/1.1\r\nHost: edge\r\nX-Request-ID: trip-2\r\n\r\n";
        co_await asio::async_write(s, asio::buffer(req), asio::use_awaitable);
        co_await logged("backend id=trip-2 received");
        s.close();
        std::cout << "2. client disconnected while the backend works\n";
        co_await logged("backend id=trip-2 work stopped");
    }
    co_return ok;
}

} // namespace

int main()
{
    asio::io_context ioc;
    auto root = asioctx::with_executor(asioctx::background(), ioc.get_executor());
    ahttp::client client(ioc.get_executor());
    auto loopback = asio::ip::address_v4::loopback();

    std::optional<ahttp::server> backend, middle, edge;
    backend.emplace(ioc.get_executor(), root, hop("backend", client, ""));
    backend->listen({loopback, 0});
    middle.emplace(ioc.get_executor(), root,
        hop("middle", client, "http://127.0.0.1:" + std::to_string(backend->local_endpoint().port())));
    middle->listen({loopback, 0});
    edge.emplace(ioc.get_executor(), root,
        hop("edge", client, "http://127.0.0.1:" + std::to_string(middle->local_endpoint().port())));
    edge->listen({loopback, 0});
    for(auto* s : {&*backend, &*middle, &*edge})
        s->async_run(asio::detached);

    bool ok = false;
    asio::co_spawn(ioc, script(edge->local_endpoint().port()), [&](std::exception_ptr e, bool r) {
        ok = !e && r;
        edge->stop();
        middle->stop();
        backend->stop();
    });
    ioc.run();

    // Every line of the first trip carries its id; each hop saw less budget than the one before.
    std::vector<long> budgets;
    bool ids_everywhere = true;
    for(auto const& line : log_lines)
    {
        if(line.find("received /work") != std::string::npos)
        {
            auto at = line.find("budget ");
            budgets.push_back(std::stol(line.substr(at + 7)));
        }
        if(line.find("/work") != std::string::npos || line.find("work done") != std::string::npos)
            ids_everywhere = ids_everywhere && line.find("id=trip-1") != std::string::npos;
    }
    bool const shrinking = budgets.size() == 3 && budgets[0] <= 500 && budgets[1] < budgets[0] && budgets[2] < budgets[1];
    bool backend_cancelled = false;
    for(auto const& line : log_lines)
        backend_cancelled = backend_cancelled ||
            (line.rfind("backend id=trip-2 work stopped: client disconnected", 0) == 0);
    std::cout << "trip-1 id in every line: " << ids_everywhere << ", budget shrinking hop by hop: " << shrinking
              << "\ntrip-2 backend work cancelled by the client leaving the edge: " << backend_cancelled << "\n";
    ok = ok && ids_everywhere && shrinking && backend_cancelled;
    std::cout << (ok ? "deadline_over_three_hops: ok\n" : "deadline_over_three_hops: FAILED\n");
    return ok ? 0 : 1;
}
