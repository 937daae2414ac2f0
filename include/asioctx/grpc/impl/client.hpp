//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_GRPC_IMPL_CLIENT_HPP
#define ASIOCTX_GRPC_IMPL_CLIENT_HPP

#include <asioctx/asio/after_func.hpp>
#include <asioctx/asio/executor.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_allocator.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/system_executor.hpp>

#include <grpcpp/support/client_callback.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <utility>

namespace asioctx::grpc::detail {

/// Sets the call's deadline and metadata from `ctx` (see `async_unary`).
// `budget`: what the next hop is told (http::outbound_budget), read once per call.
ASIOCTX_GRPC_DECL void prepare_call(::grpc::ClientContext& call, context const& ctx,
    std::optional<std::chrono::nanoseconds> budget, call_options const& options);

// Why a call must not be sent: the context is done, or its time left is all reserve.
ASIOCTX_GRPC_DECL boost::system::error_code refusal(
    context const& ctx, std::optional<std::chrono::nanoseconds> budget) noexcept;

/// The error a finished call completes with (see `async_unary`).
ASIOCTX_GRPC_DECL boost::system::error_code error_of(
    ::grpc::Status const& status, context const& ctx, bool aborted) noexcept;

/// Cancels the call unless the context ended by its deadline, which gRPC ends itself
/// (a cancel there would make both sides see CANCELLED).
ASIOCTX_GRPC_DECL void cancel_unless_deadline(::grpc::ClientContext& call, context const& ctx) noexcept;

/** One outgoing unary call, as gRPC's reactor.

    Owned by shared pointers: `self` holds it from the start of the call until gRPC's
    `OnDone`, and the completion posted to the handler's executor holds it until the
    handler is called. The cancel `after_func` holds a weak one: the operation owns its
    handle, so a strong one would be a cycle. The
    handler, slot and `after_func` handle are touched only by the initiation and by the
    completion on the handler's executor; `call` is thread-safe for `TryCancel`.
    Everything the initiation wrote is published by `started` (release) before the
    call starts, and `OnDone`, on a gRPC thread, reads it only after acquiring it:
    gRPC's own hand-off between threads is not visible to ThreadSanitizer.
*/
template<class Request, class Response, class Handler>
struct unary_operation final : ::grpc::ClientUnaryReactor
{
    unary_operation(context c, Request req, Handler h, boost::asio::any_io_executor ex)
        : ctx(std::move(c))
        , request(std::move(req))
        , handler(std::move(h))
        , work(boost::asio::prefer(std::move(ex), boost::asio::execution::outstanding_work.tracked))
    {
    }

    ::grpc::ClientContext call;
    context ctx;
    Request request;
    Response response;
    Handler handler;
    boost::asio::any_io_executor work; // the handler's executor, counting the call as work
    after_func_handle on_cancel;
    std::shared_ptr<unary_operation> self;
    std::atomic<bool> aborted{false};
    std::atomic<bool> started{false};

    void OnDone(::grpc::Status const& status) override
    {
        (void)started.load(std::memory_order_acquire);
        auto op = std::move(self);
        // Posted through an untracked copy: once the completion is queued it may run, and
        // the io_context may be gone, before this thread has left OnDone; nothing here may
        // touch the context after the post. The call's tracked work is released by the
        // completion, on the handler's executor.
        auto const ex = boost::asio::prefer(op->work, boost::asio::execution::outstanding_work.untracked);
        boost::asio::post(ex, [op = std::move(op), status] { op->finish(status); });
    }

    // On the handler's executor, after OnDone.
    void finish(::grpc::Status const& status)
    {
        auto slot = boost::asio::get_associated_cancellation_slot(handler);
        if(slot.is_connected())
            slot.clear();
        on_cancel.stop();
        auto const ec = error_of(status, ctx, aborted.load(std::memory_order_relaxed));
        auto h = std::move(handler);
        auto r = std::move(response);
        auto const keep_work = std::move(work); // released once the handler has run
        std::move(h)(ec, std::move(r));
    }
};

template<class Operation>
struct unary_canceller
{
    Operation* op;

    void operator()(boost::asio::cancellation_type type) const
    {
        // A coroutine bound to the call's context is cancelled this way too when the
        // context ends; by its deadline, gRPC ends the call itself.
        if(type != boost::asio::cancellation_type::none)
        {
            op->aborted.store(true, std::memory_order_relaxed);
            cancel_unless_deadline(op->call, op->ctx);
        }
    }
};

} // namespace asioctx::grpc::detail

namespace asioctx::grpc {

template<class Stub, class Request, class Response, class CompletionToken>
auto async_unary(context const& ctx, Stub* stub,
    void (Stub::*method)(::grpc::ClientContext*, Request const*, Response*, ::grpc::ClientUnaryReactor*),
    Request request, call_options const& options, CompletionToken&& token)
{
    using signature = void(boost::system::error_code, Response);
    auto initiation = [](auto handler, context const& ctx, Stub* stub, auto method, Request request,
                          call_options const& options) {
        auto const carried = executor_of(ctx);
        auto const fallback
            = carried ? *carried : boost::asio::any_io_executor(boost::asio::system_executor());
        boost::asio::any_io_executor ex = boost::asio::get_associated_executor(handler, fallback);
        auto const budget = http::outbound_budget(ctx, options.propagation);
        if(auto ec = detail::refusal(ctx, budget))
        {
            // A context already done sends nothing; the handler is posted, never called here.
            boost::asio::post(ex, [h = std::move(handler), ec]() mutable { std::move(h)(ec, Response{}); });
            return;
        }
        using operation = detail::unary_operation<Request, Response, decltype(handler)>;
        auto alloc = boost::asio::get_associated_allocator(handler);
        using op_alloc = typename std::allocator_traits<decltype(alloc)>::template rebind_alloc<operation>;
        auto op = std::allocate_shared<operation>(op_alloc(alloc), ctx, std::move(request), std::move(handler), ex);
        detail::prepare_call(op->call, ctx, budget, options);
        auto slot = boost::asio::get_associated_cancellation_slot(op->handler);
        if(slot.is_connected())
            slot.template emplace<detail::unary_canceller<operation>>(detail::unary_canceller<operation>{op.get()});
        // A weak reference: the operation owns the handle, and the call is over (and
        // nothing left to cancel) once the operation is gone.
        if(ctx.can_be_done())
            op->on_cancel = after_func(ex, ctx, [weak = std::weak_ptr<operation>(op)] {
                if(auto const live = weak.lock())
                    detail::cancel_unless_deadline(live->call, live->ctx);
            });
        auto* raw = op.get();
        raw->self = std::move(op);
        raw->started.store(true, std::memory_order_release);
        (stub->*method)(&raw->call, &raw->request, &raw->response, raw);
        raw->StartCall();
    };
    return boost::asio::async_initiate<CompletionToken, signature>(
        initiation, token, ctx, stub, method, std::move(request), options);
}

} // namespace asioctx::grpc

#endif
