//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#include <asioctx/sync/mutex.hpp>
#include <asioctx/sync/semaphore.hpp>

#include <boost/system/system_error.hpp>

namespace asioctx {

mutex::mutex(executor_type ex)
    : ex_(std::move(ex))
    , core_(new detail::semaphore_core(1))
{
}

mutex::~mutex()
{
    core_->close();
    core_->release_ref();
}

boost::system::error_code mutex::not_locked_error() noexcept
{
    static constexpr auto loc = BOOST_CURRENT_LOCATION;
    return make_error_code(error::not_locked, &loc);
}

void mutex::throw_not_locked()
{
    throw boost::system::system_error(not_locked_error());
}

semaphore::semaphore(executor_type ex, std::uint64_t capacity)
    : ex_(std::move(ex))
    , core_(new detail::semaphore_core(capacity))
{
}

semaphore::~semaphore()
{
    core_->close();
    core_->release_ref();
}

void semaphore::release(std::uint64_t n, boost::system::error_code& ec) noexcept
{
    if(core_->release(n))
    {
        ec = {};
        return;
    }
    static constexpr auto loc = BOOST_CURRENT_LOCATION;
    ec = make_error_code(error::over_released, &loc);
}

void semaphore::release(std::uint64_t n)
{
    boost::system::error_code ec;
    release(n, ec);
    if(ec)
        throw boost::system::system_error(ec);
}

} // namespace asioctx
