//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_ASIO_AFTER_FUNC_HPP
#define ASIOCTX_ASIO_AFTER_FUNC_HPP

#include <asioctx/core/context.hpp>
#include <asioctx/asio/detail/waiter.hpp>
#include <asioctx/core/detail/node.hpp>
#include <asioctx/asio/executor.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <optional>
#include <type_traits>
#include <utility>

namespace asioctx {

/** The handle returned by `after_func` (Go's `stop` function).

    Destroying it does not stop anything: the call stays scheduled, as in Go where
    the stop function may be dropped. Move-only; `stop()` is safe from any thread.
*/
class after_func_handle
{
public:
    after_func_handle() noexcept = default;

    after_func_handle(context ctx, detail::registration* reg) noexcept
        : ctx_(std::move(ctx))
        , reg_(reg)
    {
    }

    after_func_handle(after_func_handle&& other) noexcept
        : ctx_(std::move(other.ctx_))
        , reg_(std::exchange(other.reg_, nullptr))
        , stopped_(other.stopped_)
    {
    }

    after_func_handle& operator=(after_func_handle&& other) noexcept
    {
        after_func_handle(std::move(other)).swap(*this);
        return *this;
    }

    ~after_func_handle()
    {
        if(reg_)
            reg_->release();
    }

    void swap(after_func_handle& other) noexcept
    {
        ctx_.swap(other.ctx_);
        std::swap(reg_, other.reg_);
        std::swap(stopped_, other.stopped_);
    }

    /** Prevents the call if it has not been scheduled yet. Returns true if this call
        prevented it; false if it was already scheduled to run (the context was done
        first), or already stopped.
    */
    bool stop() noexcept
    {
        if(!reg_)
            return !std::exchange(stopped_, true);
        if(!detail::remove_registration(detail::access::state_of(ctx_), reg_))
            return false;
        static_cast<detail::waiter*>(reg_)->untrack();
        return true;
    }

private:
    context ctx_;
    detail::registration* reg_ = nullptr; // nullptr: the context can never be done
    bool stopped_ = false;
};

namespace detail {

template<class F>
class after_func_waiter final : public waiter
{
public:
    after_func_waiter(std::shared_ptr<waiter_registry> registry, context const& ctx,
        boost::asio::any_io_executor ex, F f)
        : waiter(std::move(registry), access::node_of(ctx), access::state_of(ctx))
        , ex_(std::move(ex))
        , f_(std::move(f))
    {
    }

    void fire(boost::system::error_code const&, boost::system::error_code const&) noexcept override
    {
        // Posted, never run on the cancelling thread; and only while the executor's
        // execution context is alive. A call is not an operation: it holds no work.
        post_claimed(*this, ex_, std::move(*f_));
        f_.reset();
    }

    void shut_down(bool unlisted) noexcept override
    {
        // Not unlisted: a cancel took it first, and its fire() drops the function.
        if(unlisted)
            f_.reset();
    }

private:
    boost::asio::any_io_executor ex_;
    std::optional<F> f_;
};

} // namespace detail

/** Arranges for `f()` to be posted to `ex` once `ctx` is done (Go's `AfterFunc`).

    `f` runs at most once, never inside the call that cancelled the context nor inside
    `after_func` itself: if `ctx` is already done it is posted at once. If `ctx` can
    never be done (background, without_cancel), `f` never runs. If `ex`'s execution
    context shuts down first, the call is abandoned: `f` is destroyed without running.
    `f` must be callable as `f()` and move-constructible.

    @throws boost::system::system_error with `error::no_executor` if `ex` is empty or its
    execution context has shut down.
*/
template<class F>
after_func_handle after_func(boost::asio::any_io_executor const& ex, context const& ctx, F&& f)
{
    using fn = std::decay_t<F>;
    static_assert(std::is_invocable_v<fn&>, "after_func: f must be callable with no arguments");
    if(!ex)
        ASIOCTX_THROW_NO_EXECUTOR();
    auto state = detail::access::state_of(ctx);
    if(state->kind_ == detail::node_kind::never)
        return after_func_handle();
    auto reg = new detail::after_func_waiter<fn>(detail::registry_for(ex, ctx), ctx, ex, static_cast<F&&>(f));
    detail::track_or_throw(reg);
    if(!detail::add_registration(state, reg))
        reg->fire(ctx.err(), cause(ctx)); // already done: post at once
    return after_func_handle(ctx, reg);
}

/// Same, on the executor that `ctx` carries (`with_executor`).
/// @throws boost::system::system_error with `error::no_executor` if it carries none.
template<class F>
after_func_handle after_func(context const& ctx, F&& f)
{
    auto ex = executor_of(ctx);
    if(!ex)
        ASIOCTX_THROW_NO_EXECUTOR();
    return after_func(*ex, ctx, static_cast<F&&>(f));
}

} // namespace asioctx

#endif
