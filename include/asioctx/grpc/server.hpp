//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_GRPC_SERVER_HPP
#define ASIOCTX_GRPC_SERVER_HPP

#include <asioctx/core/context.hpp>
#include <asioctx/grpc/config.hpp>
#include <asioctx/grpc/detail/server_call.hpp>
#include <asioctx/http/propagation.hpp>
#include <asioctx/http/request_id.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>

#include <grpcpp/server.h>
#include <grpcpp/support/server_callback.h>
#include <grpcpp/support/status.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

namespace asioctx::grpc {

/// How a `server` turns gRPC calls into contexts.
struct server_options
{
    /// A call's deadline further away than this is clamped to it; a call without a
    /// deadline keeps none.
    std::chrono::nanoseconds max_deadline = std::chrono::hours(24);

    /** gRPC reports a client's cancel and the client's deadline the same way
        (`OnCancel`), and at the deadline the two race. A cancel reported this close to
        the call context's deadline, or after it, is taken for the deadline: the
        context's own timer ends it with `deadline_exceeded`.
    */
    std::chrono::nanoseconds deadline_window = std::chrono::milliseconds(50);

    /// How long calls in flight may go on after shutdown begins before their contexts
    /// are cancelled with `error::server_shutdown`.
    std::chrono::nanoseconds shutdown_grace = std::chrono::seconds(5);

    /// Which inbound request ids are kept (others are replaced by a minted one).
    http::request_id_options request_id;

    /// The metadata key of the request id, read and echoed in the initial metadata.
    std::string request_id_key = "x-request-id";

    /// Limits for the `tracestate` and `baggage` metadata a call carries in; values
    /// that fail validation are dropped (`http::parse_tracestate`, `http::parse_baggage`).
    http::propagation_policy propagation;
};

/** Serves gRPC calls with a context each: gRPC's callback API on the outside, a
    coroutine with a context on the inside.

    A service implementation (generated `CallbackService`) hands each call to `unary`,
    which derives the call's context from the server's parent context:
    - the call's deadline (clamped to `max_deadline`), ending with `deadline_exceeded`;
    - cancelled with `error::client_cancelled` when the client cancels (see
      `server_options::deadline_window` for how a cancel is told from a deadline);
    - the request id (`x-request-id`, checked as the HTTP layer checks it, else minted,
      and echoed in the initial metadata) and the `traceparent` (parsed strictly,
      ignored when invalid), as the same values the HTTP middleware sets:
      `http::request_id(ctx)` and `http::traceparent(ctx)` work in a handler.

    Shutdown is graceful, as the HTTP server's: `stop()` or the parent context ending
    starts it; gRPC stops taking calls; calls in flight may finish within
    `shutdown_grace`; then their contexts are cancelled with `error::server_shutdown`.

    The gRPC server must be shut down through `async_run` (or otherwise) before this
    object is destroyed.
*/
class server
{
public:
    /// Calls' contexts derive from `parent` (values included); handlers run on `ex`.
    ASIOCTX_GRPC_DECL server(boost::asio::any_io_executor ex, context const& parent, server_options options = {});
    ASIOCTX_GRPC_DECL ~server();
    server(server const&) = delete;
    server& operator=(server const&) = delete;

    /** Serves one unary call: returns the reactor a generated `CallbackService` method
        returns.

        `handler(context ctx, Request const& request, Response& response)` returns
        `asio::awaitable<::grpc::Status>` and runs on the server's executor with the
        call's context. The call is answered with:
        - the handler's status, if it returns while the context is live;
        - `DEADLINE_EXCEEDED` or `CANCELLED` if the context is done by then (whatever
          the handler returned or threw);
        - `INTERNAL` if the handler throws while the context is live;
        - `UNAVAILABLE` at once if the server is shutting down.

        `Finish` is called exactly once; the call's state is freed in `OnDone`.
        `request` and `response` are gRPC's and stay valid until the call is finished.
    */
    template<class Request, class Response, class Handler>
    ::grpc::ServerUnaryReactor* unary(::grpc::CallbackServerContext* call, Request const* request,
        Response* response, Handler handler);

    /** Runs `grpc_server` until shutdown, then shuts it down gracefully (see above).
        gRPC's `Shutdown` blocks, so it runs on a thread of its own; the operation
        completes on the server's executor once it has returned.
        Signature: `void(std::exception_ptr)`, as `asio::co_spawn`.
        Per-operation cancellation: none (use `stop()` or the parent context).
    */
    template<class RunToken>
    auto async_run(::grpc::Server& grpc_server, RunToken&& token)
    {
        return boost::asio::co_spawn(executor(), run(grpc_server), static_cast<RunToken&&>(token));
    }

    /// Starts the graceful shutdown. Safe from any thread, more than once.
    ASIOCTX_GRPC_DECL void stop() noexcept;

    /// Calls in flight right now.
    ASIOCTX_GRPC_DECL std::size_t calls() const noexcept;

private:
    ASIOCTX_GRPC_DECL boost::asio::any_io_executor const& executor() const noexcept;
    ASIOCTX_GRPC_DECL boost::asio::awaitable<void> run(::grpc::Server& grpc_server);

    std::shared_ptr<detail::server_state> state_;
};

} // namespace asioctx::grpc

#include <asioctx/grpc/impl/server.hpp>

#endif
