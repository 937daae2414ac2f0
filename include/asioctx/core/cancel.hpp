//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_CORE_CANCEL_HPP
#define ASIOCTX_CORE_CANCEL_HPP

#include <asioctx/core/context.hpp>
#include <asioctx/core/detail/node.hpp>

#include <boost/system/error_code.hpp>

#include <atomic>
#include <utility>

namespace asioctx {

/** The cancel function of a derived context, as an RAII handle (Go's `CancelFunc`).

    Calling it cancels the context and every context derived from it, and unlinks
    it from its parent. Destroying it does the same, so Go's "lost cancel" leak
    (a child kept in its parent's list until the parent ends) cannot be written:
    the handle's scope is the context's cancellation scope. Calling it again, or
    after the context was done for another reason, does nothing: the first
    cancellation wins and `err()`/`cause()` never change afterwards.

    Move-only. Safe to call from any thread, concurrently with anything done to the
    context or its relatives.
*/
class [[nodiscard]] cancel_handle
{
public:
    /// An empty handle that cancels nothing.
    cancel_handle() noexcept = default;

    cancel_handle(cancel_handle&& other) noexcept
        : node_(std::exchange(other.node_, nullptr))
        , cancelled_(other.cancelled_.load(std::memory_order_relaxed))
    {
    }

    cancel_handle& operator=(cancel_handle&& other) noexcept
    {
        if(this != &other)
        {
            reset();
            node_ = std::exchange(other.node_, nullptr);
            cancelled_.store(other.cancelled_.load(std::memory_order_relaxed), std::memory_order_relaxed);
        }
        return *this;
    }

    ~cancel_handle()
    {
        reset();
    }

    /// Cancels with `error::canceled` as both error and cause. `site` is recorded as
    /// where the context was cancelled (`cancelled_at`); leave it defaulted.
    void operator()(source_location const& site = source_location::current()) const noexcept
    {
        if(node_)
        {
            detail::cancel(node_, detail::state_canceled, {}, true, detail::how_call, site);
            cancelled_.store(true, std::memory_order_relaxed);
        }
    }

    /** Cancels with `error::canceled`, recording `cause` (Go's `CancelCauseFunc`).
        An empty `cause` means `error::canceled`. If the context is already done,
        nothing changes. `site`: as above.
    */
    void operator()(boost::system::error_code const& cause,
        source_location const& site = source_location::current()) const noexcept
    {
        if(node_)
        {
            detail::cancel(node_, detail::state_canceled, cause, true, detail::how_call, site);
            cancelled_.store(true, std::memory_order_relaxed);
        }
    }

    /// True unless default-constructed or moved from.
    explicit operator bool() const noexcept
    {
        return node_ != nullptr;
    }

    /// Cancels now (if this handle owns a context) and empties the handle.
    void reset() noexcept
    {
        if(auto n = std::exchange(node_, nullptr))
        {
            // After a completed cancel through this handle the node is done, its
            // subtree too, and it is unlinked: nothing is left but the reference.
            if(!cancelled_.load(std::memory_order_relaxed))
                detail::cancel(n, detail::state_canceled, {}, true, detail::how_release, {});
            detail::release(n);
        }
    }

private:
    friend struct detail::access;

    explicit cancel_handle(detail::cancel_node* n) noexcept
        : node_(n)
    {
    }

    detail::cancel_node* node_ = nullptr;
    mutable std::atomic<bool> cancelled_{false}; // a cancel through this handle has returned
};

namespace detail {

inline cancel_handle access::make_cancel_handle(cancel_node* n) noexcept
{
    return cancel_handle(n);
}

} // namespace detail

/// A derived context and its cancel handle. Use structured bindings:
/// `auto [ctx, cancel] = with_cancel(parent);`
struct [[nodiscard]] cancellable
{
    context ctx;
    cancel_handle cancel;
};

namespace detail {
[[nodiscard]] ASIOCTX_DECL cancellable derive_cancel(context const& parent ASIOCTX_SITE_PARAM);
} // namespace detail

/** Derives a context that is done when `cancel` is called or destroyed, or when
    `parent` is done, whichever happens first (Go's `WithCancel`).

    A child of a parent that is already done is born done with the parent's error
    and cause. Deriving from a parent that can never be done (background, todo,
    without_cancel) registers nothing. Allocates once. `site` is where the context
    is derived, for the diagnostics registry (`diagnostics.hpp`): leave it defaulted,
    or forward your own caller's site from a helper that derives for it.
*/
[[nodiscard]] inline cancellable with_cancel(
    context const& parent, [[maybe_unused]] source_location const& site = source_location::current())
{
    return detail::derive_cancel(parent ASIOCTX_SITE_ARG(site));
}

/** Like `with_cancel`, and the handle's `cancel(cause)` records why (Go's
    `WithCancelCause`); `cause(ctx)` reports it, `ctx.err()` stays `canceled`.
    (Every `cancel_handle` accepts a cause; this name is kept for Go readers.)
*/
[[nodiscard]] inline cancellable with_cancel_cause(
    context const& parent, source_location const& site = source_location::current())
{
    return with_cancel(parent, site);
}

} // namespace asioctx

#endif
