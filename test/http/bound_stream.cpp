// Tests for <asioctx/asio/bound_stream.hpp> with Beast: HTTP reads and writes over plain
// and TLS streams against fast peers on loopback, repeated, with a deadline
// or a cancel from another thread. Each try must end on time: with the context's error,
// or successfully before the context was done. Asio's own composed operations, which
// keep a cancellation state, are kept as guards for plain `bind`.
#include <asioctx/asio/after_func.hpp>
#include <asioctx/asio/bind.hpp>
#include <asioctx/asio/bound_stream.hpp>
#include <asioctx/core/cancel.hpp>
#include <asioctx/asio/deadline.hpp>

#include "certificate.hpp"
#include "servers.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/span_body.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
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

constexpr int tries = 200;
constexpr std::size_t big = 16 * 1024 * 1024;
// A try ends on time when it ends with the context's error (within a generous bound: a
// loaded machine), or successfully no later than `success_slack` after the context was
// done (the last step raced the cancellation). Without the stream-level binding most
// transfers completed successfully 76-112 ms after the deadline.
constexpr auto error_slack = 1s;
constexpr auto success_slack = 20ms;

std::string const& big_body()
{
    static std::string const body(big, 'x');
    return body;
}

// Writes on loopback are faster than reads: four times as much, so that 2 ms is not enough.
std::string const& bigger_body()
{
    static std::string const body(4 * big, 'x');
    return body;
}

// A peer that sends a 16 MB response as fast as it can, to whoever connects.
test::raw_server fast_sender()
{
    return test::raw_server([](tcp::socket& s) {
        std::string const head = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(big) + "\r\n\r\n";
        error_code ec;
        asio::write(s, asio::buffer(head), ec);
        if(!ec)
            asio::write(s, asio::buffer(big_body()), ec);
    });
}

// A peer that reads and discards everything until the connection ends.
test::raw_server fast_reader()
{
    return test::raw_server([](tcp::socket& s) {
        static thread_local char sink[64 * 1024];
        error_code ec;
        while(!ec)
            s.read_some(asio::buffer(sink), ec);
    });
}

struct tally
{
    int on_time = 0;
    int by_context = 0;
};

// One try: `prepare(ioc)` connects and builds the exchange (untimed), and returns
// `go(ctx, done)`, which starts it. The try runs it with a context that a deadline (or,
// when `from_thread` is set, another thread) ends, and checks the end.
//
// A successful end is on time when it came no later than `success_slack` after the
// context was done *and* after the io thread learned it (an `after_func` on the same
// io_context): on a loaded machine the thread may be descheduled past the deadline, and
// the last step then legitimately completes before the cancellation reaches it. Without
// the stream-level binding, transfers went on for tens of milliseconds after both.
template<class Prepare>
void one_try(asio::io_context& ioc, tally& t, error_code expected, std::chrono::milliseconds after, bool from_thread,
    Prepare prepare)
{
    auto go = prepare(ioc);
    std::optional<asioctx::cancellable> c;
    auto const begun = clock_type::now();
    if(from_thread)
        c.emplace(asioctx::with_cancel(asioctx::background()));
    else
        c.emplace(asioctx::with_timeout(ioc.get_executor(), asioctx::background(), after));
    std::optional<clock_type::time_point> seen;
    auto const watch = asioctx::after_func(ioc.get_executor(), c->ctx, [&] { seen = clock_type::now(); });
    std::optional<error_code> result;
    clock_type::time_point ended;
    go(c->ctx, [&](error_code ec) {
        result = ec;
        ended = clock_type::now();
    });
    // When the context was done: the deadline, or the moment the other thread cancelled
    // (its sleep may overrun on a loaded machine).
    auto done_at = begun + after;
    std::optional<std::jthread> canceller;
    if(from_thread)
        canceller.emplace([&] {
            std::this_thread::sleep_for(after);
            done_at = clock_type::now();
            c->cancel();
        });
    ioc.run_for(20s);
    canceller.reset(); // joins: `done_at` is read after
    BOOST_REQUIRE(result);
    ioc.restart();
    bool const by_context = *result == expected;
    bool const on_time = by_context
        ? ended < done_at + error_slack
        : (!*result && (!seen || ended <= std::max(done_at, *seen) + success_slack));
    t.by_context += by_context;
    t.on_time += on_time;
    if(!on_time)
        BOOST_TEST_MESSAGE("late: " << result->message() << " after "
                                    << std::chrono::duration_cast<std::chrono::milliseconds>(ended - begun).count()
                                    << " ms");
}

template<class Prepare>
void one_try(tally& t, error_code expected, std::chrono::milliseconds after, bool from_thread, Prepare prepare)
{
    asio::io_context ioc;
    one_try(ioc, t, expected, after, from_thread, std::move(prepare));
}

