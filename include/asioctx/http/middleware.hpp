//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_HTTP_MIDDLEWARE_HPP
#define ASIOCTX_HTTP_MIDDLEWARE_HPP

#include <asioctx/core/context.hpp>
#include <asioctx/http/config.hpp>
#include <asioctx/http/handler.hpp>
#include <asioctx/http/jwt.hpp>
#include <asioctx/http/propagation.hpp>
#include <asioctx/http/request_id.hpp>

#include <boost/beast/http/status.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>

namespace asioctx::http {

/** Request ids and trace context, carried from the request into its context.

    Takes `X-Request-ID` when it passes `options` (by default 1 to 128 characters of
    `[A-Za-z0-9._:-]`), otherwise mints 128 random bits; stores it in the context
    (`request_id(ctx)`); a valid W3C `traceparent` is stored too (`traceparent(ctx)`), an
    invalid one ignored, and so are `tracestate` and `baggage` as `policy` validates and
    limits them (`tracestate(ctx)`, `baggage(ctx)`). Echoes the id on every response,
    including 401s and the 500 it writes itself when an inner handler throws.
*/
ASIOCTX_HTTP_DECL middleware request_ids(request_id_options options = {}, propagation_policy policy = {});

/// Derives a context carrying verified claims (see `request_claims`).
[[nodiscard]] ASIOCTX_HTTP_DECL context with_claims(context const& parent, claims c);

/// The claims `bearer_auth` verified for this request, or nullptr.
ASIOCTX_HTTP_DECL claims const* request_claims(context const& ctx) noexcept;

/// Anything that checks a bearer token: a `jwt_verifier`, or a callable of the user's.
using token_verifier = std::function<boost::system::result<claims>(std::string_view token)>;

/** The token of an `Authorization` value `Bearer <token>` (RFC 6750: the scheme in any
    case, one or more spaces, a b64token), or nullopt when the value is anything else.
*/
ASIOCTX_HTTP_DECL std::optional<std::string_view> bearer_token(std::string_view authorization) noexcept;

/** Bearer authentication.

    Reads `Authorization: Bearer <token>` (the scheme in any case). A missing header gets
    401 with `WWW-Authenticate: Bearer`; a malformed or rejected token gets 401 with
    `WWW-Authenticate: Bearer error="invalid_token"`, whatever the reason, so a client
    cannot tell an expired token from a forged one. Both before the body is read and
    before the next handler runs. On success the claims go into the context, immutable.
    The token itself is never logged or stored.
*/
ASIOCTX_HTTP_DECL middleware bearer_auth(token_verifier verify);

/// 403 with `WWW-Authenticate: Bearer error="insufficient_scope"` unless the claims have
/// `scope`; 401 if there are no claims at all.
ASIOCTX_HTTP_DECL middleware require_scope(std::string scope);

/** An inbound deadline budget: the smallest valid value among `policy.inbound_budgets`
    (by default `Request-Timeout` and `grpc-timeout` in the `grpc-timeout` grammar, and
    Envoy's `x-envoy-expected-rq-timeout-ms` in milliseconds), clamped to
    `policy.inbound_max`, sets the request context's deadline to now plus that budget.
    Absent or malformed headers change nothing. Only servers that install this honour
    the headers: they are untrusted input.
*/
ASIOCTX_HTTP_DECL middleware deadline_budget(propagation_policy policy = {});

/** A per-route time limit: the next handler runs under `with_timeout(ctx, limit)`; if it
    fails because that deadline passed, the answer is `status` (504 by default, or 503).
    A handler's response is a value returned whole, so no status line has been written
    when this decides: there are never two.
*/
ASIOCTX_HTTP_DECL middleware timeout(
    std::chrono::milliseconds limit, boost::beast::http::status status = boost::beast::http::status::gateway_timeout);

/// Receives one access-log line per request.
using log_sink = std::function<void(std::string_view line)>;

/** A sink that writes each line and a newline to `out` and flushes it: a server's log
    is readable while it runs, even when `out` is a file or a pipe (block-buffered).
    Lines from several threads are written whole, one at a time. `out` must outlive the
    sink.
*/
ASIOCTX_HTTP_DECL log_sink stream_sink(std::ostream& out);

/** One line per request: request id, method, target, status, duration, and the
    cancellation cause when the request's context ended. Untrusted values are escaped
    (`escape_for_log`). Place it inside `request_ids` to see the id.
*/
ASIOCTX_HTTP_DECL middleware access_log(log_sink sink);

} // namespace asioctx::http

#endif
