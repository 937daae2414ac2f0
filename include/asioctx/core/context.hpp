//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_CORE_CONTEXT_HPP
#define ASIOCTX_CORE_CONTEXT_HPP

#include <asioctx/detail/config.hpp>
#include <asioctx/core/detail/node.hpp>
#include <asioctx/core/error.hpp>

#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <utility>

namespace asioctx {

template<class T>
class key;

class context;
class cancel_handle;

namespace detail {

// The library's back door to the internals of its public handles: the node and
// cancellation state a context refers to, and handles made from nodes. Not for users.
struct access
{
    static node* node_of(context const& ctx) noexcept;
    static cancel_node* state_of(context const& ctx) noexcept;
    // Adopts one reference to `n`, whose cancellation state is `state`.
    static context adopt(node* n, cancel_node* state) noexcept;
    static cancel_handle make_cancel_handle(cancel_node* n) noexcept;
};

} // namespace detail

/** A handle to a node of the context tree: Go's `context.Context`.

    Copying is one atomic increment; every member is safe to call from any
    number of threads at once. A context is immutable: deriving makes a new node
    (`with_cancel`, `with_deadline`, `with_value`, ...) and never changes this one.
    The only thing that changes is whether it is done, and that happens once.

    A default-constructed context is `background()`: never done, no deadline, no
    values.
*/
class context
{
public:
    /// Constructs `background()`.
    context() noexcept = default;

    context(context const& other) noexcept
        : node_(other.node_)
        , state_(other.state_)
    {
        detail::add_ref(node_);
    }

    context(context&& other) noexcept
        : node_(std::exchange(other.node_, nullptr))
        , state_(std::exchange(other.state_, &detail::never_node))
    {
    }

    context& operator=(context const& other) noexcept
    {
        context(other).swap(*this);
        return *this;
    }

    context& operator=(context&& other) noexcept
    {
        context(std::move(other)).swap(*this);
        return *this;
    }

    ~context()
    {
        if(node_)
            detail::release(node_);
    }

    void swap(context& other) noexcept
    {
        std::swap(node_, other.node_);
        std::swap(state_, other.state_);
    }

    /// True once the context is cancelled or its deadline passed (Go: `<-ctx.Done()`
    /// would not block). One atomic load; never allocates, locks or waits.
    bool done() const noexcept
    {
        return state_->state_.load(std::memory_order_acquire) != detail::state_live;
    }

    /** The reason the context is done: empty while live, then `error::canceled` or
        `error::deadline_exceeded` forever (Go's `Err()`). One atomic load; the code
        carries the source location of the library code that set it.
    */
    boost::system::error_code err() const noexcept
    {
        auto s = state_->state_.load(std::memory_order_acquire);
        if(s == detail::state_live)
            return {};
        return boost::system::error_code(s, error_category(), &detail::state_locations[s]);
    }

    /// The deadline by which this context will be done, if any (Go's `Deadline()`):
    /// the earliest of its own and its ancestors'.
    std::optional<std::chrono::steady_clock::time_point> deadline() const noexcept
    {
        auto d = detail::effective_deadline(node_);
        if(d == detail::steady_time::max())
            return std::nullopt;
        return d;
    }

    /// The value stored for `k` by the nearest `with_value`, or nullptr when none
    /// (Go's `Value(key)`). Never allocates; a miss walks the value nodes only.
    template<class T>
    T const* value(key<T> const& k) const noexcept;

    /** False when nothing can ever make this context done: `background()`, `todo()`,
        `without_cancel(...)` and values derived from those (Go: `Done()` returns nil).
        Code that would watch the context (a disconnect watch, a registration) can skip
        the work. One load; never allocates.
    */
    bool can_be_done() const noexcept
    {
        return state_->kind_ != detail::node_kind::never;
    }

    /// True for `background()` and `todo()` themselves (not for contexts derived from them).
    bool is_root() const noexcept
    {
        return node_ == nullptr || node_->kind_ == detail::node_kind::todo;
    }

private:
    friend struct detail::access;

