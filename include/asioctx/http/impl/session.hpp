//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_HTTP_IMPL_SESSION_HPP
#define ASIOCTX_HTTP_IMPL_SESSION_HPP

#include <asioctx/asio/bind.hpp>
#include <asioctx/asio/bound_stream.hpp>
#include <asioctx/core/cancel.hpp>
#include <asioctx/asio/deadline.hpp>
#include <asioctx/http/error.hpp>
#include <asioctx/http/framing.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/basic_stream_socket.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/execution/blocking.hpp>
#include <boost/asio/require.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/system/system_error.hpp>

#include <algorithm>
#include <climits>
#include <memory>
#include <optional>
#include <tuple>
#include <type_traits>

namespace asioctx::http::detail {

inline boost::system::error_code disconnect_cause() noexcept
{
    static constexpr auto loc = BOOST_CURRENT_LOCATION;
    return make_error_code(error::client_disconnected, &loc);
}

inline bool is_bad_request(boost::system::error_code const& ec) noexcept
{
    namespace bhttp = boost::beast::http;
    // Beast's parse errors, apart from a peer that simply went away.
    return ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category() &&
        ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message;
}

// What a session's requests share: the read buffer and the watch on the client, a
// background read that notices the client leaving while a request is handled. Shared with
// that read's handler and with posted starts, so that both stay valid whatever the
// session does meanwhile (a stream without per-operation cancellation may complete the
// read after the session has returned). Everything runs on the session's executor.
//
// The watch, per request:
//
//   idle --start_watch--> start_posted --the posted start runs--> reading --read ends--> idle
//                             |                                       |
//                             +--detach_watch--> idle                 +--detach_watch: cancelled,
//                                                                        and waited for
//
// A handler that answers without waiting never starts the read (the start is posted and
// the detach drops it). The read's end is recorded in `pipelined` (bytes of the next
// request, kept in `buffer`) or `client_left` (end-of-stream or an error: the watched
// request's context is cancelled with client_disconnected, and the session ends). A read
// that cannot be cancelled stays pending after its request, and the session waits for it
// before reading the next request.
struct session_shared
{
    session_shared(boost::asio::any_io_executor ex, std::size_t buffer_limit)
        : executor(std::move(ex))
        , never_blocking(boost::asio::require(executor, boost::asio::execution::blocking.never))
        , buffer(buffer_limit)
    {
    }

    enum class watch : std::uint8_t
    {
        idle,         // no read of the client pending or queued
        start_posted, // a start is queued for request `start_for`
        reading,      // the background read is pending
    };

