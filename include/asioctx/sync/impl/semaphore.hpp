//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_SYNC_IMPL_SEMAPHORE_HPP
#define ASIOCTX_SYNC_IMPL_SEMAPHORE_HPP

#include <asioctx/sync/detail/acquire.hpp>

#include <boost/asio/async_result.hpp>

namespace asioctx {

template<class AcquireToken>
auto semaphore::async_acquire(context const& ctx, std::uint64_t n, AcquireToken&& token)
{
    return boost::asio::async_initiate<AcquireToken, void(boost::system::error_code)>(
        detail::initiate_acquire{core_, &ex_}, token, ctx, n);
}

} // namespace asioctx

#endif
