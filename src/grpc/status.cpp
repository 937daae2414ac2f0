//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#include <asioctx/grpc/status.hpp>

#include <asioctx/core/error.hpp>
#include <asioctx/grpc/error.hpp>

namespace asioctx::grpc {

::grpc::Status to_status(boost::system::error_code const& ec)
{
    if(!ec)
        return ::grpc::Status::OK;
    if(ec.category() == error_category() && ec.value() >= 1 && ec.value() <= 16)
        return ::grpc::Status(static_cast<::grpc::StatusCode>(ec.value()), ec.message());
    if(ec == condition::deadline_exceeded)
        return ::grpc::Status(::grpc::StatusCode::DEADLINE_EXCEEDED, ec.message());
    if(ec == condition::canceled)
        return ::grpc::Status(::grpc::StatusCode::CANCELLED, ec.message());
    return ::grpc::Status(::grpc::StatusCode::UNKNOWN, ec.message());
}

} // namespace asioctx::grpc
