//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_CORE_MERGE_HPP
#define ASIOCTX_CORE_MERGE_HPP

#include <asioctx/core/cancel.hpp>
#include <asioctx/core/context.hpp>

#include <cstddef>
#include <span>

namespace asioctx {

namespace detail {
// `parents` points to `count` pointers to the parents, read once, never copied.
[[nodiscard]] ASIOCTX_DECL cancellable derive_merge(
    context const* const* parents, std::size_t count ASIOCTX_SITE_PARAM);
[[nodiscard]] ASIOCTX_DECL cancellable derive_merge_of(
    std::span<context const> parents ASIOCTX_SITE_PARAM);
} // namespace detail

/** Derives a context that is done as soon as any of `parents` is done (a merged
    context; Go declined it, golang/go#36503), or when its handle cancels it.

    - Error, cause and cancel site are those of the parent whose cancel reached it
      first; a later one changes nothing. If parents are already done at derivation,
      the first of them in the list wins.
    - Its deadline is the earliest of all the parents'; no timer of its own is armed:
      each parent's own deadline ends it.
    - Values, and the executor (`with_executor`), come from the first parent only: a
      merged context is the first parent's work, also ended by the others.
    - No thread and no polling: the merged node is a child of the first parent and a
      registration in each other parent's nearest cancellable ancestor; a parent that
      can never be done is not listened to.
    - When the merged context and its handle are released, it leaves every parent's
      lists; a long-lived parent does not grow with short-lived merges.

    One allocation: the node and one link per parent after the first. Calling the
    handle, or destroying it, cancels the merged context (`with_cancel`'s rules). An
    empty list derives from `background()`. `site`: see `with_cancel`.
*/
[[nodiscard]] inline cancellable with_merge(
    std::span<context const> parents, source_location const& site = source_location::current())
{
    return detail::derive_merge_of(parents ASIOCTX_SITE_ARG(site));
}

/// `with_merge` of two parents: done when `first` or `second` is; values from `first`.
[[nodiscard]] inline cancellable with_merge(
    context const& first, context const& second, source_location const& site = source_location::current())
{
    context const* const parents[2] = {&first, &second};
    return detail::derive_merge(parents, 2 ASIOCTX_SITE_ARG(site));
}

} // namespace asioctx

#endif
