// Tests for <asioctx/asio/bound_stream.hpp>, and for what <asioctx/asio/bind.hpp> does for a
// composed operation that keeps no cancellation state: a cancellation that arrives
// between two of its steps is not lost.
#include <asioctx.hpp>
#include <asioctx/asio/bound_stream.hpp>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/test/unit_test.hpp>

#include <functional>
#include <optional>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
namespace asio = boost::asio;
using boost::system::error_code;
using tcp = asio::ip::tcp;

namespace {

// Two connected loopback sockets on one io_context.
struct socket_pair
{
    explicit socket_pair(asio::io_context& ioc)
        : a(ioc)
        , b(ioc)
    {
        tcp::acceptor acceptor(ioc, {asio::ip::address_v4::loopback(), 0});
        a.connect(acceptor.local_endpoint());
        acceptor.accept(b);
    }
    tcp::socket a, b;
};

// A composed read as Beast 1.81 writes its HTTP operations: each step is a read_some on
// the stream with the caller's cancellation slot, and nothing remembers a cancellation
// between steps. `between` runs after each step but the last, before the next starts.
template<class Stream, class Handler>
struct stateless_read_op
{
    Stream& stream;
    std::vector<char>& buffer;
    std::size_t step;
    std::size_t done;
    std::function<void(std::size_t)> between;
    Handler handler;

    using cancellation_slot_type = asio::associated_cancellation_slot_t<Handler>;
    cancellation_slot_type get_cancellation_slot() const noexcept
    {
        return asio::get_associated_cancellation_slot(handler);
    }
    using executor_type = asio::associated_executor_t<Handler, typename Stream::executor_type>;
    executor_type get_executor() const noexcept
    {
        return asio::get_associated_executor(handler, stream.get_executor());
    }

    void start()
    {
        stream.async_read_some(asio::buffer(buffer.data() + done, step), std::move(*this));
    }

    void operator()(error_code ec, std::size_t n)
    {
        done += n;
        if(ec || done == buffer.size())
        {
            std::move(handler)(ec, done);
            return;
        }
        if(between)
            between(done);
        start();
    }
};

// As Asio's own initiations do, it names the I/O executor: that is where a context's
// cancellation is delivered when the handler has no executor of its own.
template<class Stream>
struct initiate_stateless_read
{
    Stream& s;
    std::vector<char>& buffer;
    std::size_t step;
    std::function<void(std::size_t)> between;

    using executor_type = typename Stream::executor_type;
    executor_type get_executor() const noexcept
    {
        return s.get_executor();
    }

    template<class Handler>
    void operator()(Handler handler)
    {
        stateless_read_op<Stream, Handler>{s, buffer, step, 0, between, std::move(handler)}.start();
    }
};

template<class Stream, class Token>
auto async_stateless_read(Stream& s, std::vector<char>& buffer, std::size_t step,
    std::function<void(std::size_t)> between, Token&& token)
{
    return asio::async_initiate<Token, void(error_code, std::size_t)>(
        initiate_stateless_read<Stream>{s, buffer, step, std::move(between)}, token);
}

struct outcome
{
    std::optional<error_code> ec;
    std::size_t n = 0;
};

} // namespace

BOOST_AUTO_TEST_SUITE(bound_stream_suite)

// Without re-delivery the emit runs while no step is pending, is dropped, and the read
// waits for bytes that never come.
BOOST_AUTO_TEST_CASE(bind_redelivers_a_cancel_that_arrived_between_steps)
{
    asio::io_context ioc;
    socket_pair p(ioc);
    asio::write(p.b, asio::buffer(std::string(100, 'x')));
    auto c = asioctx::with_cancel(asioctx::background());
    std::vector<char> buffer(300);
    outcome out;
    async_stateless_read(p.a, buffer, 100, [&](std::size_t) { c.cancel(); },
        asioctx::bind(c.ctx, [&](error_code ec, std::size_t n) { out = {ec, n}; }));
    ioc.run_for(5s);
    BOOST_REQUIRE(out.ec);
    BOOST_TEST((*out.ec == asioctx::error::canceled));
    BOOST_TEST(out.n == 100u);
}

