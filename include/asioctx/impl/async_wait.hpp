//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_IMPL_ASYNC_WAIT_HPP
#define ASIOCTX_IMPL_ASYNC_WAIT_HPP

#include <asioctx/detail/executor_registration.hpp>
#include <asioctx/detail/node.hpp>
#include <asioctx/error.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_allocator.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include <atomic>
#include <optional>

namespace asioctx {

namespace detail {

// The executor a handler without one of its own should run on: the context's.
ASIOCTX_DECL boost::asio::any_io_executor const* tree_executor_of(context const& ctx) noexcept;

// Calls `handler(ec)` after clearing the slot it was waiting with; keeps the handler's
// executor and allocator.
template<class Handler>
struct wait_completion
{
    Handler handler;
    boost::asio::cancellation_slot slot;
    boost::system::error_code ec;

    void operator()()
    {
        if(slot.is_connected())
            slot.clear();
        std::move(handler)(ec);
    }
};

// A pending async_wait. Completed exactly once, by whichever comes first: the context
// being done (fire) or the wait's own cancellation slot; `claimed_` decides. If the
// executor's execution context shuts down first, the wait is abandoned instead.
template<class Handler, class Executor>
class wait_registration final : public executor_registration
{
public:
    wait_registration(std::shared_ptr<deadline_queue> owner, context const& ctx, Handler h, Executor ex)
        : executor_registration(std::move(owner), detail::access::node_of(ctx), detail::access::state_of(ctx))
        , handler_(std::move(h))
        , work_(std::move(ex))
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

    // Posts the handler with `ec` to its executor; never calls it here. Nothing is
    // posted once the execution context has shut down (the wait was abandoned).
    void complete(boost::system::error_code const& ec) noexcept
    {
        auto lock = claim_for_post(this);
        if(!lock)
        {
            abandon(); // the execution context has shut down: nothing to post to
            return;
        }
        auto slot = boost::asio::get_associated_cancellation_slot(*handler_);
        auto ex = work_->get_executor();
        try
        {
            boost::asio::post(ex, wait_completion<Handler>{std::move(*handler_), slot, ec});
        }
        catch(...)
        {
            // Out of memory while posting: the wait is dropped.
        }
        handler_.reset();
        work_.reset();
        lock->unlock();
    }

    // Whoever claims the wait completes it. A wait on a context that can never be done
    // is listed in no node, so only this claim settles it against its own slot.
    void shut_down(bool) noexcept override
    {
        if(claim())
            abandon();
    }

private:
    // Destroys the handler and the work, uncalled (the executor's context is gone).
    void abandon() noexcept
    {
        handler_.reset();
        work_.reset();
    }

    std::optional<Handler> handler_;
    std::optional<boost::asio::executor_work_guard<Executor>> work_;
    std::atomic<bool> claimed_{false};
};

template<class Registration>
struct wait_cancellation
{
    Registration* reg;
    cancel_node* state;

    explicit wait_cancellation(Registration* r, cancel_node* s) noexcept
        : reg(r)
        , state(s)
    {
        reg->add_ref();
    }
    wait_cancellation(wait_cancellation const&) = delete;
    ~wait_cancellation()
    {
        reg->release();
    }

    // Runs on the handler's executor: the context is unaffected, the wait ends.
    void operator()(boost::asio::cancellation_type) noexcept
    {
        if(!reg->claim())
            return;
        remove_registration(state, reg);
        reg->complete(boost::asio::error::operation_aborted);
    }
};

struct initiate_context_wait
{
    template<class Handler>
    void operator()(Handler&& handler, context const& ctx) const
    {
        using handler_type = std::decay_t<Handler>;
        boost::asio::any_io_executor fallback;
        if(auto ex = tree_executor_of(ctx))
            fallback = *ex;
        auto ex = boost::asio::get_associated_executor(handler, fallback);
        if(!boost::asio::any_io_executor(ex))
            ASIOCTX_THROW_NO_EXECUTOR(); // nowhere to run the handler
        using reg_type = wait_registration<handler_type, decltype(ex)>;

        auto state = detail::access::state_of(ctx);
        auto slot = boost::asio::get_associated_cancellation_slot(handler);
        if(state->kind_ == node_kind::never && !slot.is_connected())
            return; // could never complete: abandoned at once (documented)
        auto reg = new reg_type(owner_for(boost::asio::any_io_executor(ex), ctx), ctx,
            static_cast<Handler&&>(handler), ex);
        if(!track(reg))
        {
            reg->release();
            ASIOCTX_THROW_NO_EXECUTOR(); // its execution context has shut down
        }
        if(slot.is_connected())
            slot.template emplace<wait_cancellation<reg_type>>(reg, state);
        if(state->kind_ != node_kind::never && !add_registration(state, reg))
        {
            if(reg->claim())
                reg->complete(ctx.err()); // already done: posted, never inline
        }
        reg->release();
    }
};

} // namespace detail

template<class WaitToken>
auto context::async_wait(WaitToken&& token) const
{
    return boost::asio::async_initiate<WaitToken, void(boost::system::error_code)>(
        detail::initiate_context_wait{}, token, *this);
}

} // namespace asioctx

#endif
