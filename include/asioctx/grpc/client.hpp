//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_GRPC_CLIENT_HPP
#define ASIOCTX_GRPC_CLIENT_HPP

#include <asioctx/core/context.hpp>
#include <asioctx/grpc/config.hpp>
#include <asioctx/grpc/error.hpp>

#include <boost/system/error_code.hpp>

#include <grpcpp/client_context.h>
#include <grpcpp/support/client_callback.h>
#include <grpcpp/support/status.h>

#include <asioctx/http/propagation.hpp>

#include <chrono>
#include <string>

namespace asioctx::grpc {

/// How `async_unary` carries a context onto an outgoing call.
struct call_options
{
    /** What goes to the next hop, as the HTTP client sends it: the deadline less
        `propagation.reserve` (time kept for this hop's own work after the call
        returns), at most `propagation.outbound_max`; `tracestate` beside the
        `traceparent`, and `baggage`. Its budget header is not used: gRPC sends its own
        `grpc-timeout`.
    */
    http::propagation_policy propagation;

    /// The metadata key the request id goes out under.
    std::string request_id_key = "x-request-id";
};

/** The timeout to give gRPC so that the next hop is never told more than
    `remaining - reserve`.

    gRPC's C++ core sends a timeout in milliseconds, rounded **up**: to the millisecond
    below a second, then to three significant digits (10 ms steps below 10 s, 100 ms
    below 100 s, ...), so a deadline one second away can go out as `1010m`. This
    rounds down to the step first and keeps 2 ms for gRPC's own reading of the clock;
    the next hop gets at most the time left, and about 1% less at worst. Zero or less
    is zero.
*/
ASIOCTX_GRPC_DECL std::chrono::nanoseconds outgoing_timeout(
    std::chrono::nanoseconds remaining, std::chrono::nanoseconds reserve = {}) noexcept;

/** Makes a unary call through a generated stub's callback interface (`stub->async()`)
    under `ctx`.

    `method` is the generated method, e.g. `&Greeter::Stub::async::SayHello` (its
    reactor form: the operation is gRPC's `ClientUnaryReactor`).
    `ctx` becomes the call's:
    - deadline: `ClientContext::set_deadline` at the context's deadline minus
      `options.propagation.reserve` and at most its `outbound_max`, rounded as `outgoing_timeout` says; gRPC itself ends the call
      there, so both sides see `DEADLINE_EXCEEDED`;
    - cancellation: when the context is cancelled (not by its deadline), the call is
      cancelled (`TryCancel`) and the server sees `CANCELLED`;
    - request id (`http::request_id`), the next hop of the `traceparent` with its
      `tracestate`, and `baggage`, as metadata.
    A context already done sends nothing and completes with its error; so does one
    whose time left is all reserve (`error::deadline_exceeded`).

    Completion: `void(boost::system::error_code, Response)`, on the handler's associated
    executor (by default the executor the context carries, else Asio's system
    executor), never inside this function; outstanding work of that executor is held
    until gRPC's callback arrives. Errors:
    - `DEADLINE_EXCEEDED`: `asioctx::error::deadline_exceeded` (the context's own
      error when it is done by its deadline);
    - `CANCELLED` while the context is done: the context's error (`cause(ctx)` keeps
      why); after a per-operation cancellation: `asio::error::operation_aborted`;
    - any other status: `asioctx::grpc::error`, with gRPC's number.

    Per-operation cancellation: terminal, partial and total all cancel the call
    (`TryCancel`); the operation then completes as gRPC reports it, usually with
    `operation_aborted`. The context is unaffected.

    `request` is moved into the operation and kept until it completes.
*/
template<class Stub, class Request, class Response, class CompletionToken>
auto async_unary(context const& ctx, Stub* stub,
    void (Stub::*method)(::grpc::ClientContext*, Request const*, Response*, ::grpc::ClientUnaryReactor*),
    Request request, call_options const& options, CompletionToken&& token);

/// Same, with default `call_options`.
template<class Stub, class Request, class Response, class CompletionToken>
auto async_unary(context const& ctx, Stub* stub,
    void (Stub::*method)(::grpc::ClientContext*, Request const*, Response*, ::grpc::ClientUnaryReactor*),
    Request request, CompletionToken&& token)
{
    call_options const options; // named: g++ 12 fails on a temporary of this aggregate here
    return async_unary(ctx, stub, method, std::move(request), options, static_cast<CompletionToken&&>(token));
}

} // namespace asioctx::grpc

#include <asioctx/grpc/impl/client.hpp>

#endif
