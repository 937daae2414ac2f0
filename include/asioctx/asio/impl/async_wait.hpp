//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_ASIO_IMPL_ASYNC_WAIT_HPP
#define ASIOCTX_ASIO_IMPL_ASYNC_WAIT_HPP

#include <asioctx/asio/detail/waiter.hpp>
#include <asioctx/asio/executor.hpp>
#include <asioctx/core/detail/node.hpp>
#include <asioctx/core/error.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/error.hpp>

#include <atomic>

namespace asioctx {

namespace detail {

// A pending async_wait. Settled exactly once, by whichever comes first: the context
// being done (fire) or the wait's own cancellation slot; `claimed_` decides. If the
// executor's execution context shuts down first, the wait is abandoned instead.
template<class Handler, class Executor>
class context_waiter final : public waiter
{
public:
    context_waiter(std::shared_ptr<waiter_registry> registry, context const& ctx, Handler h, Executor ex)
        : waiter(std::move(registry), access::node_of(ctx), access::state_of(ctx))
        , handler_(std::move(h), std::move(ex))
    {
    }

    void fire(boost::system::error_code const& err, boost::system::error_code const&) noexcept override
    {
        if(claim())
            complete(err);
    }

    bool claim() noexcept
    {
        return !claimed_.exchange(true, std::memory_order_acq_rel);
    }

    // Posts the handler with `ec`, never calling it here.
    void complete(boost::system::error_code const& ec) noexcept
    {
        handler_.post(*this, call_with<boost::system::error_code>{ec});
    }

    // The wait's own slot was emitted: the context is unaffected, the wait ends.
    void cancelled_by_slot() noexcept
    {
        if(!claim())
            return;
        remove_registration(state(), this);
        complete(boost::asio::error::operation_aborted);
    }

    // Whoever claims the wait completes it. A wait on a context that can never be done
    // is listed in no node, so only this claim settles it against its own slot.
    void shut_down(bool) noexcept override
    {
        if(claim())
            handler_.abandon();
    }

private:
    pending_handler<Handler, Executor> handler_;
    std::atomic<bool> claimed_{false};
};

struct initiate_context_wait
{
    template<class Handler>
    void operator()(Handler&& handler, context const& ctx) const
    {
        using handler_type = std::decay_t<Handler>;
        boost::asio::any_io_executor fallback;
        if(auto ex = executor_of(ctx))
            fallback = *ex;
        auto ex = boost::asio::get_associated_executor(handler, fallback);
        if(!boost::asio::any_io_executor(ex))
            ASIOCTX_THROW_NO_EXECUTOR(); // nowhere to run the handler
        using waiter_type = context_waiter<handler_type, decltype(ex)>;

        auto state = access::state_of(ctx);
        auto slot = boost::asio::get_associated_cancellation_slot(handler);
        if(state->kind_ == node_kind::never && !slot.is_connected())
            return; // could never complete: abandoned at once (documented)
        auto w = new waiter_type(registry_for(boost::asio::any_io_executor(ex), ctx), ctx,
            static_cast<Handler&&>(handler), ex);
        track_or_throw(w);
        if(slot.is_connected())
            slot.template emplace<waiter_cancellation<waiter_type>>(w);
        if(state->kind_ != node_kind::never && !add_registration(state, w))
        {
            if(w->claim())
                w->complete(ctx.err()); // already done: posted, never inline
        }
        w->release();
    }
};

} // namespace detail

template<class WaitToken>
auto async_wait(context const& ctx, WaitToken&& token)
{
    return boost::asio::async_initiate<WaitToken, void(boost::system::error_code)>(
        detail::initiate_context_wait{}, token, ctx);
}

} // namespace asioctx

#endif
