//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_ASIO_ASYNC_WAIT_HPP
#define ASIOCTX_ASIO_ASYNC_WAIT_HPP

#include <asioctx/core/context.hpp>

namespace asioctx {

/** Waits until `ctx` is done: Go's `<-ctx.Done()` as an Asio operation.

    Completes with `ctx.err()` (`error::canceled` or `error::deadline_exceeded`) once the
    context is done; if it already is, the handler is posted at once, never called inside
    this function. The handler runs on its associated executor, by default the executor
    the context carries (`with_executor`); with neither, the call throws
    `boost::system::system_error` with `error::no_executor`. A pending wait is
    outstanding work of that executor; if the executor's execution context shuts down
    first, the wait is abandoned (its handler destroyed without being called).

    Per-operation cancellation: terminal, partial and total are all supported; the wait
    then completes with `asio::error::operation_aborted`, and the context is unaffected.
    A wait on a context that can never be done completes only that way; if its handler
    has no cancellation slot either, it could never complete and is abandoned at once
    (the handler is destroyed without being called). Usable in
    `experimental::parallel_group` and awaitable operators to race a context against
    other work.

    Signature: `void(boost::system::error_code)`.
*/
template<class WaitToken>
auto async_wait(context const& ctx, WaitToken&& token);

} // namespace asioctx

#include <asioctx/asio/impl/async_wait.hpp>

#endif
