//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_GRPC_ERROR_HPP
#define ASIOCTX_GRPC_ERROR_HPP

#include <asioctx/grpc/config.hpp>

#include <boost/system/error_category.hpp>
#include <boost/system/error_code.hpp>

#include <iosfwd>
#include <type_traits>

namespace asioctx::grpc {

/** Errors of the gRPC layer, in the category named "asioctx.grpc".

    Values 1 to 16 are gRPC's status codes, with gRPC's numbers: an outgoing call that
    fails for a reason other than its context completes with one of them. `cancelled`
    (and the two causes below) equal `asioctx::condition::canceled`;
    `deadline_exceeded` equals `asioctx::condition::deadline_exceeded`.
*/
enum class error
{
    cancelled = 1,
    unknown = 2,
    invalid_argument = 3,
    deadline_exceeded = 4,
    not_found = 5,
    already_exists = 6,
    permission_denied = 7,
    resource_exhausted = 8,
    failed_precondition = 9,
    aborted = 10,
    out_of_range = 11,
    unimplemented = 12,
    internal = 13,
    unavailable = 14,
    data_loss = 15,
    unauthenticated = 16,

    /// The cause of a call context's cancellation: the client cancelled the call (or
    /// went away) while the handler ran.
    client_cancelled = 100,
    /// The cause of a call context's cancellation: the server shut down and the call
    /// outlived the grace period.
    server_shutdown,
};

namespace detail {

class error_category_impl final : public boost::system::error_category
{
public:
    constexpr error_category_impl() noexcept
        : boost::system::error_category(0xa510c7c0de0f2029ULL)
    {
    }
    char const* name() const noexcept override;
    std::string message(int ev) const override;
    char const* message(int ev, char* buffer, std::size_t len) const noexcept override;
    boost::system::error_condition default_error_condition(int ev) const noexcept override;
};

inline constexpr error_category_impl error_category_instance{};

} // namespace detail

/// The category of `asioctx::grpc::error`; its name is "asioctx.grpc".
inline constexpr boost::system::error_category const& error_category() noexcept
{
    return detail::error_category_instance;
}

/// Makes an error code; `loc` records where the library produced it.
inline boost::system::error_code make_error_code(
    error e, boost::source_location const* loc = nullptr) noexcept
{
    return boost::system::error_code(static_cast<int>(e), error_category(), loc);
}

/// Writes the error's message and code, as `unavailable [asioctx.grpc:14]`.
ASIOCTX_GRPC_DECL std::ostream& operator<<(std::ostream& os, error e);

} // namespace asioctx::grpc

template<>
struct boost::system::is_error_code_enum<asioctx::grpc::error> : std::true_type
{
};

#endif
