//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_ASIO_BIND_HPP
#define ASIOCTX_ASIO_BIND_HPP

#include <asioctx/core/context.hpp>

#include <boost/asio/async_result.hpp>
#include <boost/asio/cancellation_type.hpp>

#include <type_traits>
#include <utility>

namespace asioctx {

/** A completion token bound to a context; made by `asioctx::bind`. */
template<class Token>
struct bound_token
{
    context ctx;
    Token token;
    boost::asio::cancellation_type type;
};

/** Binds an asynchronous operation to `ctx`: when `ctx` is done, the operation is
    cancelled through its per-operation cancellation slot.

    Works with any Asio-style operation (timers, sockets, resolvers, `co_spawn`,
    `experimental::parallel_group`, `async_compose` operations, Beast) and any
    completion token: callbacks, `use_awaitable`, `deferred`, `use_future`, `as_tuple`,
    `detached`, `yield_context`. The token's other associations (executor, allocator)
    are kept; a cancellation slot the token already had still cancels the operation.

    Completion:
    - If `ctx` is already done when the operation is initiated, an operation whose
      completion signature starts with `error_code` (or `exception_ptr`) is not started:
      its handler is posted with `ctx.err()` (or a `system_error` holding it) and
      default values for the other arguments. Operations of other signatures are started
      and cancelled at once.
    - If `ctx` becomes done while the operation is pending, from any thread, a
      cancellation of type `type` (terminal by default) is emitted on the operation's
      signal, on the handler's associated executor. Every completion argument that then
      says `operation_aborted` (an `error_code`, or an `exception_ptr` holding a
      `system_error`) is replaced by `ctx.err()`: `error::canceled` or
      `error::deadline_exceeded`, each equal to the Asio error through
      `asioctx::condition`.
    - An operation that completed before the cancellation reached it completes normally,
      with success or its own error: cancellation is a request, as in Asio.
    - The request is sticky: each later step of the operation that hooks the cancellation
      slot (a composed operation's next read or write) has it delivered again, once that
      step has started. A composed operation whose steps hook the slot directly therefore
      ends at its first step that waits; a step that completes at once because its bytes
      were already there cannot be cancelled. An `async_compose` operation that never
      checks its cancellation state (Beast 1.81's HTTP operations) hooks the slot once and
      gets no re-delivery. To end any composed operation within one step whatever the
      peer does, bind the stream instead (`bind_stream`).

    Binding to a context that can never be done (background, without_cancel) costs
    nothing. Otherwise it allocates one registration, unlinked in O(1) when the operation
    completes.

    Per-operation cancellation: the operation itself remains cancellable through the
    token's own slot (e.g. a coroutine's), with whatever types the operation supports.
*/
template<class Token>
[[nodiscard]] bound_token<std::decay_t<Token>> bind(
    context ctx, Token&& token,
    boost::asio::cancellation_type type = boost::asio::cancellation_type::terminal)
{
    return bound_token<std::decay_t<Token>>{std::move(ctx), static_cast<Token&&>(token), type};
}

} // namespace asioctx

#include <asioctx/asio/impl/bind.hpp>

#endif
