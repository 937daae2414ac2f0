//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_SYNC_RUN_HPP
#define ASIOCTX_SYNC_RUN_HPP

#include <asioctx/core/context.hpp>
#include <asioctx/sync/detail/group_state.hpp>
#include <asioctx/asio/executor.hpp>
#include <asioctx/sync/group.hpp>

#include <boost/asio/append.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>

#include <tuple>
#include <type_traits>

namespace asioctx {

namespace detail {

struct initiate_run
{
    template<class Handler, class... Fns>
    void operator()(Handler&& handler, context const& ctx, std::tuple<Fns...>&& fns) const
    {
        boost::asio::any_io_executor tasks_ex;
        if(auto carried = executor_of(ctx))
            tasks_ex = *carried;
        auto ex = boost::asio::get_associated_executor(handler, tasks_ex);
        if(!tasks_ex)
            tasks_ex = boost::asio::any_io_executor(ex);
        if(!tasks_ex)
            ASIOCTX_THROW_NO_EXECUTOR();
        // A context already done starts nothing.
        if(auto ec = ctx.err())
        {
            boost::asio::post(ex, boost::asio::append(static_cast<Handler&&>(handler), std::exception_ptr(), ec));
            return;
        }
        if constexpr(sizeof...(Fns) == 0)
        {
            boost::asio::post(ex, boost::asio::append(static_cast<Handler&&>(handler),
                std::exception_ptr(), boost::system::error_code()));
        }
        else
        {
            auto state = std::make_shared<group_state>(tasks_ex, ctx);
            // Every task counts before any starts: one that ends at once cannot end the run.
            for(std::size_t i = 0; i < sizeof...(Fns); ++i)
                state->begin_task();
            std::apply([&](auto&... fn) { (state->start(std::move(fn), false), ...); }, fns);
            initiate_group_wait{}(static_cast<Handler&&>(handler), state);
        }
    }
};

} // namespace detail

/** The operation returned by `run(ctx, fns...)`: call it with a completion token.
    Lazy: nothing starts until then.
*/
template<class... Fns>
class [[nodiscard]] run_operation
{
public:
    run_operation(context ctx, std::tuple<Fns...> fns)
        : ctx_(std::move(ctx))
        , fns_(std::move(fns))
    {
    }

    /// Starts the run. Signature: `void(std::exception_ptr, boost::system::error_code)`.
    template<class RunToken>
    auto operator()(RunToken&& token) &&
    {
        return boost::asio::async_initiate<RunToken, void(std::exception_ptr, boost::system::error_code)>(
            detail::initiate_run{}, token, ctx_, std::move(fns_));
    }

private:
    context ctx_;
    std::tuple<Fns...> fns_;
};

/** Structured concurrency in one call:
    `co_await asioctx::run(ctx, fa, fb, fc)(asio::use_awaitable);`

    Every `fn` receives the same context, derived from `ctx` (so the same value chain);
    the first failure cancels it, with that failure as the cause, and the others see
    it at once; the operation completes only after every `fn` has returned, and the
    derived context is cancelled before it completes, so a context a task kept is done
    by then. Tasks are as for `group::spawn` (awaitables, or plain functions) and run on
    the executor `ctx` carries, else on the completion handler's associated executor.

    If `ctx` is already done the operation completes with `ctx.err()` without
    starting anything; with no `fns` it completes with success. Either way it is
    posted, never completed inside the call.

    Completion: as `group::async_wait`: `(nullptr, ec)` for the first error code,
    `(exception, {})` for an exception other than `system_error`, `(nullptr, {})` on
    success. Per-operation cancellation: terminal, partial and total cancel the derived
    context; the operation still completes only after every `fn` has returned.

    Signature: `void(std::exception_ptr, boost::system::error_code)`.
*/
template<class... Fns>
run_operation<std::decay_t<Fns>...> run(context const& ctx, Fns&&... fns)
{
    return run_operation<std::decay_t<Fns>...>(ctx, std::tuple<std::decay_t<Fns>...>(static_cast<Fns&&>(fns)...));
}

} // namespace asioctx

#endif
