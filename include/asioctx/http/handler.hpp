//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_HTTP_HANDLER_HPP
#define ASIOCTX_HTTP_HANDLER_HPP

#include <asioctx/core/context.hpp>
#include <asioctx/http/config.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/system/error_code.hpp>

#include <functional>
#include <string>
#include <string_view>
#include <utility>

namespace asioctx::http {

using request_header = boost::beast::http::request_header<>;
using response = boost::beast::http::response<boost::beast::http::string_body>;

/** A request as a handler sees it: the header at once, the body on demand.

    The body is read only when a handler asks for it, so a middleware can answer (401,
    413, ...) before a byte of the body is read. Reading is bound to the request's
    context and to the server's body deadline and limit.
*/
class incoming
{
public:
    virtual ~incoming() = default;

    /// Method, target, version and fields.
    virtual request_header const& header() const noexcept = 0;

    /** Reads the whole body (once; later calls return it again).
        Throws `boost::system::system_error`: `beast::http::error::body_limit` when the
        body exceeds the server's limit (the server then answers 413 unless the handler
        answered), the context's error when it ends first, a timeout or a read error.
    */
    virtual boost::asio::awaitable<std::string_view> body() = 0;

    /// The remote endpoint as text ("127.0.0.1:5000"); for logs.
    virtual std::string const& peer() const noexcept = 0;
};

/** An `incoming` over a request the caller has already read whole: how a Beast session
    loop of one's own calls asioctx handlers and middleware. The request must outlive
    the handler call.
*/
class message_incoming final : public incoming
{
public:
    message_incoming(boost::beast::http::request<boost::beast::http::string_body> const& req, std::string peer = {})
        : req_(req)
        , peer_(std::move(peer))
    {
    }

    request_header const& header() const noexcept override
    {
        return req_.base();
    }

    /// The body that was read with the request; completes at once.
    boost::asio::awaitable<std::string_view> body() override
    {
        co_return std::string_view(req_.body());
    }

    std::string const& peer() const noexcept override
    {
        return peer_;
    }

private:
    boost::beast::http::request<boost::beast::http::string_body> const& req_;
    std::string peer_;
};

/// A request handler: `co_return` the response. Runs on the connection's strand.
using handler = std::function<boost::asio::awaitable<response>(context, incoming&)>;

/// Maps a handler to a handler that does something around it.
using middleware = std::function<handler(handler)>;

/// The last argument: `chain(h)` is `h`.
inline handler chain(handler h)
{
    return h;
}

/** Composes middleware around a handler, outermost first:
    `chain(request_ids(), bearer_auth(v), h)` is `request_ids()(bearer_auth(v)(h))`.
*/
template<class Middleware, class... Rest>
    requires(sizeof...(Rest) > 0)
handler chain(Middleware&& outer, Rest&&... rest)
{
    return std::invoke(static_cast<Middleware&&>(outer), chain(static_cast<Rest&&>(rest)...));
}

/// A response with `status`, a plain-text `body` and the request's version.
ASIOCTX_HTTP_DECL response make_response(
    request_header const& req, boost::beast::http::status status, std::string body = {});

} // namespace asioctx::http

#endif
