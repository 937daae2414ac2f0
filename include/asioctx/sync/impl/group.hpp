//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_SYNC_IMPL_GROUP_HPP
#define ASIOCTX_SYNC_IMPL_GROUP_HPP

#include <boost/asio/async_result.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/error.hpp>

namespace asioctx {
namespace detail {

template<class F>
struct spawn_op
{
    std::shared_ptr<group_state> state;
    F fn;
    enum
    {
        starting,
        waiting_for_slot,
        started
    } stage = starting;

    template<class Self>
    void operator()(Self& self, boost::system::error_code ec = {})
    {
        switch(stage)
        {
        case starting:
            state->begin_task();
            if(auto limit = state->limit())
            {
                stage = waiting_for_slot;
                // A copy: `self` (and `state` with it) moves into the wait.
                auto s = state;
                limit->async_acquire(s->ctx(), 1, std::move(self));
                return;
            }
            stage = started;
            state->start(std::move(fn), false);
            boost::asio::post(std::move(self)); // never complete inside the call
            return;
        case waiting_for_slot:
            stage = started;
            if(ec)
                state->drop_task(ec);
            else
                state->start(std::move(fn), true);
            self.complete(ec);
            return;
        case started:
            self.complete(ec);
            return;
        }
    }
};

// Hooked into a group wait's slot: cancelling the wait cancels the group.
struct group_wait_cancellation
{
    std::weak_ptr<group_state> state;

    explicit group_wait_cancellation(std::weak_ptr<group_state> s) noexcept
        : state(std::move(s))
    {
    }

    void operator()(boost::asio::cancellation_type) const noexcept
    {
        if(auto s = state.lock())
            s->cancel(boost::asio::error::operation_aborted);
    }
};

struct initiate_group_wait
{
    template<class Handler>
    void operator()(Handler&& handler, std::shared_ptr<group_state> const& state) const
    {
        using handler_type = std::decay_t<Handler>;
        auto ex = boost::asio::get_associated_executor(handler, state->executor());
        using waiter_type = group_waiter_impl<handler_type, decltype(ex)>;
        auto slot = boost::asio::get_associated_cancellation_slot(handler);
        auto w = new waiter_type(registry_for(boost::asio::any_io_executor(ex), state->ctx()), state,
            static_cast<Handler&&>(handler), ex);
        track_or_throw(w);
        if(slot.is_connected())
            slot.template emplace<group_wait_cancellation>(std::weak_ptr<group_state>(state));
        state->add_waiter(w);
    }
};

} // namespace detail

template<class F>
void group::spawn(F&& fn)
{
    if(try_spawn(static_cast<F&&>(fn)))
        return;
    async_spawn(static_cast<F&&>(fn), boost::asio::detached);
}

template<class F>
bool group::try_spawn(F&& fn)
{
    auto limit = state_->limit();
    if(limit && !limit->try_acquire(1))
        return false;
    state_->begin_task();
    state_->start(static_cast<F&&>(fn), limit != nullptr);
    return true;
}

template<class F, class SpawnToken>
auto group::async_spawn(F&& fn, SpawnToken&& token)
{
    return boost::asio::async_compose<SpawnToken, void(boost::system::error_code)>(
        detail::spawn_op<std::decay_t<F>>{state_, static_cast<F&&>(fn)}, token, state_->executor());
}

template<class WaitToken>
auto group::async_wait(WaitToken&& token)
{
    return boost::asio::async_initiate<WaitToken, void(std::exception_ptr, boost::system::error_code)>(
        detail::initiate_group_wait{}, token, state_);
}

} // namespace asioctx

#endif