// `tries` tries of `prepare`: every one ends on time, and nearly all by the context (the
// transfer is too large to finish first).
template<class Prepare>
void all_on_time(error_code expected, std::chrono::milliseconds after, bool from_thread, Prepare prepare)
{
    tally t;
    for(int i = 0; i < tries; ++i)
        one_try(t, expected, after, from_thread, prepare);
    BOOST_TEST_MESSAGE(t.on_time << " of " << tries << " on time, " << t.by_context << " by the context");
    BOOST_TEST(t.on_time == tries);
    BOOST_TEST(t.by_context >= tries * 9 / 10);
}

// A Beast read of the whole response, every step bound at the stream.
auto beast_read(unsigned short port)
{
    return [port](asio::io_context& ioc) {
        struct exchange
        {
            explicit exchange(asio::io_context& ioc)
                : socket(ioc)
            {
            }
            tcp::socket socket;
            boost::beast::flat_buffer buffer;
            bhttp::response_parser<bhttp::string_body> parser;
            std::optional<asioctx::bound_stream<tcp::socket>> stream;
        };
        auto x = std::make_shared<exchange>(ioc);
        x->socket.connect({asio::ip::address_v4::loopback(), port});
        x->parser.body_limit(2 * big);
        return [x](asioctx::context const& ctx, auto done) {
            x->stream.emplace(ctx, x->socket);
            bhttp::async_read(*x->stream, x->buffer, x->parser, [x, done](error_code ec, std::size_t) { done(ec); });
        };
    };
}

// A Beast write of a 64 MB request, every step bound at the stream.
auto beast_write(unsigned short port)
{
    return [port](asio::io_context& ioc) {
        struct exchange
        {
            explicit exchange(asio::io_context& ioc)
                : socket(ioc)
            {
            }
            tcp::socket socket;
            // A view of the one 64 MB body: a copy per try cost seconds per case.
            bhttp::request<bhttp::span_body<char const>> req{bhttp::verb::post, "/", 11};
            std::optional<bhttp::request_serializer<bhttp::span_body<char const>>> serializer;
            std::optional<asioctx::bound_stream<tcp::socket>> stream;
        };
        auto x = std::make_shared<exchange>(ioc);
        x->socket.connect({asio::ip::address_v4::loopback(), port});
        x->req.set(bhttp::field::host, "t");
        x->req.body() = {bigger_body().data(), bigger_body().size()};
        x->req.prepare_payload();
        // Steps of 64 KiB: one unbounded send to a fast reader on loopback can move the
        // whole body in one system call, which nothing can cancel; the steps are what is tested.
        x->serializer.emplace(x->req);
        x->serializer->limit(64 * 1024);
        return [x](asioctx::context const& ctx, auto done) {
            x->stream.emplace(ctx, x->socket);
            bhttp::async_write(*x->stream, *x->serializer, [x, done](error_code ec, std::size_t) { done(ec); });
        };
    };
}

} // namespace

BOOST_AUTO_TEST_SUITE(http_bound_stream)

BOOST_AUTO_TEST_CASE(beast_read_from_a_fast_server_ends_at_the_deadline)
{
    auto server = fast_sender();
    all_on_time(asioctx::error::deadline_exceeded, 2ms, false, beast_read(server.port()));
}

BOOST_AUTO_TEST_CASE(beast_read_from_a_fast_server_ends_at_a_cancel_from_another_thread)
{
    auto server = fast_sender();
    all_on_time(asioctx::error::canceled, 1ms, true, beast_read(server.port()));
}

BOOST_AUTO_TEST_CASE(beast_write_to_a_fast_reader_ends_at_the_deadline)
{
    auto server = fast_reader();
    all_on_time(asioctx::error::deadline_exceeded, 2ms, false, beast_write(server.port()));
}

BOOST_AUTO_TEST_CASE(beast_write_to_a_fast_reader_ends_at_a_cancel_from_another_thread)
{
    auto server = fast_reader();
    all_on_time(asioctx::error::canceled, 1ms, true, beast_write(server.port()));
}