    boost::asio::any_io_executor const executor; // the session's: copied once, not per request
    // The same, for the watch's start: what asio::post would derive on each call.
    boost::asio::any_io_executor const never_blocking;
    boost::beast::flat_buffer buffer;
    watch state = watch::idle;
    std::uint64_t start_for = 0;                 // the request whose posted start may run
    cancel_handle* watched = nullptr;            // the request being watched, if any
    bool* watched_disconnected = nullptr;
    boost::asio::steady_timer* waiter = nullptr; // the session waits for the read to end
    boost::asio::cancellation_signal signal;
    bool cancellable = false; // the pending read has per-operation cancellation
    bool pipelined = false;   // the last read got bytes (a pipelined request)
    bool client_left = false; // the last read saw end-of-stream or an error
    bool half_closed = false; // ... and it was an orderly end-of-stream
};

// Waits until the background read has completed.
inline boost::asio::awaitable<void> read_finished(std::shared_ptr<session_shared> sh)
{
    namespace asio = boost::asio;
    if(sh->state != session_shared::watch::reading)
        co_return;
    asio::steady_timer waiter(co_await asio::this_coro::executor);
    sh->waiter = &waiter;
    while(sh->state == session_shared::watch::reading)
    {
        waiter.expires_at(asio::steady_timer::time_point::max());
        co_await waiter.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    sh->waiter = nullptr;
}

// The request as the handler sees it. Lives in the session's coroutine frame; everything
// runs on the session's executor.
template<class Stream>
class request_state final : public incoming
{
public:
    request_state(Stream& stream, std::shared_ptr<session_shared> shared,
        boost::beast::http::request_parser<boost::beast::http::string_body>& parser, context ctx,
        cancel_handle& cancel, server_options const& options, std::string const& peer, std::uint64_t number)
        : stream_(stream)
        , shared_(std::move(shared))
        , parser_(parser)
        , ctx_(std::move(ctx))
        , cancel_(cancel)
        , options_(options)
        , peer_(peer)
        , number_(number)
    {
        shared_->pipelined = false;
    }

    request_header const& header() const noexcept override
    {
        return parser_.get().base();
    }

    std::string const& peer() const noexcept override
    {
        return peer_;
    }

    boost::asio::awaitable<std::string_view> body() override
    {
        namespace asio = boost::asio;
        if(!parser_.is_done())
        {
            if(body_error_)
                throw boost::system::system_error(body_error_);
            auto deadline = with_timeout(shared_->executor, ctx_, options_.body_timeout);
            // Every read and write is bound at the stream: a deadline or a cancel ends
            // the body within one read, whatever the client sends.
            auto bound = bind_stream(deadline.ctx, stream_);
            if(!continue_sent_ && expects_continue())
            {
                // The handler wants the body: the client may send it now (RFC 9110
                // 10.1.1). A handler that answers without asking never sends this.
                continue_sent_ = true;
                static constexpr char interim[] = "HTTP/1.1 100 Continue\r\n\r\n";
                auto [wec, wn] = co_await asio::async_write(
                    bound, asio::buffer(interim, sizeof(interim) - 1), asio::as_tuple(asio::use_awaitable));
                if(wec)
                {
                    body_error_ = wec;
                    throw boost::system::system_error(wec);
                }
            }
            auto [ec, n] = co_await boost::beast::http::async_read(
                bound, shared_->buffer, parser_, asio::as_tuple(asio::use_awaitable));
            if(ec)
            {
                body_error_ = body_failure(ec, deadline.ctx);
                throw boost::system::system_error(body_error_);
            }
            start_watch();
        }
        co_return std::string_view(parser_.get().body());
    }

    bool body_complete() const noexcept
    {
        return parser_.is_done();
    }

    boost::system::error_code const& body_error() const noexcept
    {
        return body_error_;
    }

    bool disconnected() const noexcept
    {
        return disconnected_;
    }

    // The client ended its side in order (a half-close) rather than with an error: it
    // may still read the answer.
    bool half_closed() const noexcept
    {
        return shared_->half_closed;
    }

    // The client is watched from the moment the request is complete and the handler
    // first waits for something (idle -> start_posted; see session_shared).
    void start_watch()
    {
        if(start_posted_)
            return;
        start_posted_ = true;
        auto& sh = *shared_;
        sh.watched = &cancel_;
        sh.watched_disconnected = &disconnected_;
        if(sh.state != session_shared::watch::idle)
            return;
        sh.state = session_shared::watch::start_posted;
        sh.start_for = number_;
        sh.never_blocking.execute([sh = shared_, number = number_, &stream = stream_] {
            if(sh->state == session_shared::watch::start_posted && sh->start_for == number)
                begin_watch(stream, sh);
        });
    }

    // Detaches the request from the watch. A start still queued is dropped; a read that
    // can be cancelled is, and true says the caller must wait for it (`read_finished`: it
    // refers to the buffer); one that cannot stays pending and becomes the first read of
    // the next request. Not a coroutine: most requests have no read to wait for, and a
    // frame per request would cost more.
    bool detach_watch() noexcept
    {
        auto& sh = *shared_;
        sh.watched = nullptr;
        sh.watched_disconnected = nullptr;
        if(sh.state == session_shared::watch::start_posted)
            sh.state = session_shared::watch::idle;
        if(sh.state != session_shared::watch::reading || !sh.cancellable)
            return false;
        sh.signal.emit(boost::asio::cancellation_type::terminal);
        return true;
    }

private:
    bool expects_continue() const
    {
        auto const& h = parser_.get();
        auto it = h.find(boost::beast::http::field::expect);
        return h.version() >= 11 && it != h.end() && boost::beast::iequals(it->value(), "100-continue");
    }

    // What the body's read ended with, as the server answers it: the request's own
    // errors (413, 400, 408) in the library's category; the context's (a disconnect, a
    // shutdown) as they are.
    boost::system::error_code body_failure(boost::system::error_code const& ec, context const& deadline) const
    {
        namespace bhttp = boost::beast::http;
        static constexpr auto loc = BOOST_CURRENT_LOCATION;
        if(ctx_.done())
            return ctx_.err();
        if(deadline.done())
            return make_error_code(error::request_body_timeout, &loc);
        if(ec == bhttp::error::body_limit)
            return make_error_code(error::request_body_too_large, &loc);
        if(is_bad_request(ec))
            return make_error_code(error::malformed_request_body, &loc);
        return ec;
    }

    static void begin_watch(Stream& stream, std::shared_ptr<session_shared> const& shared)
    {
        namespace asio = boost::asio;
        using watch = session_shared::watch;
        auto& sh = *shared;
        sh.state = watch::idle;
        // Bytes already buffered are the next request: the client is still there.
        if(sh.pipelined || sh.client_left || sh.buffer.size() != 0)
            return;
        auto const room = sh.buffer.max_size() - sh.buffer.size();
        if(room == 0)
            return;
        sh.state = watch::reading;
        sh.signal.slot().clear();
        stream.async_read_some(sh.buffer.prepare((std::min)(room, std::size_t(512))),
            asio::bind_cancellation_slot(sh.signal.slot(),
                asio::bind_executor(sh.executor, [shared](boost::system::error_code ec, std::size_t n) {
                    auto& sh = *shared;
                    sh.state = watch::idle;
                    if(!ec)
                    {
                        sh.buffer.commit(n);
                        sh.pipelined = true;
                    }
                    else if(ec != asio::error::operation_aborted)
                    {
                        sh.client_left = true;
                        sh.half_closed = ec == asio::error::eof;
                        if(sh.watched)
                        {
                            *sh.watched_disconnected = true;
                            (*sh.watched)(disconnect_cause());
                        }
                    }
                    if(sh.waiter)
                        sh.waiter->cancel();
                })));
        // Operations that support per-operation cancellation install a handler here.
        sh.cancellable = sh.signal.slot().has_handler();
    }

    Stream& stream_;
    std::shared_ptr<session_shared> shared_;
    boost::beast::http::request_parser<boost::beast::http::string_body>& parser_;
    context ctx_;
    cancel_handle& cancel_;
    server_options const& options_;
    std::string const& peer_;
    std::uint64_t number_;
    boost::system::error_code body_error_;
    bool start_posted_ = false;
    bool disconnected_ = false;
    bool continue_sent_ = false;
};

template<class Stream>
struct is_stream_socket : std::false_type
{
};

template<class Protocol, class Executor>
struct is_stream_socket<boost::asio::basic_stream_socket<Protocol, Executor>> : std::true_type
{
};

// Writes what a socket in non-blocking mode takes now, without waiting (decision 85).
// True when that ended the write: all of it went, or the socket failed (`ec`). False
// when the rest must wait for the socket (the serializer keeps its place), or when the
// stream is not a non-blocking socket.
template<class Stream, class Serializer>
bool write_now([[maybe_unused]] Stream& stream, [[maybe_unused]] Serializer& sr,
    [[maybe_unused]] boost::system::error_code& ec)
{
    if constexpr(is_stream_socket<Stream>::value)
    {
        if(!stream.non_blocking())
            return false;
        boost::beast::http::write(stream, sr, ec);
        if(ec == boost::asio::error::would_block || ec == boost::asio::error::try_again)
        {
            ec = {};
            return false;
        }
        return true;
    }
    return false;
}

// Writes a final response on a connection about to close.
template<class Stream>
boost::asio::awaitable<void> reply_and_close(Stream& stream, boost::beast::http::status status, std::string text,
    server_options const& options)
{
    namespace asio = boost::asio;
    request_header req;
    req.version(11);
    auto res = make_response(req, status, std::move(text));
    res.keep_alive(false);
    auto deadline = with_timeout(co_await asio::this_coro::executor, background(), options.write_timeout);
    auto bound = bind_stream(deadline.ctx, stream);
    co_await boost::beast::http::async_write(bound, res, asio::as_tuple(asio::use_awaitable));
}

} // namespace asioctx::http::detail

namespace asioctx::http {

template<class Stream>
boost::asio::awaitable<void> serve_session(Stream& stream, context accepting, context parent, handler const& h,
    server_options const& options, std::string peer)
{
    namespace asio = boost::asio;
    namespace beast = boost::beast;
    namespace bhttp = boost::beast::http;
    using boost::system::error_code;
    auto const executor = co_await asio::this_coro::executor;
    // Room for one header plus what a client may send ahead: pipelining is bounded.
    auto const shared =
        std::make_shared<detail::session_shared>(executor, options.header_limit + options.pipeline_limit);
    auto& buffer = shared->buffer;
    std::uint64_t number = 0;
    for(;;)
    {
        // A background read the stream could not cancel is the first read of this request.
        if(shared->state == detail::session_shared::watch::reading)
            co_await detail::read_finished(shared);
        if(shared->client_left)
            co_return;
        bhttp::request_parser<bhttp::string_body> parser;
        parser.header_limit(static_cast<std::uint32_t>((std::min<std::size_t>)(options.header_limit, UINT32_MAX)));
        parser.body_limit(options.body_limit);
        // One deadline for the whole header: a client sending a byte at a time gains nothing.
        // Deadlines are contexts of the executor's deadline heap, to which each read and
        // write is bound: a heap insertion, not a steady_timer armed and cancelled.
        error_code ec;
        {
            auto deadline = with_timeout(
                executor, accepting, number == 0 ? options.header_timeout : options.idle_timeout);
            auto bound = bind_stream(deadline.ctx, stream);
            std::tie(ec, std::ignore) =
                co_await bhttp::async_read_header(bound, buffer, parser, asio::as_tuple(asio::use_awaitable));
        }
        ++number;
        if(!ec)
        {
            // A request whose end cannot be known, or that names no host: answered and
            // closed before any handler sees it.
            if(auto framing = check_framing(parser.get()))
            {
                co_await detail::reply_and_close(stream, status_for(framing), "bad request framing\n", options);
                co_return;
            }
        }
        if(ec)
        {
            if(ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow)
                co_await detail::reply_and_close(stream, bhttp::status::request_header_fields_too_large,
                    "request header too large\n", options);
            else if(ec == bhttp::error::body_limit) // a Content-Length over the limit
                co_await detail::reply_and_close(
                    stream, bhttp::status::payload_too_large, "request body too large\n", options);
            else if(detail::is_bad_request(ec))
                co_await detail::reply_and_close(stream, bhttp::status::bad_request, "bad request\n", options);
            co_return; // otherwise: the client left, a deadline passed, or the server stops
        }

        auto [ctx, cancel] = with_cancel(parent);
        detail::request_state<Stream> req(stream, shared, parser, ctx, cancel, options, peer, number);
        if(parser.is_done())
            req.start_watch();
        std::optional<response> res;
        try
        {
            res.emplace(co_await h(ctx, req));
        }
        catch(...)
        {
            // Below: 413 for an oversized body, 500 for anything else.
        }
        if(req.detach_watch())
            co_await detail::read_finished(shared);
        // A client that reset the connection reads nothing more. One that half-closed
        // after its request still gets the handler's answer, as from Go's net/http (its
        // context was cancelled all the same: the handler may have given up early).
        if(req.disconnected() && !req.half_closed())
            co_return;
        // The body could not be read: answered as what went wrong, whatever the handler
        // or its middleware made of the exception, and the connection closed (where the
        // body ends is unknown).
        if(auto status = status_for(req.body_error()); status != bhttp::status::internal_server_error)
        {
            co_await detail::reply_and_close(stream, status, std::string(obsolete_reason(status)) + "\n", options);
            co_return;
        }
        if(!res)
            res.emplace(make_response(parser.get().base(), bhttp::status::internal_server_error, "internal error\n"));
        // A body the handler did not read is still on the wire: the connection cannot
        // carry another request.
        bool const keep =
            parser.get().keep_alive() && req.body_complete() && !accepting.done() && !req.disconnected();
        res->keep_alive(keep);
        res->prepare_payload();
        // HEAD: the header a GET would have, Content-Length included, and no body.
        if(parser.get().method() == bhttp::verb::head)
            res->body().clear();
        bhttp::serializer<false, bhttp::string_body> sr(*res);
        error_code wec;
        // What a non-blocking socket takes at once goes now (usually the whole answer);
        // only a remainder needs an operation, and a deadline on it.
        if(!detail::write_now(stream, sr, wec))
        {
            auto write_deadline = with_timeout(executor, background(), options.write_timeout);
            auto bound = bind_stream(write_deadline.ctx, stream);
            std::tie(wec, std::ignore) =
                co_await bhttp::async_write(bound, sr, asio::as_tuple(asio::use_awaitable));
        }
        if(wec || !keep)
            co_return;
    }
}

} // namespace asioctx::http

#endif
