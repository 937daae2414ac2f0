//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_ASIO_SLEEP_HPP
#define ASIOCTX_ASIO_SLEEP_HPP

#include <asioctx/asio/bind.hpp>
#include <asioctx/asio/deadline.hpp>
#include <asioctx/core/context.hpp>
#include <asioctx/core/detail/node.hpp>
#include <asioctx/asio/executor.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/consign.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <memory>

namespace asioctx {

namespace detail {

struct initiate_sleep
{
    template<class Handler>
    void operator()(Handler&& handler, context const& ctx, std::chrono::steady_clock::duration d) const
    {
        boost::asio::any_io_executor fallback;
        if(auto ex = executor_of(ctx))
            fallback = *ex;
        boost::asio::any_io_executor ex = boost::asio::get_associated_executor(handler, fallback);
        if(!ex)
            ASIOCTX_THROW_NO_EXECUTOR();
        auto timer = std::make_unique<boost::asio::steady_timer>(ex, d);
        auto& t = *timer;
        t.async_wait(asioctx::bind(ctx, boost::asio::consign(static_cast<Handler&&>(handler), std::move(timer))));
    }
};

} // namespace detail

/** Sleeps for `duration` unless `ctx` is done first: a cancellable sleep.

    Completes with success after `duration`, or with `ctx.err()` (`error::canceled` or
    `error::deadline_exceeded`) as soon as `ctx` is done; at once (posted) if it already
    is. The timer runs on the handler's associated executor, by default the executor `ctx`
    carries (`with_executor`).

    Per-operation cancellation: terminal, partial and total (those of `steady_timer`);
    the sleep then completes with `asio::error::operation_aborted`.

    Signature: `void(boost::system::error_code)`.
    @throws boost::system::system_error with `error::no_executor` if there is no executor.
*/
template<class Rep, class Period, class SleepToken>
auto async_sleep(context const& ctx, std::chrono::duration<Rep, Period> duration, SleepToken&& token)
{
    return boost::asio::async_initiate<SleepToken, void(boost::system::error_code)>(
        detail::initiate_sleep{}, token, ctx, detail::to_steady(duration));
}

} // namespace asioctx

#endif
