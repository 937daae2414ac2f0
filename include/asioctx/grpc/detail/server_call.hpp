//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_GRPC_DETAIL_SERVER_CALL_HPP
#define ASIOCTX_GRPC_DETAIL_SERVER_CALL_HPP

#include <asioctx/core/cancel.hpp>
#include <asioctx/core/context.hpp>
#include <asioctx/grpc/config.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <grpcpp/server_context.h>
#include <grpcpp/support/server_callback.h>
#include <grpcpp/support/status.h>

#include <atomic>
#include <exception>
#include <memory>

namespace asioctx::grpc::detail {

struct server_state;

/** One unary call as gRPC's reactor.

    Lifetime: created by `server::unary` on a gRPC thread, deleted by itself in
    `OnDone`, which gRPC calls once, after `Finish` and after any `OnCancel` has
    returned. The context and the cancel handle are written in the constructor only;
    `OnCancel` (a gRPC thread) and the handler (the server's executor) only read them or
    cancel through the handle, which is safe from any thread. gRPC's hand-offs between
    its threads are not visible to ThreadSanitizer, so `sync_` makes them visible: the
    constructor's end, `OnCancel`'s end and `complete` release it, and `OnCancel` and
    `OnDone` acquire it before touching anything else.
*/
class server_call final : public ::grpc::ServerUnaryReactor
{
public:
    /// Builds the call's context; when the server is shutting down, answers
    /// `UNAVAILABLE` at once instead and `started()` is false.
    ASIOCTX_GRPC_DECL server_call(std::shared_ptr<server_state> server, ::grpc::CallbackServerContext* call);

    bool started() const noexcept
    {
        return sync_.load(std::memory_order_acquire) != refused;
    }

    context const& ctx() const noexcept
    {
        return ctx_;
    }

    ASIOCTX_GRPC_DECL boost::asio::any_io_executor const& executor() const noexcept;

    /// The handler has ended (`error` set if it threw): answers the call once.
    ASIOCTX_GRPC_DECL void complete(std::exception_ptr error, ::grpc::Status status) noexcept;

    ASIOCTX_GRPC_DECL void OnCancel() override;
    ASIOCTX_GRPC_DECL void OnDone() override;

private:
    ~server_call() override;

    std::shared_ptr<server_state> server_;
    context ctx_;
    cancel_handle cancel_;
    static constexpr int refused = 0;
    std::atomic<int> sync_{refused}; // refused, or started and counting hand-offs
};

} // namespace asioctx::grpc::detail

#endif
