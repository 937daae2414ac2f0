//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_HTTP_PROPAGATION_HPP
#define ASIOCTX_HTTP_PROPAGATION_HPP

#include <asioctx/core/context.hpp>
#include <asioctx/http/budget.hpp>
#include <asioctx/http/config.hpp>

#include <boost/beast/http/fields.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace asioctx::http {

/// A header that carries a deadline budget.
struct budget_header
{
    std::string name;
    budget_format format = budget_format::grpc_timeout;
};

/** One policy for what crosses a hop, applied the same way by the server's middleware
    (`request_ids`, `deadline_budget`), the HTTP client and the gRPC layer.

    Inbound, everything is untrusted: budgets are clamped, trace fields validated and
    size-limited, and what fails validation is dropped (never answered with an error:
    a bad header from a peer must not fail the request).
*/
struct propagation_policy
{
    /// Headers read for an inbound budget; the smallest valid value among them wins.
    /// Absent or malformed ones count as absent.
    std::vector<budget_header> inbound_budgets{
        {"Request-Timeout", budget_format::grpc_timeout},
        {"grpc-timeout", budget_format::grpc_timeout},
        {"x-envoy-expected-rq-timeout-ms", budget_format::milliseconds},
    };

    /// Inbound budgets above this are clamped to it.
    std::chrono::milliseconds inbound_max{30'000};

    /// The header an outgoing HTTP request carries its budget in; an empty name sends
    /// none. (gRPC sends its own `grpc-timeout`.)
    budget_header outbound_budget{"Request-Timeout", budget_format::grpc_timeout};

    /// Kept back from the remaining time for this hop's own work after the next hop
    /// answers: the next hop is told at most `remaining - reserve`.
    std::chrono::milliseconds reserve{0};

    /// The next hop is never told more than this, whatever is left.
    std::chrono::milliseconds outbound_max = std::chrono::milliseconds::max();

    /// Characters of `tracestate` kept: longer lists lose members over 128 characters
    /// first, then members from the end (W3C Trace Context; at least 512 is advised).
    std::size_t tracestate_limit = 512;

    /// Bytes of `baggage` kept: longer lists lose members from the end (W3C Baggage:
    /// at most 64 members and 8192 bytes).
    std::size_t baggage_limit = 8192;
};

/** The budget an inbound request asks for: the smallest valid value among the
    policy's `inbound_budgets` (a header sent twice counts as malformed), clamped to
    `inbound_max`; nullopt when none is valid.
*/
ASIOCTX_HTTP_DECL std::optional<std::chrono::nanoseconds> inbound_budget(
    boost::beast::http::fields const& fields, propagation_policy const& policy);

/** The budget to tell the next hop, read now: the context's remaining time less
    `reserve`, at most `outbound_max`; nullopt when the context has no deadline; zero
    or less when nothing is left for the next hop (the caller fails with
    `deadline_exceeded` rather than send a request that cannot finish).
*/
ASIOCTX_HTTP_DECL std::optional<std::chrono::nanoseconds> outbound_budget(
    context const& ctx, propagation_policy const& policy);

/** A W3C `tracestate` value, validated: list members `key=value` (keys `[a-z]...` or
    `tenant@system`, values of printable ASCII without `,` and `=`), at most 32, no key
    twice, empty members dropped, cut to `limit` as `propagation_policy` says. nullopt
    when anything is invalid: a tracestate that cannot be parsed is not passed on.
*/
ASIOCTX_HTTP_DECL std::optional<std::string> parse_tracestate(std::string_view value, std::size_t limit = 512);

/** A W3C `baggage` value, validated: members `key=value[;property...]`, keys HTTP
    tokens, values of baggage octets (percent-encoded text), cut to 64 members and
    `limit` bytes from the end. nullopt when anything is invalid.
*/
ASIOCTX_HTTP_DECL std::optional<std::string> parse_baggage(std::string_view value, std::size_t limit = 8192);

/// Derives a context carrying `tracestate` and `baggage` values (either may be empty;
/// one that fails `parse_tracestate` or `parse_baggage` is dropped); they go out with
/// every hop, `tracestate` only beside a `traceparent`.
[[nodiscard]] ASIOCTX_HTTP_DECL context with_trace_fields(
    context const& parent, std::string tracestate, std::string baggage);

/// The `tracestate` `ctx` carries, or an empty view.
ASIOCTX_HTTP_DECL std::string_view tracestate(context const& ctx) noexcept;

/// The `baggage` `ctx` carries, or an empty view.
ASIOCTX_HTTP_DECL std::string_view baggage(context const& ctx) noexcept;

/** Reads `tracestate` and `baggage` from inbound `fields` (several lines of one field
    are joined with commas, as RFC 9110 allows) and derives a context carrying what
    passes `parse_tracestate` and `parse_baggage`; returns `parent` when neither does.
*/
[[nodiscard]] ASIOCTX_HTTP_DECL context with_inbound_trace_fields(
    context const& parent, boost::beast::http::fields const& fields, propagation_policy const& policy);

} // namespace asioctx::http

#endif