    detail::node* node_ = nullptr;                       // nullptr is background()
    detail::cancel_node* state_ = &detail::never_node; // the nearest cancellable node
};

namespace detail {

inline node* access::node_of(context const& ctx) noexcept
{
    return ctx.node_;
}

inline cancel_node* access::state_of(context const& ctx) noexcept
{
    return ctx.state_;
}

inline context access::adopt(node* n, cancel_node* state) noexcept
{
    context c;
    c.node_ = n;
    c.state_ = state;
    return c;
}

} // namespace detail

/// The root of every tree: never done, no deadline, no values (Go's `Background()`).
inline context background() noexcept
{
    return context();
}

/// A root for code that has not yet been given a context (Go's `TODO()`): behaves
/// like `background()`, and is distinguishable from it for tools.
ASIOCTX_DECL context todo() noexcept;

/// True if `ctx` is `todo()` itself.
ASIOCTX_DECL bool is_todo(context const& ctx) noexcept;

/** Describes `ctx` as the chain of derivations from its root, as Go's `String()`:
    `background.with_cancel.with_deadline(+1500ms).with_value(request_id)`, followed by
    ` [context canceled]` (the error) once it is done. A deadline shows as the time left
    (negative once passed); a deadline no earlier than its parent's, which needs no timer
    of its own, shows as `with_cancel`; `with_executor` shows as itself. Values are named
    by their key's name and never printed: they may be secrets. Allocates; meant for logs
    and debugging.
*/
ASIOCTX_DECL std::string to_string(context const& ctx);

/// Writes `to_string(ctx)`.
ASIOCTX_DECL std::ostream& operator<<(std::ostream& os, context const& ctx);

/** Why `ctx` is done (Go's `context.Cause`): the cause given to the first cancellation
    that reached it (through `with_cancel_cause`, a deadline cause, or inherited from an
    ancestor); `err()` when that cancellation gave none; empty while `ctx` is live.
*/
ASIOCTX_DECL boost::system::error_code cause(context const& ctx) noexcept;

/// What ended a context, as `cancelled_at` reports it.
enum class cancel_source : std::uint8_t
{
    none,         ///< the context is live
    call,         ///< a `cancel_handle` was called; the location is the call's
    release,      ///< a `cancel_handle` was destroyed or reset without being called; the
                  ///< location is where the released context (this one, or for an
                  ///< inherited release the ancestor) was derived, when tracking knew it
    deadline,     ///< a deadline passed; the location is where the deadline was derived
    stop_request, ///< a `std::stop_token` bridged by `with_stop_token` asked to stop; the
                  ///< location is where the bridge was derived
};

/** Where the cancellation that ended a context came from (the answer to Go's
    "context canceled, but by whom?", golang/go#26356).
*/
struct cancel_site
{
    cancel_source source = cancel_source::none;

    /// The source's location (see `cancel_source`); empty file name when unknown.
    source_location location;

    /// True when the cancel reached this context through an ancestor or through a
    /// parent of a merged context, rather than being made on its own handle or deadline.
    bool inherited = false;

    /** With `tracking::stacks` on, the cancelling call's stack, one frame per line
        ("function at file:line"): kept for tracked contexts cancelled directly, and
        found on the ancestor for an inherited cancel. Empty otherwise.
    */
    std::string stack;
};

/** Where `ctx` was cancelled: the site kept with its cause (`cause(ctx)`), empty
    (`source == none`) while `ctx` is live. Recorded for every cancel at the cost of one
    store; the stack only while tracking is `stacks`. Allocates only for a stack.
*/
ASIOCTX_DECL cancel_site cancelled_at(context const& ctx);

/// "file:line (function)" of `site`'s location, what it was (`deadline set at ...`),
/// and whether it was inherited: one line for logs.
ASIOCTX_DECL std::string to_string(cancel_site const& site);

} // namespace asioctx

#include <asioctx/core/impl/context.hpp>

#endif
