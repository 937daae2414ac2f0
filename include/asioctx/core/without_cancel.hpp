//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_CORE_WITHOUT_CANCEL_HPP
#define ASIOCTX_CORE_WITHOUT_CANCEL_HPP

#include <asioctx/core/context.hpp>

namespace asioctx {

namespace detail {
[[nodiscard]] ASIOCTX_DECL context derive_without_cancel(context const& parent ASIOCTX_SITE_PARAM);
} // namespace detail

/** Derives a context that keeps `parent`'s values (and executor) but none of its
    cancellation, deadline or cause (Go's `WithoutCancel`): it is never done until
    something derived from it says so. For work that must outlive the request that
    started it (an audit write, a detached send); give it its own ceiling with
    `with_timeout`. Allocates once. `site`: see `with_cancel`.
*/
[[nodiscard]] inline context without_cancel(
    context const& parent, [[maybe_unused]] source_location const& site = source_location::current())
{
    return detail::derive_without_cancel(parent ASIOCTX_SITE_ARG(site));
}

} // namespace asioctx

#endif
