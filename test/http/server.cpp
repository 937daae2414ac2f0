// Tests for <asioctx/http/server.hpp>, end to end over loopback: per-request contexts
// cancelled on disconnect, pipelining, limits, a throwing handler, graceful shutdown.
#include <asioctx/asio/executor.hpp>
#include <asioctx/core/cancel.hpp>
#include <asioctx/http/error.hpp>
#include <asioctx/http/middleware.hpp>
#include <asioctx/http/server.hpp>
#include <asioctx/asio/sleep.hpp>

#include "certificate.hpp"
#include "servers.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
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
#include <vector>

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

// On an io_context built for one thread the connections have no strand (decision 82):
// requests are served, a disconnect still cancels the waiting handler, and a response
// larger than the socket takes at once arrives whole (its first part written without
// waiting, the rest by an operation; decision 85).
BOOST_AUTO_TEST_CASE(an_io_context_for_one_thread_serves_without_strands)
{
    std::promise<error_code> cause_seen;
    std::string const large(4 * 1024 * 1024, 'x');
    test::test_server s(
        [&](asioctx::context ctx, asioctx::http::incoming& in) -> asio::awaitable<asioctx::http::response> {
            if(in.header().target() == "/large")
                co_return asioctx::http::make_response(in.header(), bhttp::status::ok, large);
            if(in.header().target() == "/slow")
            {
                co_await asioctx::async_sleep(ctx, 30s, asio::as_tuple(asio::use_awaitable));
                cause_seen.set_value(asioctx::cause(ctx));
            }
            co_return asioctx::http::make_response(in.header(), bhttp::status::ok, "hello");
        },
        {}, asioctx::background(), 1);
    BOOST_REQUIRE(asioctx::detail::runs_on_one_thread(s.ioc.get_executor()));
    {
        client c(s.port());
        BOOST_TEST(c.get("/a").body() == "hello");
        c.send_raw("GET /large HTTP/1.1\r\nHost: t\r\n\r\n");
        std::this_thread::sleep_for(200ms); // the client reads nothing for a while
        auto r = c.read_response();
        BOOST_TEST(r.body().size() == large.size());
        BOOST_TEST((r.body() == large));
        BOOST_TEST(c.get("/b").body() == "hello");
    }
    {
        client c(s.port());
        c.send_raw("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n");
        std::this_thread::sleep_for(100ms);
    } // the client leaves while the handler waits
    auto result = cause_seen.get_future();
    BOOST_REQUIRE((result.wait_for(10s) == std::future_status::ready));
    BOOST_TEST((result.get() == asioctx::http::error::client_disconnected));
}

