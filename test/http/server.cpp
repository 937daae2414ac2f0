// Tests for <asioctx/http/server.hpp>, end to end over loopback: per-request contexts
// cancelled on disconnect, pipelining, limits, a throwing handler, graceful shutdown.
#include <asioctx/cancel.hpp>
#include <asioctx/http/error.hpp>
#include <asioctx/http/server.hpp>
#include <asioctx/sleep.hpp>

#include "certificate.hpp"
#include "servers.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/test/unit_test.hpp>


#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using clock_type = std::chrono::steady_clock;

namespace {

// A blocking client on its own io_context.
struct client
{
    asio::io_context ioc;
    tcp::socket socket{ioc};
    boost::beast::flat_buffer buffer;

    explicit client(unsigned short port)
    {
        socket.connect({asio::ip::address_v4::loopback(), port});
    }

    void send_raw(std::string const& bytes)
    {
        asio::write(socket, asio::buffer(bytes));
    }

    bhttp::response<bhttp::string_body> read_response()
    {
        bhttp::response<bhttp::string_body> res;
        bhttp::read(socket, buffer, res);
        return res;
    }

    bhttp::response<bhttp::string_body> get(std::string target, bool keep_alive = true)
    {
        bhttp::request<bhttp::string_body> req(bhttp::verb::get, target, 11);
        req.set(bhttp::field::host, "test");
        req.keep_alive(keep_alive);
        bhttp::write(socket, req);
        return read_response();
    }

    // True once the server has closed the connection (reads end of stream).
    bool closed_by_server()
    {
        char c;
        error_code ec;
        socket.read_some(asio::buffer(&c, 1), ec);
        return ec == asio::error::eof || ec == asio::error::connection_reset;
    }
};

asioctx::http::handler hello()
{
    return [](asioctx::context, asioctx::http::incoming& in) -> asio::awaitable<asioctx::http::response> {
        co_return asioctx::http::make_response(in.header(), bhttp::status::ok, "hello " + std::string(in.header().target()));
    };
}

} // namespace

BOOST_AUTO_TEST_SUITE(http_server)

BOOST_AUTO_TEST_CASE(serves_keep_alive_requests)
{
    test::test_server s(hello());
    client c(s.port());
    auto r1 = c.get("/a");
    BOOST_TEST(r1.result_int() == 200);
    BOOST_TEST(r1.body() == "hello /a");
    BOOST_TEST(r1.keep_alive());
    auto r2 = c.get("/b", false);
    BOOST_TEST(r2.body() == "hello /b");
    BOOST_TEST(c.closed_by_server());
}

// The client goes away while the handler waits: the handler's wait ends at once with
// the context's error, and the cause says why.
BOOST_AUTO_TEST_CASE(disconnect_cancels_the_handler)
{
    std::promise<std::pair<error_code, error_code>> seen;
    std::promise<void> started;
    test::test_server s([&](asioctx::context ctx, asioctx::http::incoming& in) -> asio::awaitable<asioctx::http::response> {
        started.set_value();
        auto [ec] = co_await asioctx::async_sleep(ctx, 30s, asio::as_tuple(asio::use_awaitable));
        seen.set_value({ec, asioctx::cause(ctx)});
        co_return asioctx::http::make_response(in.header(), bhttp::status::ok);
    });
    auto result = seen.get_future();
    {
        client c(s.port());
        c.send_raw("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n");
        started.get_future().wait();
    } // the client closes its socket
    auto const closed = clock_type::now();
    BOOST_REQUIRE((result.wait_for(10s) == std::future_status::ready));
    auto const took = clock_type::now() - closed;
    auto [ec, cause] = result.get();
    BOOST_TEST((ec == asioctx::error::canceled));
    BOOST_TEST((cause == asioctx::http::error::client_disconnected));
    BOOST_TEST((took < 2s)); // "within a few ms"; generous for loaded machines
}

