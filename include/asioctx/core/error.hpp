//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_CORE_ERROR_HPP
#define ASIOCTX_CORE_ERROR_HPP

#include <asioctx/detail/config.hpp>

#include <boost/system/error_category.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/error_condition.hpp>
#include <boost/system/system_error.hpp>

#include <iosfwd>
#include <type_traits>

namespace asioctx {

/// Error codes produced by asioctx, in the category named "asioctx".
enum class error
{
    /// The context was cancelled (Go's `context.Canceled`).
    /// Equivalent to `condition::canceled`, hence to `asio::error::operation_aborted`.
    canceled = 1,

    /// The context's deadline passed (Go's `context.DeadlineExceeded`).
    /// Equivalent to `condition::deadline_exceeded`, hence to `asio::error::timed_out`.
    deadline_exceeded,

    /// A deadline or `after_func` needed an executor and neither the call nor the
    /// context tree (`with_executor`) supplied one.
    no_executor,

    /// `unlock()` of an `asioctx::mutex` that is not locked. The mutex is unchanged.
    not_locked,

    /// A semaphore request for more units than the semaphore's capacity: it could
    /// never be granted, so it fails at once.
    exceeds_capacity,

    /// `release(n)` of more semaphore units than are held. The semaphore is unchanged.
    over_released,

    /// `group::set_limit` while tasks of the group are running or queued.
    group_busy,

    /// A task of a group or `run` exited with an exception other than
    /// `boost::system::system_error`; the group's context is cancelled with this cause.
    task_exception,
};

/// Portable conditions: each matches an asioctx error and the Asio/system error
/// that means the same thing, so generic Asio code needs no asioctx-specific checks.
enum class condition
{
    /// `error::canceled`, `asio::error::operation_aborted` (ECANCELED).
    canceled = 1,

    /// `error::deadline_exceeded`, `asio::error::timed_out` (ETIMEDOUT).
    deadline_exceeded,
};

namespace detail {

class error_category_impl final : public boost::system::error_category
{
public:
    // A fixed 64-bit id: categories compare equal across shared-library boundaries.
    constexpr error_category_impl() noexcept
        : boost::system::error_category(0xa510c7c0de0f2026ULL)
    {
    }
    char const* name() const noexcept override;
    std::string message(int ev) const override;
    char const* message(int ev, char* buffer, std::size_t len) const noexcept override;
    boost::system::error_condition default_error_condition(int ev) const noexcept override;
};

class condition_category_impl final : public boost::system::error_category
{
public:
    constexpr condition_category_impl() noexcept
        : boost::system::error_category(0xa510c7c0de0f2027ULL)
    {
    }
    char const* name() const noexcept override;
    std::string message(int ev) const override;
    char const* message(int ev, char* buffer, std::size_t len) const noexcept override;
    bool equivalent(boost::system::error_code const& code, int condition) const noexcept override;
};

inline constexpr error_category_impl error_category_instance{};
inline constexpr condition_category_impl condition_category_instance{};

} // namespace detail

/// The category of `asioctx::error`; its name is "asioctx".
inline constexpr boost::system::error_category const& error_category() noexcept
{
    return detail::error_category_instance;
}

/// The category of `asioctx::condition`.
inline constexpr boost::system::error_category const& condition_category() noexcept
{
    return detail::condition_category_instance;
}

/// Makes an error code; `loc` records where the library produced it.
inline boost::system::error_code make_error_code(
    error e, boost::source_location const* loc = nullptr) noexcept
{
    return boost::system::error_code(static_cast<int>(e), error_category(), loc);
}

/// Makes an error condition.
inline boost::system::error_condition make_error_condition(condition c) noexcept
{
    return boost::system::error_condition(static_cast<int>(c), condition_category());
}

/// Writes the error's message and code, as `context canceled [asioctx:1]`: test
/// frameworks (`BOOST_TEST(ec == asioctx::error::canceled)`) and logs can print it.
ASIOCTX_DECL std::ostream& operator<<(std::ostream& os, error e);

/// Writes the condition's message and value, as `canceled [asioctx.condition:1]`.
ASIOCTX_DECL std::ostream& operator<<(std::ostream& os, condition c);

} // namespace asioctx

template<>
struct boost::system::is_error_code_enum<asioctx::error> : std::true_type
{
};

template<>
struct boost::system::is_error_condition_enum<asioctx::condition> : std::true_type
{
};

#endif
