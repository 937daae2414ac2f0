//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#include <asioctx/grpc/error.hpp>

#include <boost/system/errc.hpp>

#include <ostream>

namespace asioctx::grpc::detail {

namespace {

char const* error_text(int ev) noexcept
{
    switch(static_cast<error>(ev))
    {
    case error::cancelled:
        return "cancelled";
    case error::unknown:
        return "unknown";
    case error::invalid_argument:
        return "invalid argument";
    case error::deadline_exceeded:
        return "deadline exceeded";
    case error::not_found:
        return "not found";
    case error::already_exists:
        return "already exists";
    case error::permission_denied:
        return "permission denied";
    case error::resource_exhausted:
        return "resource exhausted";
    case error::failed_precondition:
        return "failed precondition";
    case error::aborted:
        return "aborted";
    case error::out_of_range:
        return "out of range";
    case error::unimplemented:
        return "unimplemented";
    case error::internal:
        return "internal";
    case error::unavailable:
        return "unavailable";
    case error::data_loss:
        return "data loss";
    case error::unauthenticated:
        return "unauthenticated";
    case error::client_cancelled:
        return "client cancelled the call";
    case error::server_shutdown:
        return "server shut down";
    }
    return "unknown asioctx.grpc error";
}

} // namespace

char const* error_category_impl::name() const noexcept
{
    return "asioctx.grpc";
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
    // asioctx's conditions match generic ECANCELED and ETIMEDOUT (see asioctx::condition).
    switch(static_cast<error>(ev))
    {
    case error::cancelled:
    case error::client_cancelled:
    case error::server_shutdown:
        return boost::system::errc::operation_canceled;
    case error::deadline_exceeded:
        return boost::system::errc::timed_out;
    default:
        return {ev, *this};
    }
}

} // namespace asioctx::grpc::detail

namespace asioctx::grpc {

std::ostream& operator<<(std::ostream& os, error e)
{
    return os << error_category().message(static_cast<int>(e)) << " [" << error_category().name() << ':'
              << static_cast<int>(e) << ']';
}

} // namespace asioctx::grpc
