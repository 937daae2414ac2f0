//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_SYNC_IMPL_MUTEX_HPP
#define ASIOCTX_SYNC_IMPL_MUTEX_HPP

#include <asioctx/sync/detail/acquire.hpp>

#include <boost/asio/async_result.hpp>
#include <boost/asio/compose.hpp>

namespace asioctx {

template<class LockToken>
auto mutex::async_lock(context const& ctx, LockToken&& token)
{
    return boost::asio::async_initiate<LockToken, void(boost::system::error_code)>(
        detail::initiate_acquire{core_, &ex_}, token, ctx, std::uint64_t(1));
}

namespace detail {

struct guard_op
{
    mutex* m;
    context ctx;
    bool started = false;

    template<class Self>
    void operator()(Self& self, boost::system::error_code ec = {})
    {
        if(!started)
        {
            started = true;
            // A copy: `self` (and this op's members with it) moves into the lock wait.
            auto const c = ctx;
            m->async_lock(c, std::move(self));
            return;
        }
        if(ec)
            self.complete(ec, mutex_guard());
        else
            self.complete(ec, mutex_guard(*m, std::adopt_lock));
    }
};

} // namespace detail

template<class LockToken>
auto mutex::async_guard(context const& ctx, LockToken&& token)
{
    return boost::asio::async_compose<LockToken, void(boost::system::error_code, mutex_guard)>(
        detail::guard_op{this, ctx}, token, ex_);
}

} // namespace asioctx

#endif
