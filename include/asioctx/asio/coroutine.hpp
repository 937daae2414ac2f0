//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_ASIO_COROUTINE_HPP
#define ASIOCTX_ASIO_COROUTINE_HPP

#include <asioctx/asio/bind.hpp>
#include <asioctx/core/context.hpp>
#include <asioctx/asio/executor.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/system/system_error.hpp>

#include <functional>
#include <type_traits>

namespace asioctx {

/** Stops at a cancellation point: throws `boost::system::system_error` holding
    `ctx.err()` if `ctx` is done (the check before the work). In code that reports
    errors instead of throwing, test `ctx.err()`.
*/
inline void throw_if_done(context const& ctx)
{
    if(auto ec = ctx.err())
        throw boost::system::system_error(ec);
}

/** Starts a coroutine bound to `ctx`: `co_spawn(ex, ctx, fn, token)`.

    `fn` is called (once, inside the coroutine, which owns `fn` until it completes, so
    a lambda's captures stay valid across suspensions) with a context derived from
    `ctx` that carries `ex` as its executor
    (unless `ctx` already carries `ex`), so deadlines and `after_func` inside the
    coroutine need no executor argument; it returns `asio::awaitable<T>`.
    The coroutine is spawned with `asioctx::bind(ctx, token, type)`: when `ctx` is done,
    whatever the coroutine is awaiting is cancelled and completes with the context's error
    (an `asio::awaitable` rethrows it as `boost::system::system_error`).

    Completion: `token` receives `void(std::exception_ptr)` or
    `void(std::exception_ptr, T)`, as with `asio::co_spawn`. If `ctx` is already done, the
    coroutine is never started and the token receives a `system_error` holding `ctx.err()`.

    Cancellation types: Boost 1.81's `co_spawn` lets only terminal cancellation into a
    coroutine unless the coroutine widens its filter with
    `co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation())`;
    `type` (terminal by default) is what the context emits.
*/
template<class Executor, class F, class CompletionToken>
auto co_spawn(Executor const& ex, context const& ctx, F&& fn, CompletionToken&& token,
    boost::asio::cancellation_type type = boost::asio::cancellation_type::terminal)
{
    context inner = detail::carrying_executor(ctx, ex);
    // Asio's function-object overload keeps `fn` alive in the coroutine's own frame:
    // a capturing lambda's captures outlive its first suspension.
    return boost::asio::co_spawn(
        ex,
        [fn = std::decay_t<F>(static_cast<F&&>(fn)), inner = std::move(inner)]() mutable {
            return std::invoke(fn, std::move(inner));
        },
        asioctx::bind(ctx, static_cast<CompletionToken&&>(token), type));
}

} // namespace asioctx

#endif
