//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_ASIO_DEADLINE_HPP
#define ASIOCTX_ASIO_DEADLINE_HPP

#include <asioctx/core/cancel.hpp>
#include <asioctx/core/context.hpp>
#include <asioctx/asio/executor.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>

namespace asioctx {

namespace detail {

// The one implementation of the deadline family. `ex` null means "the executor
// `parent` carries". `now` is the caller's single clock reading.
[[nodiscard]] ASIOCTX_DECL cancellable derive_deadline(boost::asio::any_io_executor const* ex,
    context const& parent, steady_time deadline, steady_time now,
    boost::system::error_code const& cause ASIOCTX_SITE_PARAM);

// now + d, saturating: a timeout too large to represent means "no deadline".
inline steady_time add_saturated(steady_time now, std::chrono::steady_clock::duration d) noexcept
{
    if(d >= steady_time::max() - now)
        return steady_time::max();
    return now + d;
}

ASIOCTX_DECL steady_time steady_from_system(
    std::chrono::system_clock::time_point t, steady_time steady_now) noexcept;

template<class Rep, class Period>
std::chrono::steady_clock::duration to_steady(std::chrono::duration<Rep, Period> d) noexcept
{
    using sd = std::chrono::steady_clock::duration;
    // Compared in floating point: hours::max() in nanoseconds would overflow.
    using wide = std::chrono::duration<long double, std::nano>;
    if(wide(d) >= wide(sd::max()))
        return sd::max();
    if(d <= d.zero())
        return sd::zero();
    return std::chrono::ceil<sd>(d);
}

} // namespace detail

/** Derives a context that is also done, with `error::deadline_exceeded`, at `deadline`
    (Go's `WithDeadline`).

    The deadline fires from an Asio `steady_timer` on the executor `ex`: one timer per
    execution context serves every deadline of that context, so deriving and
    cancelling costs a heap insertion and removal, no timer of its own, no thread and
    no polling. If `parent`'s deadline is no later, no timer is armed at all and the
    child reports the parent's deadline. A deadline already past is born done with
    `deadline_exceeded` (or with the parent's error if the parent is already done).
    While a deadline is pending it counts as outstanding work of its execution
    context, like any timer; once none is pending, `io_context::run()` can return.

    Cancelling through the handle gives `error::canceled`. Deadlines of an execution
    context that has been shut down never fire. Allocates once (the node). `site`:
    see `with_cancel`.

    @throws boost::system::system_error with `error::no_executor` if `ex` is empty, or
    its execution context has been shut down.
*/
[[nodiscard]] inline cancellable with_deadline(boost::asio::any_io_executor const& ex,
    context const& parent, std::chrono::steady_clock::time_point deadline,
    [[maybe_unused]] source_location const& site = source_location::current())
{
    return detail::derive_deadline(&ex, parent, deadline, std::chrono::steady_clock::now(), {}
        ASIOCTX_SITE_ARG(site));
}

/** Same, on the executor that `parent` carries (`with_executor`).
    @throws boost::system::system_error with `error::no_executor` if it carries none:
    a deadline that could never fire is reported at once, never silently ignored.
*/
[[nodiscard]] inline cancellable with_deadline(
    context const& parent, std::chrono::steady_clock::time_point deadline,
    [[maybe_unused]] source_location const& site = source_location::current())
{
    return detail::derive_deadline(nullptr, parent, deadline, std::chrono::steady_clock::now(), {}
        ASIOCTX_SITE_ARG(site));
}

/** Like `with_deadline`, and when the deadline fires, `cause(ctx)` is `cause`
    (Go's `WithDeadlineCause`). The cause is used only when the deadline fires (or
    is already past): cancelling through the handle records `error::canceled`.
*/
[[nodiscard]] inline cancellable with_deadline_cause(boost::asio::any_io_executor const& ex,
    context const& parent, std::chrono::steady_clock::time_point deadline,
    boost::system::error_code const& cause,
    [[maybe_unused]] source_location const& site = source_location::current())
{
    return detail::derive_deadline(&ex, parent, deadline, std::chrono::steady_clock::now(), cause
        ASIOCTX_SITE_ARG(site));
}

/// Same, on the executor that `parent` carries.
[[nodiscard]] inline cancellable with_deadline_cause(context const& parent,
    std::chrono::steady_clock::time_point deadline, boost::system::error_code const& cause,
    [[maybe_unused]] source_location const& site = source_location::current())
{
    return detail::derive_deadline(nullptr, parent, deadline, std::chrono::steady_clock::now(), cause
        ASIOCTX_SITE_ARG(site));
}

/// `with_deadline(ex, parent, now + timeout)` (Go's `WithTimeout`). A timeout too
/// large to represent means no deadline; zero or negative is born done.
template<class Rep, class Period>
[[nodiscard]] cancellable with_timeout(boost::asio::any_io_executor const& ex,
    context const& parent, std::chrono::duration<Rep, Period> timeout,
    [[maybe_unused]] source_location const& site = source_location::current())
{
    auto const now = std::chrono::steady_clock::now();
    return detail::derive_deadline(&ex, parent, detail::add_saturated(now, detail::to_steady(timeout)),
        now, {} ASIOCTX_SITE_ARG(site));
}

/// `with_deadline(parent, now + timeout)`, on the executor `parent` carries.
template<class Rep, class Period>
[[nodiscard]] cancellable with_timeout(context const& parent, std::chrono::duration<Rep, Period> timeout,
    [[maybe_unused]] source_location const& site = source_location::current())
{
    auto const now = std::chrono::steady_clock::now();
    return detail::derive_deadline(nullptr, parent, detail::add_saturated(now, detail::to_steady(timeout)),
        now, {} ASIOCTX_SITE_ARG(site));
}

/// `with_deadline_cause(ex, parent, now + timeout, cause)` (Go's `WithTimeoutCause`).
template<class Rep, class Period>
[[nodiscard]] cancellable with_timeout_cause(boost::asio::any_io_executor const& ex,
    context const& parent, std::chrono::duration<Rep, Period> timeout,
    boost::system::error_code const& cause,
    [[maybe_unused]] source_location const& site = source_location::current())
{
    auto const now = std::chrono::steady_clock::now();
    return detail::derive_deadline(&ex, parent, detail::add_saturated(now, detail::to_steady(timeout)),
        now, cause ASIOCTX_SITE_ARG(site));
}

/// Same, on the executor `parent` carries.
template<class Rep, class Period>
[[nodiscard]] cancellable with_timeout_cause(context const& parent,
    std::chrono::duration<Rep, Period> timeout, boost::system::error_code const& cause,
    [[maybe_unused]] source_location const& site = source_location::current())
{
    auto const now = std::chrono::steady_clock::now();
    return detail::derive_deadline(nullptr, parent, detail::add_saturated(now, detail::to_steady(timeout)),
        now, cause ASIOCTX_SITE_ARG(site));
}

/** A deadline at a wall-clock time, "done by 17:00 UTC".

    The wall time is turned into a steady-clock deadline once, at derivation: later
    changes of the system clock do not move it (Go behaves the same, through its
    monotonic reading). A time in the past is born done with `deadline_exceeded`; a
    tighter parent deadline wins, as with `with_deadline`.
*/
[[nodiscard]] inline cancellable with_deadline_at(boost::asio::any_io_executor const& ex,
    context const& parent, std::chrono::system_clock::time_point when,
    [[maybe_unused]] source_location const& site = source_location::current())
{
    auto const now = std::chrono::steady_clock::now();
    return detail::derive_deadline(&ex, parent, detail::steady_from_system(when, now), now, {}
        ASIOCTX_SITE_ARG(site));
}

/// Same, on the executor `parent` carries.
[[nodiscard]] inline cancellable with_deadline_at(
    context const& parent, std::chrono::system_clock::time_point when,
    [[maybe_unused]] source_location const& site = source_location::current())
{
    auto const now = std::chrono::steady_clock::now();
    return detail::derive_deadline(nullptr, parent, detail::steady_from_system(when, now), now, {}
        ASIOCTX_SITE_ARG(site));
}

} // namespace asioctx

#endif
