//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_HTTP_CLIENT_HPP
#define ASIOCTX_HTTP_CLIENT_HPP

#include <asioctx/core/context.hpp>
#include <asioctx/http/config.hpp>
#include <asioctx/http/propagation.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace boost::asio::ssl {
class context;
} // namespace boost::asio::ssl

namespace asioctx::http {

namespace detail {
struct origin_access;
} // namespace detail

/** A scheme, host and port, parsed and checked once: a service that calls one upstream
    keeps one and fetches many targets on it (`fetch_request::at`), without parsing a
    URL per fetch. Cheap to copy (shared, immutable).
*/
class origin
{
public:
    /** `http://host[:port]` or `https://host[:port]`, with or without a trailing `/`.
        Credentials, a path, a query or a fragment give `error::bad_url`.
    */
    ASIOCTX_HTTP_DECL static boost::system::result<origin> parse(std::string_view text);

    /// "http://host:port" (the port always written).
    ASIOCTX_HTTP_DECL std::string const& text() const noexcept;

    struct parts; // defined by the library

private:
    explicit origin(std::shared_ptr<parts const> p) noexcept
        : parts_(std::move(p))
    {
    }
    friend struct detail::origin_access;
    std::shared_ptr<parts const> parts_;
};

/// What a fetch sends.
struct fetch_request
{
    boost::beast::http::verb method = boost::beast::http::verb::get;

    /// Absolute: `http://host[:port]/path?query` or `https://...`. Ignored when `at` is set.
    std::string url;

    /// Instead of `url`: an origin parsed once, and `target`, the path and query
    /// (`/items?id=7`), checked as an origin-form request target.
    std::optional<origin> at;
    std::string target;

    /// Sent as given, after the library's own (`Host`, and what the context propagates).
    boost::beast::http::fields fields;

    std::string body;
};

/// What a fetch receives: the whole response, its body within the client's limit.
using fetch_response = boost::beast::http::response<boost::beast::http::string_body>;

/// Resolves `host` and `service` and calls `done` once, from any thread. The default is
/// Asio's resolver (getaddrinfo on Asio's resolver thread).
using resolve_function = std::function<void(std::string const& host, std::string const& service,
    std::function<void(boost::system::error_code, boost::asio::ip::tcp::resolver::results_type)> done)>;

/// Limits and policies of a client; the defaults are safe against a hostile server.
struct client_options
{
    /// Bytes of response body; more fails with `error::response_too_large`.
    std::uint64_t body_limit = 4 * 1024 * 1024;

    /// Bytes of status line and fields; more fails with `error::malformed_response`.
    std::uint32_t header_limit = 16 * 1024;

    /// Redirects followed (301, 302, 303, 307, 308); 0, the default, follows none. More
    /// than this fails with `error::too_many_redirects`. `Authorization` is never sent
    /// to another scheme, host or port.
    int max_redirects = 0;

    /// What goes to the next hop: the budget header (`outbound_budget`, by default
    /// `Request-Timeout` as the server's `deadline_budget` reads it), less `reserve`, at
    /// most `outbound_max`; `tracestate` and `baggage` as the context carries them.
    propagation_policy propagation;

    /// Idle keep-alive connections kept per scheme, host and port.
    std::size_t max_idle_per_host = 8;

    /// A connection idle for longer is closed instead of reused.
    std::chrono::milliseconds idle_timeout{30'000};

    /// TLS for https: certificates, verification mode, roots. Null: the client's own
    /// context, verifying the peer against OpenSSL's default paths. The host name is
    /// always verified and sent as SNI. Must outlive the client.
    boost::asio::ssl::context* tls = nullptr;

    /// Name resolution; empty: Asio's resolver.
    resolve_function resolve;
};

/** An HTTP/1.1 client on Beast whose every exchange is bound to a context.

    A fetch resolves, connects, handshakes TLS for https, writes and reads, each step
    bound to the context: when the context is cancelled the fetch completes with
    `error::canceled`, when its deadline passes with `error::deadline_exceeded`, and the
    connection is closed at once. Name resolution cannot be interrupted (getaddrinfo); a
    fetch whose context ends during a lookup completes on time and the lookup's result is
    dropped when it arrives.

    What the context carries goes to the next hop: its request id as `X-Request-ID`, its
    traceparent with a new parent id (and its `tracestate` beside it), its `baggage`,
    and its remaining time as `options.propagation` says, computed when the request is
    written. Nothing is added when the context has none of them. When the reserve leaves
    the next hop no time, the fetch fails with `error::deadline_exceeded` unsent.

    Connections are kept alive and reused per scheme, host and port, at most
    `max_idle_per_host` idle each, never after an exchange that failed, was cancelled or
    timed out. A request that fails on a reused connection before any response byte
    arrives (the server closed it while idle) is retried once on a new connection when
    its method is idempotent.

    Thread-safe: fetches may run at once from any number of threads and coroutines.
*/
class client
{
public:
    /// A client whose connections and operations use `ex`.
    ASIOCTX_HTTP_DECL explicit client(boost::asio::any_io_executor ex, client_options options = {});

    /// Closes the idle connections; fetches in progress finish on their own.
    ASIOCTX_HTTP_DECL ~client();

    client(client const&) = delete;
    client& operator=(client const&) = delete;

    /** Sends `req` and reads the whole response.

        Signature: `void(error_code, fetch_response)`. Errors: the context's
        (`error::canceled`, `error::deadline_exceeded`), or `http::error::bad_url`,
        `unsafe_field`, `resolve_failed`, `connection_refused`, `connect_failed`, `tls_failed`,
        `connection_lost`, `closed_before_response`, `closed_mid_body`,
        `response_too_large`, `malformed_response`, `too_many_redirects`. The handler runs
        on its associated executor, never inside this call.

        Per-operation cancellation: terminal, partial and total cancellation all cancel
        the fetch as the context would (`error::canceled`; the connection is closed).
    */
    template<class FetchToken>
    auto async_fetch(context ctx, fetch_request req, FetchToken&& token)
    {
        return boost::asio::async_initiate<FetchToken, void(boost::system::error_code, fetch_response)>(
            [state = state_](auto handler, context c, fetch_request r) {
                start(state, std::move(c), std::move(r),
                    boost::asio::any_completion_handler<void(boost::system::error_code, fetch_response)>(
                        std::move(handler)));
            },
            token, std::move(ctx), std::move(req));
    }

    /// `async_fetch` of a GET of `url`.
    template<class FetchToken>
    auto async_get(context ctx, std::string url, FetchToken&& token)
    {
        fetch_request req;
        req.url = std::move(url);
        return async_fetch(std::move(ctx), std::move(req), static_cast<FetchToken&&>(token));
    }

    /// Idle connections kept right now.
    ASIOCTX_HTTP_DECL std::size_t idle_connections() const;

    /// Closes every idle connection (Go's `CloseIdleConnections`).
    ASIOCTX_HTTP_DECL void close_idle_connections();

    struct state;

private:
    ASIOCTX_HTTP_DECL static void start(std::shared_ptr<state> const& st, context ctx, fetch_request req,
        boost::asio::any_completion_handler<void(boost::system::error_code, fetch_response)> handler);

    std::shared_ptr<state> state_;
};

} // namespace asioctx::http

#endif