// The cancellation also comes from another thread while the reader is between steps.
BOOST_AUTO_TEST_CASE(bind_redelivers_a_cancel_from_another_thread)
{
    for(int round = 0; round < 50; ++round)
    {
        asio::io_context ioc;
        socket_pair p(ioc);
        asio::write(p.b, asio::buffer(std::string(100, 'x')));
        auto c = asioctx::with_cancel(asioctx::background());
        std::vector<char> buffer(300);
        outcome out;
        async_stateless_read(p.a, buffer, 100,
            [&](std::size_t) {
                std::jthread t([&] { c.cancel(); });
                t.join();
            },
            asioctx::bind(c.ctx, [&](error_code ec, std::size_t n) { out = {ec, n}; }));
        ioc.run_for(5s);
        BOOST_REQUIRE(out.ec);
        BOOST_TEST((*out.ec == asioctx::error::canceled));
    }
}

// Every step completes at once (the bytes are all there): no cancellation of a step can
// stop the operation, but the stream-level binding refuses the next step.
BOOST_AUTO_TEST_CASE(a_bound_stream_ends_a_composed_read_within_one_step)
{
    asio::io_context ioc;
    socket_pair p(ioc);
    asio::write(p.b, asio::buffer(std::string(1000, 'x')));
    auto c = asioctx::with_cancel(asioctx::background());
    auto s = asioctx::bind_stream(c.ctx, p.a);
    std::vector<char> buffer(1000);
    outcome out;
    std::size_t steps = 0;
    async_stateless_read(s, buffer, 100,
        [&](std::size_t) {
            if(++steps == 2)
                c.cancel();
        },
        [&](error_code ec, std::size_t n) { out = {ec, n}; });
    ioc.run_for(5s);
    BOOST_REQUIRE(out.ec);
    BOOST_TEST((*out.ec == asioctx::error::canceled));
    BOOST_TEST(out.n == 200u); // the step in progress completed; the third never started
}

BOOST_AUTO_TEST_CASE(a_bound_stream_of_a_done_context_never_starts_and_never_completes_inline)
{
    asio::io_context ioc;
    socket_pair p(ioc);
    asio::write(p.b, asio::buffer(std::string(10, 'x')));
    auto [ctx, cancel] =
        asioctx::with_deadline(ioc.get_executor(), asioctx::background(), std::chrono::steady_clock::now());
    auto s = asioctx::bind_stream(ctx, p.a);
    char c[10];
    std::optional<error_code> got;
    s.async_read_some(asio::buffer(c), [&](error_code ec, std::size_t) { got = ec; });
    BOOST_TEST(!got);
    ioc.run_for(5s);
    BOOST_REQUIRE(got);
    BOOST_TEST((*got == asioctx::error::deadline_exceeded));
    // The bytes are still there for whoever reads next.
    BOOST_TEST(p.a.available() == 10u);
}

BOOST_AUTO_TEST_CASE(a_bound_stream_cancels_a_pending_write_and_asio_read)
{
    asio::io_context ioc;
    socket_pair p(ioc);
    auto [ctx, cancel] = asioctx::with_timeout(ioc.get_executor(), asioctx::background(), 20ms);
    auto s = asioctx::bind_stream(ctx, p.a);
    // A write far larger than the socket buffers, to a peer that never reads.
    std::string big(64 * 1024 * 1024, 'x');
    std::optional<error_code> wrote;
    asio::async_write(s, asio::buffer(big), [&](error_code ec, std::size_t) { wrote = ec; });
    std::vector<char> in(10);
    std::optional<error_code> read;
    asio::async_read(s, asio::buffer(in), [&](error_code ec, std::size_t) { read = ec; });
    auto const start = std::chrono::steady_clock::now();
    ioc.run_for(10s);
    BOOST_REQUIRE(wrote);
    BOOST_REQUIRE(read);
    BOOST_TEST((*wrote == asioctx::error::deadline_exceeded));
    BOOST_TEST((*read == asioctx::error::deadline_exceeded));
    BOOST_TEST((std::chrono::steady_clock::now() - start < 5s));
}

BOOST_AUTO_TEST_CASE(next_layer_and_executor_are_the_streams)
{
    asio::io_context ioc;
    tcp::socket sock(ioc);
    auto s = asioctx::bind_stream(asioctx::background(), sock);
    BOOST_TEST(&s.next_layer() == &sock);
    BOOST_TEST((s.get_executor() == sock.get_executor()));
    BOOST_TEST(!s.ctx().done());
}

BOOST_AUTO_TEST_SUITE_END()