// Two requests in one write: the second is pipelined, kept, and cancels nothing.
BOOST_AUTO_TEST_CASE(pipelined_bytes_are_not_a_disconnect)
{
    std::atomic<int> cancelled{0};
    test::test_server s([&](asioctx::context ctx, asioctx::http::incoming& in) -> asio::awaitable<asioctx::http::response> {
        auto [ec] = co_await asioctx::async_sleep(ctx, 20ms, asio::as_tuple(asio::use_awaitable));
        if(ec)
            ++cancelled;
        co_return asioctx::http::make_response(in.header(), bhttp::status::ok, std::string(in.header().target()));
    });
    client c(s.port());
    c.send_raw("GET /one HTTP/1.1\r\nHost: t\r\n\r\nGET /two HTTP/1.1\r\nHost: t\r\n\r\n");
    auto r1 = c.read_response();
    auto r2 = c.read_response();
    BOOST_TEST(r1.body() == "/one");
    BOOST_TEST(r2.body() == "/two");
    BOOST_TEST(cancelled.load() == 0);
}

BOOST_AUTO_TEST_CASE(bad_requests_get_4xx_and_close)
{
    asioctx::http::server_options o;
    o.header_limit = 1024;
    o.body_limit = 16;
    test::test_server s(hello(), o);
    {
        client c(s.port());
        c.send_raw("NOT HTTP AT ALL\r\n\r\n");
        BOOST_TEST(c.read_response().result_int() == 400);
        BOOST_TEST(c.closed_by_server());
    }
    {
        client c(s.port());
        c.send_raw("GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(2000, 'a') + "\r\n\r\n");
        BOOST_TEST(c.read_response().result_int() == 431);
        BOOST_TEST(c.closed_by_server());
    }
    {
        client c(s.port());
        c.send_raw("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n");
        BOOST_TEST(c.read_response().result_int() == 413);
        BOOST_TEST(c.closed_by_server());
    }
}

// A body larger than the limit without a length (chunked) is found while reading.
BOOST_AUTO_TEST_CASE(chunked_body_over_the_limit_gets_413)
{
    asioctx::http::server_options o;
    o.body_limit = 8;
    test::test_server s([](asioctx::context, asioctx::http::incoming& in) -> asio::awaitable<asioctx::http::response> {
        auto body = co_await in.body();
        co_return asioctx::http::make_response(in.header(), bhttp::status::ok, std::string(body));
    }, o);
    client c(s.port());
    c.send_raw("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n");
    BOOST_TEST(c.read_response().result_int() == 413);
    BOOST_TEST(c.closed_by_server());
}

BOOST_AUTO_TEST_CASE(body_is_read_on_demand)
{
    test::test_server s([](asioctx::context, asioctx::http::incoming& in) -> asio::awaitable<asioctx::http::response> {
        auto body = co_await in.body();
        co_return asioctx::http::make_response(in.header(), bhttp::status::ok, "got " + std::string(body));
    });
    client c(s.port());
    c.send_raw("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello");
    auto r = c.read_response();
    BOOST_TEST(r.body() == "got hello");
    BOOST_TEST(r.keep_alive());
}

// Slowloris: the header deadline is armed once for the whole header.
BOOST_AUTO_TEST_CASE(slow_header_is_cut_off)
{
    asioctx::http::server_options o;
    o.header_timeout = 200ms;
    test::test_server s(hello(), o);
    client c(s.port());
    auto const start = clock_type::now();
    for(int i = 0; i < 3; ++i)
    {
        c.send_raw("G");
        std::this_thread::sleep_for(100ms);
    }
    error_code ec;
    c.socket.write_some(asio::buffer("E", 1), ec); // may already fail
    BOOST_TEST(c.closed_by_server());
    BOOST_TEST((clock_type::now() - start < 5s));
}

BOOST_AUTO_TEST_CASE(throwing_handler_gets_500_and_the_connection_stays)
{
    test::test_server s([](asioctx::context, asioctx::http::incoming& in) -> asio::awaitable<asioctx::http::response> {
        if(in.header().target() == "/throw")
            throw std::runtime_error("boom");
        co_return asioctx::http::make_response(in.header(), bhttp::status::ok, "fine");
    });
    client c(s.port());
    BOOST_TEST(c.get("/throw").result_int() == 500);
    BOOST_TEST(c.get("/ok").body() == "fine");
}

// stop(): idle connections close at once; an in-flight request finishes within the
// grace period.
BOOST_AUTO_TEST_CASE(shutdown_drains_in_flight_requests)
{
    asioctx::http::server_options o;
    o.shutdown_grace = 5s;
    std::promise<void> started;
    auto s = std::make_unique<test::test_server>(
        [&](asioctx::context ctx, asioctx::http::incoming& in) -> asio::awaitable<asioctx::http::response> {
            if(in.header().target() == "/slow")
            {
                started.set_value();
                co_await asioctx::async_sleep(ctx, 200ms, asio::use_awaitable);
            }
            co_return asioctx::http::make_response(in.header(), bhttp::status::ok, "done");
        },
        o);
    client idle(s->port());
    BOOST_TEST(idle.get("/").result_int() == 200);
    client busy(s->port());
    busy.send_raw("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n");
    started.get_future().wait();
    s->srv->stop();
    BOOST_TEST(idle.closed_by_server());
    auto r = busy.read_response();
    BOOST_TEST(r.result_int() == 200);
    BOOST_TEST(!r.keep_alive()); // no further requests after a stop
    s.reset();
}

// Past the grace period, in-flight requests are cancelled with the shutdown cause.
BOOST_AUTO_TEST_CASE(shutdown_cancels_after_the_grace_period)
{
    asioctx::http::server_options o;
    o.shutdown_grace = 50ms;
    std::promise<void> started;
    std::promise<error_code> cause;
    auto s = std::make_unique<test::test_server>(
        [&](asioctx::context ctx, asioctx::http::incoming& in) -> asio::awaitable<asioctx::http::response> {
            started.set_value();
            co_await asioctx::async_sleep(ctx, 30s, asio::as_tuple(asio::use_awaitable));
            cause.set_value(asioctx::cause(ctx));
            co_return asioctx::http::make_response(in.header(), bhttp::status::service_unavailable);
        },
        o);
    client c(s->port());
    c.send_raw("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    started.get_future().wait();
    auto const start = clock_type::now();
    s->srv->stop();
    auto f = cause.get_future();
    BOOST_REQUIRE((f.wait_for(10s) == std::future_status::ready));
    BOOST_TEST((f.get() == asioctx::http::error::server_shutdown));
    BOOST_TEST((clock_type::now() - start < 5s));
    s.reset(); // joins: run() completed
}

// Cancelling the parent context is a stop().
BOOST_AUTO_TEST_CASE(parent_cancellation_stops_the_server)
{
    asio::io_context ioc;
    auto root = asioctx::with_executor(asioctx::background(), ioc.get_executor());
    auto [parent, cancel] = asioctx::with_cancel(root);
    asioctx::http::server srv(ioc.get_executor(), parent, hello());
    srv.listen({asio::ip::address_v4::loopback(), 0});
    bool finished = false;
    srv.async_run([&](std::exception_ptr) { finished = true; });
    ioc.poll();
    cancel();
    ioc.run_for(5s);
    BOOST_TEST(finished);
}

// The same server over TLS: the client verifies the certificate and the host name.
BOOST_AUTO_TEST_CASE(serves_over_tls)
{
    auto [cert, key] = test::self_signed_localhost();
    asio::ssl::context server_tls(asio::ssl::context::tls_server);
    server_tls.use_certificate_chain(asio::buffer(cert));
    server_tls.use_private_key(asio::buffer(key), asio::ssl::context::pem);

    asio::io_context ioc;
    asioctx::http::server srv(ioc.get_executor(), asioctx::background(), hello(), server_tls);
    srv.listen({asio::ip::address_v4::loopback(), 0});
    srv.async_run([](std::exception_ptr) {});
    std::thread runner([&] { ioc.run(); });

    asio::io_context cio;
    asio::ssl::context client_tls(asio::ssl::context::tls_client);
    client_tls.add_certificate_authority(asio::buffer(cert));
    client_tls.set_verify_mode(asio::ssl::verify_peer);
    asio::ssl::stream<tcp::socket> s(cio, client_tls);
    s.set_verify_callback(asio::ssl::host_name_verification("localhost"));
    s.next_layer().connect({asio::ip::address_v4::loopback(), srv.local_endpoint().port()});
    s.handshake(asio::ssl::stream_base::client);
    boost::beast::flat_buffer buffer;
    for(std::string target : {"/one", "/two"})
    {
        bhttp::request<bhttp::string_body> req(bhttp::verb::get, target, 11);
        req.set(bhttp::field::host, "localhost");
        bhttp::write(s, req);
        bhttp::response<bhttp::string_body> res;
        bhttp::read(s, buffer, res);
        BOOST_TEST(res.body() == "hello " + target);
    }
    error_code ignored;
    s.next_layer().close(ignored);
    srv.stop();
    runner.join();
}

BOOST_AUTO_TEST_SUITE_END()