// A client that reads nothing: the part of the response the socket took at once went
// without waiting, the rest waits under the write deadline, which ends the connection.
BOOST_AUTO_TEST_CASE(a_client_that_reads_nothing_is_cut_off_at_the_write_timeout)
{
    asioctx::http::server_options o;
    o.write_timeout = 300ms;
    test::test_server s(
        [](asioctx::context, asioctx::http::incoming& in) -> asio::awaitable<asioctx::http::response> {
            co_return asioctx::http::make_response(in.header(), bhttp::status::ok, std::string(32 * 1024 * 1024, 'z'));
        },
        o);
    client c(s.port());
    c.send_raw("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    auto const start = clock_type::now();
    while(s.srv->connections() == 0 && clock_type::now() - start < 5s)
        std::this_thread::sleep_for(1ms);
    BOOST_REQUIRE(s.srv->connections() == 1u);
    while(s.srv->connections() != 0 && clock_type::now() - start < 20s)
        std::this_thread::sleep_for(10ms);
    BOOST_TEST(s.srv->connections() == 0u); // closed by the write deadline, not by the test
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
// Every Transfer-Encoding but `chunked` alone is refused and the connection closed: the
// bytes after the header (here a second request) are never served.
BOOST_AUTO_TEST_CASE(transfer_codings_other_than_chunked_are_refused_and_close)
{
    std::atomic<int> served{0};
    test::test_server s([&](asioctx::context, asioctx::http::incoming& in) -> asio::awaitable<asioctx::http::response> {
        ++served;
        co_return asioctx::http::make_response(in.header(), bhttp::status::ok, "served");
    });
    for(auto [coding, status] : {std::pair{"gzip", 501}, std::pair{"xchunked", 501}, std::pair{"chunked, gzip", 501},
            std::pair{"identity", 501}, std::pair{"gzip, chunked", 501}})
    {
        BOOST_TEST_CONTEXT(coding)
        {
            client c(s.port());
            c.send_raw(std::string("POST / HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer x\r\nTransfer-Encoding: ") +
                coding + "\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n");
            BOOST_TEST(c.read_response().result_int() == status);
            BOOST_TEST(c.closed_by_server());
        }
    }
    for(std::string fields : {"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n",
            "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"})
    {
        client c(s.port());
        c.send_raw("POST / HTTP/1.1\r\nHost: t\r\n" + fields + "\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n");
        BOOST_TEST(c.read_response().result_int() == 400);
        BOOST_TEST(c.closed_by_server());
    }
    BOOST_TEST(served.load() == 0);
}

BOOST_AUTO_TEST_CASE(a_request_without_one_host_gets_400)
{
    test::test_server s(hello());
    for(std::string head : {"GET / HTTP/1.1\r\n", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n"})
    {
        client c(s.port());
        c.send_raw(head + "\r\n");
        BOOST_TEST(c.read_response().result_int() == 400);
        BOOST_TEST(c.closed_by_server());
    }
    client c(s.port());
    c.send_raw("GET /old HTTP/1.0\r\n\r\n"); // HTTP/1.0 needs no Host
    auto r = c.read_response();
    BOOST_TEST(r.result_int() == 200);
    BOOST_TEST(r.body() == "hello /old");
}

// HEAD is answered with the header a GET would have and no body: the next response on
// the connection starts where it should.
BOOST_AUTO_TEST_CASE(head_gets_the_header_only)
{
    test::test_server s(hello());
    client c(s.port());
    c.send_raw("HEAD /x HTTP/1.1\r\nHost: t\r\n\r\nGET /y HTTP/1.1\r\nHost: t\r\n\r\n");
    bhttp::response_parser<bhttp::string_body> head;
    head.skip(true);
    bhttp::read(c.socket, c.buffer, head);
    BOOST_TEST(head.get().result_int() == 200);
    BOOST_TEST(head.get()[bhttp::field::content_length] == std::to_string(std::string("hello /x").size()));
    auto next = c.read_response();
    BOOST_TEST(next.result_int() == 200);
    BOOST_TEST(next.body() == "hello /y");
}

// Whatever middleware is in the chain, a body that cannot be read is answered as what
// went wrong, and the connection closed.
BOOST_AUTO_TEST_CASE(body_errors_get_413_400_or_408_through_any_chain)
{
    asioctx::http::server_options o;
    o.body_limit = 8;
    o.body_timeout = 200ms;
    std::mutex mutex;
    std::vector<std::string> lines;
    auto echo = [](asioctx::context, asioctx::http::incoming& in) -> asio::awaitable<asioctx::http::response> {
        auto body = co_await in.body();
        co_return asioctx::http::make_response(in.header(), bhttp::status::ok, std::string(body));
    };
    test::test_server s(asioctx::http::chain(asioctx::http::request_ids(),
                            asioctx::http::access_log([&](std::string_view l) {
                                std::lock_guard<std::mutex> g(mutex);
                                lines.emplace_back(l);
                            }),
                            echo),
        o);
    struct
    {
        std::string bytes;
        int status;
    } const cases[] = {
        {"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n", 413},
        {"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nab", 408},
    };
    for(auto const& k : cases)
    {
        BOOST_TEST_CONTEXT(k.status)
        {
            client c(s.port());
            c.send_raw(k.bytes);
            auto r = c.read_response();
            BOOST_TEST(r.result_int() == k.status);
            BOOST_TEST(c.closed_by_server());
            std::lock_guard<std::mutex> g(mutex);
            BOOST_REQUIRE(!lines.empty());
            BOOST_TEST(lines.back().find(" status=" + std::to_string(k.status) + " ") != std::string::npos, lines.back());
        }
    }
}

// `Expect: 100-continue`: the interim answer goes out when the handler asks for the
// body, and never when it answers first.
BOOST_AUTO_TEST_CASE(expect_continue_is_answered_when_the_body_is_wanted)
{
    test::test_server s([](asioctx::context, asioctx::http::incoming& in) -> asio::awaitable<asioctx::http::response> {
        if(in.header().target() == "/refuse")
            co_return asioctx::http::make_response(in.header(), bhttp::status::unauthorized, "no");
        auto body = co_await in.body();
        co_return asioctx::http::make_response(in.header(), bhttp::status::ok, "got " + std::string(body));
    });
    {
        client c(s.port());
        c.send_raw("POST /take HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
        asio::streambuf interim;
        asio::read_until(c.socket, interim, "\r\n\r\n");
        std::string const first(asio::buffers_begin(interim.data()), asio::buffers_end(interim.data()));
        BOOST_TEST(first == "HTTP/1.1 100 Continue\r\n\r\n");
        c.send_raw("body");
        auto r = c.read_response();
        BOOST_TEST(r.result_int() == 200);
        BOOST_TEST(r.body() == "got body");
    }
    {
        client c(s.port());
        c.send_raw("POST /refuse HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
        auto r = c.read_response(); // a 100 here would fail to parse as the final answer
        BOOST_TEST(r.result_int() == 401);
        BOOST_TEST(c.closed_by_server()); // the body was never read
    }
}

// A client that half-closes after its request: its handler's context is cancelled (as
// Go's net/http does), and the handler's answer is still written, then the connection
// closed.
BOOST_AUTO_TEST_CASE(a_client_that_half_closes_still_gets_the_answer)
{
    std::promise<error_code> cause;
    test::test_server s([&](asioctx::context ctx, asioctx::http::incoming& in) -> asio::awaitable<asioctx::http::response> {
        co_await asioctx::async_sleep(ctx, 10s, asio::as_tuple(asio::use_awaitable));
        cause.set_value(asioctx::cause(ctx));
        co_return asioctx::http::make_response(in.header(), bhttp::status::ok, "answer");
    });
    client c(s.port());
    c.send_raw("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    c.socket.shutdown(tcp::socket::shutdown_send);
    auto r = c.read_response();
    BOOST_TEST(r.result_int() == 200);
    BOOST_TEST(r.body() == "answer");
    BOOST_TEST(!r.keep_alive());
    BOOST_TEST((cause.get_future().get() == asioctx::http::error::client_disconnected));
}

// A client that goes away while a large response is written: the write ends at once, not
// at the write timeout, and the server can shut down without waiting for it.
BOOST_AUTO_TEST_CASE(a_client_leaving_during_a_large_response_ends_the_write)
{
    asioctx::http::server_options o;
    o.write_timeout = 60s;
    std::promise<void> answered;
    auto s = std::make_unique<test::test_server>(
        [&](asioctx::context, asioctx::http::incoming& in) -> asio::awaitable<asioctx::http::response> {
            answered.set_value();
            co_return asioctx::http::make_response(in.header(), bhttp::status::ok, std::string(32 * 1024 * 1024, 'z'));
        },
        o);
    {
        client c(s->port());
        c.send_raw("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
        answered.get_future().wait();
        char some[4096];
        asio::read(c.socket, asio::buffer(some)); // the write has begun
    } // the client closes with bytes unread: a reset
    auto const start = clock_type::now();
    s.reset(); // stops the server and joins it
    BOOST_TEST((clock_type::now() - start < 5s));
}

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
    test::io_thread runner(ioc);

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
