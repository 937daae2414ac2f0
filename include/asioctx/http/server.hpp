//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_HTTP_SERVER_HPP
#define ASIOCTX_HTTP_SERVER_HPP

#include <asioctx/core/context.hpp>
#include <asioctx/http/config.hpp>
#include <asioctx/http/handler.hpp>
#include <asioctx/http/session.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace boost::asio::ssl {
class context;
} // namespace boost::asio::ssl

namespace asioctx::http {

/** An HTTP/1.1 server on Beast in which every request has a context.

    Each request's context is derived from the server's context and is cancelled, with
    `error::client_disconnected` as the cause, when the client goes away while the
    handler runs: once the request's body has been read, the connection is read in the
    background; end-of-stream or a reset cancels, while pipelined bytes are kept for the
    next request and cancel nothing. Whatever the handler awaits through the context
    (timers, upstream calls) stops at once.

    Shutdown (`stop()`, or the parent context ending) is graceful: the listener closes,
    idle keep-alive connections close, in-flight requests may finish until
    `shutdown_grace`, then their contexts are cancelled with `error::server_shutdown`.
    `io_context::stop()` is never needed.

    Bad requests get 400, 413 or 431 and the connection is closed; a handler that throws
    gets a 500 and the connection stays usable.
*/
class server
{
public:
    /** A server whose handlers get contexts derived from `parent` (values included) and
        run on strands of `ex` (on `ex` itself when it is an `io_context` built for one
        thread, with concurrency hint 1).
    */
    ASIOCTX_HTTP_DECL server(boost::asio::any_io_executor ex, context const& parent, handler h,
        server_options options = {});

    /** The same over TLS (Beast's `ssl_stream`): `tls` holds the certificate and key and
        must outlive the server. The handshake counts against `header_timeout`.
    */
    ASIOCTX_HTTP_DECL server(boost::asio::any_io_executor ex, context const& parent, handler h,
        boost::asio::ssl::context& tls, server_options options = {});
    ASIOCTX_HTTP_DECL ~server();

    server(server const&) = delete;
    server& operator=(server const&) = delete;

    /// Binds and listens; throws `boost::system::system_error` on failure.
    ASIOCTX_HTTP_DECL void listen(boost::asio::ip::tcp::endpoint const& endpoint);

    /// The bound endpoint (port 0 in `listen` picks one).
    ASIOCTX_HTTP_DECL boost::asio::ip::tcp::endpoint local_endpoint() const;

    /** Serves until shut down: completes once the listener is closed and every connection
        has ended. Signature: `void(std::exception_ptr)`, as `asio::co_spawn`.
        Per-operation cancellation: none (use `stop()` or the parent context).
    */
    template<class RunToken>
    auto async_run(RunToken&& token)
    {
        return boost::asio::co_spawn(executor(), run(), static_cast<RunToken&&>(token));
    }

    /// Starts the graceful shutdown. Safe from any thread, more than once.
    ASIOCTX_HTTP_DECL void stop() noexcept;

    /// Connections open right now.
    ASIOCTX_HTTP_DECL std::size_t connections() const noexcept;

    struct state;

private:
    ASIOCTX_HTTP_DECL boost::asio::any_io_executor const& executor() const noexcept;
    ASIOCTX_HTTP_DECL boost::asio::awaitable<void> run();

    std::shared_ptr<state> state_;
};

} // namespace asioctx::http

#endif
