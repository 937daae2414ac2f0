//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_GRPC_IMPL_SERVER_HPP
#define ASIOCTX_GRPC_IMPL_SERVER_HPP

#include <asioctx/asio/coroutine.hpp>

#include <exception>
#include <utility>

namespace asioctx::grpc {

template<class Request, class Response, class Handler>
::grpc::ServerUnaryReactor* server::unary(::grpc::CallbackServerContext* call, Request const* request,
    Response* response, Handler handler)
{
    auto* reactor = new detail::server_call(state_, call);
    if(!reactor->started())
        return reactor;
    // Bound to the call's context: whatever the handler awaits ends when the call
    // does. The completion answers the call; gRPC then calls OnDone, which frees it.
    asioctx::co_spawn(
        reactor->executor(), reactor->ctx(),
        [request, response, handler = std::move(handler)](context ctx) mutable
            -> boost::asio::awaitable<::grpc::Status> {
            co_return co_await handler(std::move(ctx), *request, *response);
        },
        [reactor](std::exception_ptr error, ::grpc::Status status) {
            reactor->complete(error, std::move(status));
        });
    return reactor;
}

} // namespace asioctx::grpc

#endif
