// asioctx's middleware in a Beast session loop of one's own: an existing Beast codebase
// keeps its accept loop and sessions, derives a context per request, and calls an asioctx
// handler chain through message_incoming. Self-contained: serves one connection on a
// loopback port and sends it two requests.

#include <asioctx.hpp>
#include <asioctx/http/middleware.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <iostream>
#include <string>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

// The application's handler, unaware of where it is called from.
asio::awaitable<asioctx::http::response> hello(asioctx::context ctx, asioctx::http::incoming& in)
{
    co_return asioctx::http::make_response(in.header(), bhttp::status::ok,
        "hello, request " + std::string(asioctx::http::request_id(ctx)) + "\n");
}

// An ordinary Beast session: read, handle, write, until the client closes.
asio::awaitable<void> session(tcp::socket socket, asioctx::context server_ctx, asioctx::http::handler const& h)
{
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    for(;;)
    {
        bhttp::request<bhttp::string_body> req;
        stream.expires_after(std::chrono::seconds(30));
        auto [ec, n] = co_await bhttp::async_read(stream, buffer, req, asio::as_tuple(asio::use_awaitable));
        if(ec)
            break;
        // One context per request: cancelled when this scope ends, whatever happens.
        auto [ctx, cancel] = asioctx::with_timeout(server_ctx, std::chrono::seconds(10));
        asioctx::http::message_incoming in(req);
        auto res = co_await h(ctx, in);
        res.keep_alive(req.keep_alive());
        res.prepare_payload();
        co_await bhttp::async_write(stream, res, asio::use_awaitable);
        if(!req.keep_alive())
            break;
    }
}

asio::awaitable<void> client(unsigned short port)
{
    tcp::socket s(co_await asio::this_coro::executor);
    co_await s.async_connect({asio::ip::address_v4::loopback(), port}, asio::use_awaitable);
    beast::flat_buffer buffer;
    for(std::string id : {"from-the-client-1", "bad id\r\nX-Evil: 1"})
    {
        bhttp::request<bhttp::string_body> req(bhttp::verb::get, "/hello", 11);
        req.set(bhttp::field::host, "example");
        req.set("X-Request-ID", id);
        req.keep_alive(id != "bad id\r\nX-Evil: 1");
        co_await bhttp::async_write(s, req, asio::use_awaitable);
        bhttp::response<bhttp::string_body> res;
        co_await bhttp::async_read(s, buffer, res, asio::use_awaitable);
        std::cout << "response " << res.result_int() << ", X-Request-ID: "
                  << (res["X-Request-ID"] == id ? "echoed" : "minted (" + std::to_string(res["X-Request-ID"].size()) + " hex digits)")
                  << ", body: " << res.body();
    }
}

int main()
{
    asio::io_context ioc;
    auto root = asioctx::with_executor(asioctx::background(), ioc.get_executor());
    auto h = asioctx::http::chain(asioctx::http::request_ids(),
        asioctx::http::access_log([](std::string_view line) { std::cout << "log: " << line.substr(0, line.find(" duration")) << "\n"; }),
        hello);

    tcp::acceptor acceptor(ioc, {asio::ip::address_v4::loopback(), 0});
    auto const port = acceptor.local_endpoint().port();
    asio::co_spawn(ioc, [&]() -> asio::awaitable<void> {
        auto socket = co_await acceptor.async_accept(asio::use_awaitable);
        co_await session(std::move(socket), root, h);
    }, asio::detached);
    bool ok = false;
    asio::co_spawn(ioc, client(port), [&](std::exception_ptr e) { ok = !e; });
    ioc.run();
    std::cout << (ok ? "own beast loop: ok" : "own beast loop: FAILED") << "\n";
    return ok ? 0 : 1;
}
