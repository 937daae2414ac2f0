//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_HTTP_SESSION_HPP
#define ASIOCTX_HTTP_SESSION_HPP

#include <asioctx/core/context.hpp>
#include <asioctx/http/config.hpp>
#include <asioctx/http/handler.hpp>

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace asioctx::http {

/// Limits and deadlines of a server or session; every default is safe for a public listener.
struct server_options
{
    /// Bytes of request line and fields; more gets 431 and the connection is closed.
    std::size_t header_limit = 8 * 1024;

    /// Bytes of body; more gets 413 and the connection is closed.
    std::uint64_t body_limit = 1024 * 1024;

    /// The whole header of a connection's first request must arrive within this
    /// (armed once, not per byte: a slow sender cannot stretch it).
    std::chrono::milliseconds header_timeout{10'000};

    /// The whole body must arrive within this, from the handler's first read.
    std::chrono::milliseconds body_timeout{30'000};

    /// Keep-alive: the next request's whole header must arrive within this.
    std::chrono::milliseconds idle_timeout{60'000};

    /// A response must be written within this.
    std::chrono::milliseconds write_timeout{30'000};

    /// After `stop()`, in-flight requests may finish for this long; then their contexts
    /// are cancelled with `error::server_shutdown` and their connections closed.
    std::chrono::milliseconds shutdown_grace{5'000};

    /// Connections at once; the accept loop waits for a free slot beyond that.
    std::size_t max_connections = 10'000;

    /// Bytes a client may send ahead (pipelined requests) beyond the current request.
    std::size_t pipeline_limit = 64 * 1024;
};

/** Serves the HTTP/1.1 requests of one connection: what `server` runs for each
    connection it accepts, for a stream the caller has accepted (and, over TLS,
    handshaken) itself, or a `beast::test::stream`.

    Each request gets a context derived from `parent` and cancelled, with
    `error::client_disconnected` as the cause, when the client goes away while the
    handler runs (a background read once the request is complete; pipelined bytes are
    kept). Bad requests get 400, 413 or 431 and end the session; a handler that throws
    gets a 500 and the session goes on.

    `accepting` ends the session between requests: once it is done, an idle connection
    is left at once, and the response in progress says `Connection: close`.

    The header, body, idle and write deadlines of `options` are contexts of the library's
    deadline heap to which each read and write is bound: they need a stream whose
    operations support per-operation cancellation (sockets, `ssl::stream`,
    `beast::tcp_stream`). On a `basic_stream_socket` in non-blocking mode (as the
    server's are) a response is first written without waiting, and only what the socket
    did not take is written by an operation under the write deadline. Everything runs
    on the calling coroutine's executor, which must not run two handlers at once (a
    strand, or an `io_context` run by one thread).

    Completes when the connection should be closed; closing it is the caller's.
    Cancellation: end `accepting` (between requests) or `parent` (the requests).
*/
template<class Stream>
boost::asio::awaitable<void> serve_session(Stream& stream, context accepting, context parent, handler const& h,
    server_options const& options = {}, std::string peer = {});

} // namespace asioctx::http

#include <asioctx/http/impl/session.hpp>

#endif
