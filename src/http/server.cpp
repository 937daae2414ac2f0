//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//
// The server: an accept loop, one coroutine per connection (a task of a group, on its
// own strand), a context per request cancelled when the client goes away.
//
// Three contexts: `accept_ctx` ends at stop() and bounds the listener and the wait for
// each next request (so idle connections close at once); `requests_ctx` is the parent of
// every request's context and ends only when the grace period is over; each request's own
// context ends when its connection's background read sees the client leave.

#include <asioctx/asio/after_func.hpp>
#include <asioctx/asio/bind.hpp>
#include <asioctx/core/cancel.hpp>
#include <asioctx/asio/deadline.hpp>
#include <asioctx/asio/executor.hpp>
#include <asioctx/sync/group.hpp>
#include <asioctx/http/error.hpp>
#include <asioctx/http/server.hpp>
#include <asioctx/sync/semaphore.hpp>
#include <asioctx/asio/sleep.hpp>
#include <asioctx/core/without_cancel.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <atomic>
#include <optional>
#include <sstream>

namespace asioctx::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

response make_response(request_header const& req, bhttp::status status, std::string body)
{
    response res(status, req.version());
    res.set(bhttp::field::content_type, "text/plain; charset=utf-8");
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
}

namespace {

error_code shutdown_cause() noexcept
{
    static constexpr auto loc = BOOST_CURRENT_LOCATION;
    return make_error_code(error::server_shutdown, &loc);
}

} // namespace

struct server::state
{
    state(asio::any_io_executor executor, context const& parent, handler handler_fn, server_options opts)
        : ex(std::move(executor))
        , options(opts)
        , h(std::move(handler_fn))
        , acceptor(ex)
    {
        auto const root = asioctx::detail::carrying_executor(parent, ex);
        auto a = with_cancel(root);
        accept_ctx = std::move(a.ctx);
        accept_cancel = std::move(a.cancel);
        // Values of the parent, none of its cancellation: in-flight requests outlive a
        // cancelled parent by the grace period.
        auto r = with_cancel(without_cancel(root));
        requests_ctx = std::move(r.ctx);
        requests_cancel = std::move(r.cancel);
    }

    asio::any_io_executor ex;
    server_options options;
    handler h;
    tcp::acceptor acceptor;
    context accept_ctx;
    cancel_handle accept_cancel;
    context requests_ctx;
    cancel_handle requests_cancel;
    after_func_handle parent_watch;
    asio::ssl::context* tls = nullptr; // owned by the user
    std::atomic<std::size_t> connections{0};
};

namespace {

std::string peer_of(tcp::socket const& s)
{
    error_code ec;
    auto ep = s.remote_endpoint(ec);
    if(ec)
        return "unknown";
    std::ostringstream out;
    out << ep;
    return out.str();
}

asio::awaitable<void> serve_connection(std::shared_ptr<server::state> st, tcp::socket socket)
{
    std::string const peer = peer_of(socket);
    error_code ignored;
    if(!st->tls)
    {
        // Responses are written at once when the kernel takes them (serve_session).
        socket.non_blocking(true, ignored);
        co_await serve_session(socket, st->accept_ctx, st->requests_ctx, st->h, st->options, peer);
        socket.shutdown(tcp::socket::shutdown_send, ignored);
        socket.close(ignored);
        co_return;
    }
    auto const ex = co_await asio::this_coro::executor;
    beast::ssl_stream<tcp::socket> stream(std::move(socket), *st->tls);
    // The handshake is part of the first request's header deadline, and ends with the server.
    // (Beast 1.81's ssl_stream takes only tokens with a return_type: no as_tuple.)
    bool handshaken = false;
    try
    {
        auto deadline = with_timeout(ex, st->accept_ctx, st->options.header_timeout);
        co_await stream.async_handshake(asio::ssl::stream_base::server, asioctx::bind(deadline.ctx, asio::use_awaitable));
        handshaken = true;
    }
    catch(boost::system::system_error const&)
    {
    }
    if(handshaken)
    {
        co_await serve_session(stream, st->accept_ctx, st->requests_ctx, st->h, st->options, peer);
        try
        {
            auto deadline = with_timeout(ex, background(), st->options.write_timeout);
            co_await stream.async_shutdown(asioctx::bind(deadline.ctx, asio::use_awaitable));
        }
        catch(boost::system::system_error const&)
        {
        }
    }
    stream.next_layer().close(ignored);
}

} // namespace

server::server(asio::any_io_executor ex, context const& parent, handler h, server_options options)
    : state_(std::make_shared<state>(std::move(ex), parent, std::move(h), options))
{
    if(parent.can_be_done())
    {
        // The parent ending starts the same graceful shutdown as stop().
        std::weak_ptr<state> weak = state_;
        state_->parent_watch = after_func(state_->ex, parent, [weak] {
            if(auto s = weak.lock())
                s->accept_cancel(shutdown_cause());
        });
    }
}

server::server(asio::any_io_executor ex, context const& parent, handler h, asio::ssl::context& tls,
    server_options options)
    : server(std::move(ex), parent, std::move(h), options)
{
    state_->tls = &tls;
}

server::~server()
{
    state_->parent_watch.stop();
    state_->accept_cancel(shutdown_cause());
    state_->requests_cancel(shutdown_cause());
}

void server::listen(tcp::endpoint const& endpoint)
{
    auto& a = state_->acceptor;
    a.open(endpoint.protocol());
    a.set_option(asio::socket_base::reuse_address(true));
    a.bind(endpoint);
    a.listen(asio::socket_base::max_listen_connections);
}

tcp::endpoint server::local_endpoint() const
{
    return state_->acceptor.local_endpoint();
}

void server::stop() noexcept
{
    state_->accept_cancel(shutdown_cause());
}

std::size_t server::connections() const noexcept
{
    return state_->connections.load(std::memory_order_relaxed);
}

asio::any_io_executor const& server::executor() const noexcept
{
    return state_->ex;
}

asio::awaitable<void> server::run()
{
    auto st = state_;
    auto const& options = st->options;
    semaphore slots(st->ex, options.max_connections);
    group connections(st->ex, background());
    for(;;)
    {
        auto [slot_ec] = co_await slots.async_acquire(st->accept_ctx, 1, asio::as_tuple(asio::use_awaitable));
        if(slot_ec)
            break;
        auto [ec, socket] =
            co_await st->acceptor.async_accept(asioctx::bind(st->accept_ctx, asio::as_tuple(asio::use_awaitable)));
        if(ec)
        {
            slots.release(1);
            if(st->accept_ctx.done())
                break;
            // Out of descriptors or an aborted handshake: the loop never spins on it.
            co_await async_sleep(st->accept_ctx, std::chrono::milliseconds(10), asio::as_tuple(asio::use_awaitable));
            continue;
        }
        st->connections.fetch_add(1, std::memory_order_relaxed);
        connections.spawn([st, &slots, s = std::move(socket)](context) mutable -> asio::awaitable<void> {
            co_await serve_connection(st, std::move(s));
            st->connections.fetch_sub(1, std::memory_order_relaxed);
            slots.release(1);
        });
    }
    error_code ignored;
    st->acceptor.close(ignored);

    // In-flight requests may finish during the grace period; then they are cancelled.
    asio::steady_timer grace(st->ex, options.shutdown_grace);
    grace.async_wait([st](error_code ec) {
        if(!ec)
            st->requests_cancel(shutdown_cause());
    });
    co_await connections.async_wait(asio::as_tuple(asio::use_awaitable));
    grace.cancel();
}

} // namespace asioctx::http
