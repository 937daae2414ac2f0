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

#include <asioctx/after_func.hpp>
#include <asioctx/bind.hpp>
#include <asioctx/cancel.hpp>
#include <asioctx/executor.hpp>
#include <asioctx/group.hpp>
#include <asioctx/http/error.hpp>
#include <asioctx/http/server.hpp>
#include <asioctx/semaphore.hpp>
#include <asioctx/sleep.hpp>
#include <asioctx/without_cancel.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
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

context carrying(context const& parent, asio::any_io_executor const& ex)
{
    auto carried = executor_of(parent);
    return carried && *carried == ex ? parent : with_executor(parent, ex);
}

error_code shutdown_cause() noexcept
{
    static constexpr auto loc = BOOST_CURRENT_LOCATION;
    return make_error_code(error::server_shutdown, &loc);
}

error_code disconnect_cause() noexcept
{
    static constexpr auto loc = BOOST_CURRENT_LOCATION;
    return make_error_code(error::client_disconnected, &loc);
}

bool is_bad_request(error_code const& ec) noexcept
{
    // Beast's parse errors, apart from a peer that simply went away.
    return ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category() &&
        ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message;
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
        auto const root = carrying(parent, ex);
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

// The request as the handler sees it, and the background read that notices the client
// leaving. Lives in the connection's coroutine frame; everything runs on its strand.
template<class Stream>
class request_state final : public incoming
{
public:
    request_state(Stream& stream, beast::flat_buffer& buffer,
        bhttp::request_parser<bhttp::string_body>& parser, context ctx, cancel_handle& cancel,
        server_options const& options, std::string const& peer, asio::any_io_executor strand)
        : stream_(stream)
        , buffer_(buffer)
        , parser_(parser)
        , ctx_(std::move(ctx))
        , cancel_(cancel)
        , options_(options)
        , peer_(peer)
        , strand_(std::move(strand))
        , watch_done_(strand_)
    {
    }

    request_header const& header() const noexcept override
    {
        return parser_.get().base();
    }

    std::string const& peer() const noexcept override
    {
        return peer_;
    }

    asio::awaitable<std::string_view> body() override
    {
        if(!parser_.is_done())
        {
            if(body_error_)
                throw boost::system::system_error(body_error_);
            beast::get_lowest_layer(stream_).expires_after(options_.body_timeout);
            auto [ec, n] = co_await bhttp::async_read(
                stream_, buffer_, parser_, asioctx::bind(ctx_, asio::as_tuple(asio::use_awaitable)));
            beast::get_lowest_layer(stream_).expires_never();
            if(ec)
            {
                body_error_ = ec;
                throw boost::system::system_error(ec);
            }
            start_watch();
        }
        co_return std::string_view(parser_.get().body());
    }

    bool body_complete() const noexcept
    {
        return parser_.is_done();
    }

    error_code const& body_error() const noexcept
    {
        return body_error_;
    }

    bool disconnected() const noexcept
    {
        return disconnected_;
    }

    // The client is watched from the moment the request is complete: one small read in
    // the background. End-of-stream or an error cancels the request's context; bytes
    // (a pipelined request) are kept for the next request and end the watch.
    void start_watch()
    {
        if(watching_ || pipelined_)
            return;
        auto const room = buffer_.max_size() - buffer_.size();
        if(room == 0)
            return;
        watching_ = true;
        stream_.async_read_some(buffer_.prepare((std::min)(room, std::size_t(512))),
            asio::bind_cancellation_slot(watch_signal_.slot(),
                asio::bind_executor(strand_, [this](error_code ec, std::size_t n) {
                    if(!ec)
                    {
                        buffer_.commit(n);
                        pipelined_ = true;
                    }
                    else if(ec != asio::error::operation_aborted)
                    {
                        disconnected_ = true;
                        cancel_(disconnect_cause());
                    }
                    watching_ = false;
                    watch_done_.cancel();
                })));
    }

    // Ends the watch and waits for its read to complete (it refers to this object).
    asio::awaitable<void> stop_watch()
    {
        if(watching_)
            watch_signal_.emit(asio::cancellation_type::terminal);
        while(watching_)
        {
            watch_done_.expires_at(asio::steady_timer::time_point::max());
            co_await watch_done_.async_wait(asio::as_tuple(asio::use_awaitable));
        }
    }

private:
    Stream& stream_;
    beast::flat_buffer& buffer_;
    bhttp::request_parser<bhttp::string_body>& parser_;
    context ctx_;
    cancel_handle& cancel_;
    server_options const& options_;
    std::string const& peer_;
    asio::any_io_executor strand_;
    asio::steady_timer watch_done_;
    asio::cancellation_signal watch_signal_;
    error_code body_error_;
    bool watching_ = false;
    bool pipelined_ = false;
    bool disconnected_ = false;
};

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

// Writes a final response on a connection about to close.
template<class Stream>
asio::awaitable<void> reply_and_close(Stream& stream, bhttp::status status, std::string text,
    server_options const& options)
{
    request_header req;
    req.version(11);
    auto res = make_response(req, status, std::move(text));
    res.keep_alive(false);
    beast::get_lowest_layer(stream).expires_after(options.write_timeout);
    co_await bhttp::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
}

// The request loop of one connection, plain or TLS.
template<class Stream>
asio::awaitable<void> serve_requests(server::state& st, Stream& stream, std::string const& peer)
{
    auto const& options = st.options;
    auto const strand = co_await asio::this_coro::executor;
    auto& tcp_layer = beast::get_lowest_layer(stream);
    // Room for one header plus what a client may send ahead: pipelining is bounded.
    beast::flat_buffer buffer(options.header_limit + options.pipeline_limit);
    bool first = true;
    for(;;)
    {
        bhttp::request_parser<bhttp::string_body> parser;
        parser.header_limit(static_cast<std::uint32_t>((std::min<std::size_t>)(options.header_limit, UINT32_MAX)));
        parser.body_limit(options.body_limit);
        // Armed once for the whole header: a client sending a byte at a time gains nothing.
        tcp_layer.expires_after(first ? options.header_timeout : options.idle_timeout);
        auto [ec, n] = co_await bhttp::async_read_header(
            stream, buffer, parser, asioctx::bind(st.accept_ctx, asio::as_tuple(asio::use_awaitable)));
        tcp_layer.expires_never();
        first = false;
        if(ec)
        {
            if(ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow)
                co_await reply_and_close(stream, bhttp::status::request_header_fields_too_large,
                    "request header too large\n", options);
            else if(ec == bhttp::error::body_limit) // a Content-Length over the limit
                co_await reply_and_close(stream, bhttp::status::payload_too_large, "request body too large\n", options);
            else if(is_bad_request(ec))
                co_await reply_and_close(stream, bhttp::status::bad_request, "bad request\n", options);
            co_return; // otherwise: the client left, a deadline passed, or the server stops
        }

        auto [ctx, cancel] = with_cancel(st.requests_ctx);
        request_state<Stream> req(stream, buffer, parser, ctx, cancel, options, peer, strand);
        if(parser.is_done())
            req.start_watch();
        std::optional<response> res;
        try
        {
            res.emplace(co_await st.h(ctx, req));
        }
        catch(...)
        {
            // Below: 413 for an oversized body, 500 for anything else.
        }
        co_await req.stop_watch();
        if(req.disconnected())
            co_return;
        if(!res)
        {
            if(req.body_error() == bhttp::error::body_limit)
            {
                co_await reply_and_close(stream, bhttp::status::payload_too_large, "request body too large\n", options);
                co_return;
            }
            res.emplace(make_response(parser.get().base(), bhttp::status::internal_server_error, "internal error\n"));
        }
        // A body the handler did not read is still on the wire: the connection cannot
        // carry another request.
        bool const keep = parser.get().keep_alive() && req.body_complete() && !st.accept_ctx.done();
        res->keep_alive(keep);
        res->prepare_payload();
        tcp_layer.expires_after(options.write_timeout);
        auto [wec, wn] = co_await bhttp::async_write(stream, *res, asio::as_tuple(asio::use_awaitable));
        tcp_layer.expires_never();
        if(wec || !keep)
            co_return;
    }
}

asio::awaitable<void> serve_connection(std::shared_ptr<server::state> st, tcp::socket socket)
{
    std::string const peer = peer_of(socket);
    error_code ignored;
    if(!st->tls)
    {
        beast::tcp_stream stream(std::move(socket));
        co_await serve_requests(*st, stream, peer);
        stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
        stream.socket().close(ignored);
        co_return;
    }
    beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), *st->tls);
    // The handshake is part of the first request's header deadline.
    beast::get_lowest_layer(stream).expires_after(st->options.header_timeout);
    // (Beast 1.81's ssl_stream takes only tokens with a return_type: no as_tuple.)
    bool handshaken = false;
    try
    {
        co_await stream.async_handshake(
            asio::ssl::stream_base::server, asioctx::bind(st->accept_ctx, asio::use_awaitable));
        handshaken = true;
    }
    catch(boost::system::system_error const&)
    {
    }
    if(handshaken)
    {
        co_await serve_requests(*st, stream, peer);
        beast::get_lowest_layer(stream).expires_after(st->options.write_timeout);
        try
        {
            co_await stream.async_shutdown(asio::use_awaitable);
        }
        catch(boost::system::system_error const&)
        {
        }
    }
    beast::get_lowest_layer(stream).socket().close(ignored);
}

} // namespace

server::server(asio::any_io_executor ex, context const& parent, handler h, server_options options)
    : state_(std::make_shared<state>(std::move(ex), parent, std::move(h), options))
{
    if(parent.native_state()->kind_ != asioctx::detail::node_kind::never)
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
