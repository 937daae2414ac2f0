//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#include <asioctx/core/error.hpp>

#include <boost/system/errc.hpp>

#include <cerrno>
#include <cstring>
#include <ostream>

namespace asioctx::detail {

namespace {

char const* error_text(int ev) noexcept
{
    switch(static_cast<error>(ev))
    {
    case error::canceled:
        return "context canceled";
    case error::deadline_exceeded:
        return "context deadline exceeded";
    case error::no_executor:
        return "no executor: pass one, or derive the context with with_executor";
    case error::not_locked:
        return "unlock of an asioctx::mutex that is not locked";
    case error::exceeds_capacity:
        return "semaphore request larger than the semaphore's capacity";
    case error::over_released:
        return "semaphore released more units than are held";
    case error::group_busy:
        return "group::set_limit while tasks of the group are running";
    case error::task_exception:
        return "a task of the group exited with an exception";
    }
    return "unknown asioctx error";
}

char const* condition_text(int ev) noexcept
{
    switch(static_cast<condition>(ev))
    {
    case condition::canceled:
        return "canceled";
    case condition::deadline_exceeded:
        return "deadline exceeded";
    }
    return "unknown asioctx condition";
}

} // namespace

char const* error_category_impl::name() const noexcept
{
    return "asioctx";
}

std::string error_category_impl::message(int ev) const
{
    return error_text(ev);
}

char const* error_category_impl::message(int ev, char*, std::size_t) const noexcept
{
    return error_text(ev);
}

boost::system::error_condition error_category_impl::default_error_condition(int ev) const noexcept
{
    // Generic conditions too, so code that checks errc::operation_canceled or
    // errc::timed_out (as much Asio code does) sees asioctx errors for what they are.
    switch(static_cast<error>(ev))
    {
    case error::canceled:
        return boost::system::errc::make_error_condition(boost::system::errc::operation_canceled);
    case error::deadline_exceeded:
        return boost::system::errc::make_error_condition(boost::system::errc::timed_out);
    default:
        return boost::system::error_condition(ev, *this);
    }
}

char const* condition_category_impl::name() const noexcept
{
    return "asioctx.condition";
}

std::string condition_category_impl::message(int ev) const
{
    return condition_text(ev);
}

char const* condition_category_impl::message(int ev, char*, std::size_t) const noexcept
{
    return condition_text(ev);
}

bool condition_category_impl::equivalent(
    boost::system::error_code const& code, int cond) const noexcept
{
    // asioctx's own errors, and whatever error means the same thing in Asio (system
    // or generic ECANCELED / ETIMEDOUT: asio::error::operation_aborted and timed_out).
    if(code.category() == asioctx::error_category())
        return code.value() == cond;
    auto const generic = code.default_error_condition();
    switch(static_cast<condition>(cond))
    {
    case condition::canceled:
        return generic == boost::system::errc::operation_canceled;
    case condition::deadline_exceeded:
        return generic == boost::system::errc::timed_out;
    }
    return false;
}

} // namespace asioctx::detail

namespace asioctx {

std::ostream& operator<<(std::ostream& os, error e)
{
    return os << error_category().message(static_cast<int>(e)) << " [" << error_category().name() << ':'
              << static_cast<int>(e) << ']';
}

std::ostream& operator<<(std::ostream& os, condition c)
{
    return os << condition_category().message(static_cast<int>(c)) << " [" << condition_category().name() << ':'
              << static_cast<int>(c) << ']';
}

} // namespace asioctx
