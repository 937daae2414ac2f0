//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_GRPC_STATUS_HPP
#define ASIOCTX_GRPC_STATUS_HPP

#include <asioctx/grpc/config.hpp>

#include <boost/system/error_code.hpp>

#include <grpcpp/support/status.h>

namespace asioctx::grpc {

/** The gRPC status to answer for `ec`, for a handler that passes an error on (an
    outgoing call's, say):
    - no error: `OK`;
    - an `asioctx::grpc::error` status code: that code;
    - anything equal to `asioctx::condition::deadline_exceeded`: `DEADLINE_EXCEEDED`;
    - anything equal to `asioctx::condition::canceled`: `CANCELLED`;
    - anything else: `UNKNOWN`.
    The message is the error's message.
*/
ASIOCTX_GRPC_DECL ::grpc::Status to_status(boost::system::error_code const& ec);

} // namespace asioctx::grpc

#endif