// Asio's own composed operations keep a cancellation state: plain `bind` on them ends
// them on time, before and after the stream-level binding existed.
BOOST_AUTO_TEST_CASE(asio_composed_operations_with_plain_bind_end_at_the_deadline)
{
    auto sender = fast_sender();
    auto reader = fast_reader();
    tally reads, writes;
    for(int i = 0; i < 50; ++i)
    {
        one_try(reads, asioctx::error::deadline_exceeded, 2ms, false,
            [port = sender.port()](asio::io_context& ioc) {
                auto s = std::make_shared<tcp::socket>(ioc);
                s->connect({asio::ip::address_v4::loopback(), port});
                auto in = std::make_shared<std::string>(big + 64, '\0');
                return [s, in](asioctx::context const& ctx, auto done) {
                    asio::async_read(*s, asio::buffer(*in),
                        asioctx::bind(ctx, [s, in, done](error_code ec, std::size_t) { done(ec); }));
                };
            });
        one_try(writes, asioctx::error::deadline_exceeded, 2ms, false,
            [port = reader.port()](asio::io_context& ioc) {
                auto s = std::make_shared<tcp::socket>(ioc);
                s->connect({asio::ip::address_v4::loopback(), port});
                return [s](asioctx::context const& ctx, auto done) {
                    asio::async_write(*s, asio::buffer(big_body()),
                        asioctx::bind(ctx, [s, done](error_code ec, std::size_t) { done(ec); }));
                };
            });
    }
    BOOST_TEST(reads.on_time == 50);
    BOOST_TEST(writes.on_time == 50);
}

// TLS: Beast's read and write over an ssl::stream, the ssl::stream bound at the top.
BOOST_AUTO_TEST_CASE(tls_read_and_write_end_at_the_deadline)
{
    auto [cert, key] = test::self_signed_localhost();
    asio::ssl::context server_tls(asio::ssl::context::tls_server);
    server_tls.use_certificate_chain(asio::buffer(cert));
    server_tls.use_private_key(asio::buffer(key), asio::ssl::context::pem);
    asio::ssl::context client_tls(asio::ssl::context::tls_client);
    client_tls.add_certificate_authority(asio::buffer(cert));
    client_tls.set_verify_mode(asio::ssl::verify_peer);

    // Sends 16 MB after the handshake, or reads everything, as the first byte it gets says.
    test::raw_server peer([&](tcp::socket& s) {
        asio::ssl::stream<tcp::socket> tls(std::move(s), server_tls);
        error_code ec;
        tls.handshake(asio::ssl::stream_base::server, ec);
        char mode = 0;
        if(!ec)
            asio::read(tls, asio::buffer(&mode, 1), ec);
        if(ec)
            return;
        if(mode == 'r')
        {
            std::string const head = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(big) + "\r\n\r\n";
            asio::write(tls, asio::buffer(head), ec);
            if(!ec)
                asio::write(tls, asio::buffer(big_body()), ec);
        }
        else
        {
            static thread_local char sink[64 * 1024];
            while(!ec)
                tls.read_some(asio::buffer(sink), ec);
        }
    });

    struct exchange
    {
        exchange(asio::io_context& ioc, asio::ssl::context& tls)
            : stream(ioc, tls)
        {
        }
        asio::ssl::stream<tcp::socket> stream;
        boost::beast::flat_buffer buffer;
        bhttp::response_parser<bhttp::string_body> parser;
        bhttp::request<bhttp::string_body> req{bhttp::verb::post, "/", 11};
        std::optional<asioctx::bound_stream<asio::ssl::stream<tcp::socket>>> bound;
    };
    // Connected and handshaken before the clock starts: the exchange is what is timed.
    auto connect = [&](asio::io_context& ioc, char mode) {
        auto x = std::make_shared<exchange>(ioc, client_tls);
        x->stream.next_layer().connect({asio::ip::address_v4::loopback(), peer.port()});
        x->stream.handshake(asio::ssl::stream_base::client);
        asio::write(x->stream, asio::buffer(&mode, 1));
        return x;
    };
    tally reads, writes;
    for(int i = 0; i < 20; ++i)
    {
        {
            asio::io_context ioc;
            auto x = connect(ioc, 'r');
            x->parser.body_limit(2 * big);
            one_try(ioc, reads, asioctx::error::deadline_exceeded, 5ms, false, [&](asio::io_context&) {
                return [&](asioctx::context const& ctx, auto done) {
                    x->bound.emplace(ctx, x->stream);
                    bhttp::async_read(*x->bound, x->buffer, x->parser, [done](error_code ec, std::size_t) { done(ec); });
                };
            });
        }
        {
            asio::io_context ioc;
            auto x = connect(ioc, 'w');
            x->req.set(bhttp::field::host, "localhost");
            x->req.body() = big_body();
            x->req.prepare_payload();
            one_try(ioc, writes, asioctx::error::deadline_exceeded, 5ms, false, [&](asio::io_context&) {
                return [&](asioctx::context const& ctx, auto done) {
                    x->bound.emplace(ctx, x->stream);
                    bhttp::async_write(*x->bound, x->req, [done](error_code ec, std::size_t) { done(ec); });
                };
            });
        }
    }
    BOOST_TEST(reads.on_time == 20);
    BOOST_TEST(writes.on_time == 20);
}

BOOST_AUTO_TEST_SUITE_END()
