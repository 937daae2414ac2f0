//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_CORE_VALUE_HPP
#define ASIOCTX_CORE_VALUE_HPP

#include <asioctx/core/context.hpp>
#include <asioctx/core/detail/node.hpp>

#include <type_traits>
#include <utility>

namespace asioctx {

/** A typed key for context values; its identity is its address.

    Define keys as `inline constexpr` variables (or statics) in your own namespace:
    two keys never collide, even with the same name and type, and only code that can
    name a key can read its value. The type fixes what is stored, so a lookup needs
    no cast and cannot fail on a type mismatch (Go needs a type assertion).

    @code
    namespace myapp { inline constexpr asioctx::key<std::string> request_id{"request_id"}; }
    @endcode
*/
template<class T>
class key : public detail::key_base
{
    static_assert(std::is_object_v<T> && !std::is_const_v<T>,
        "key<T>: T is the stored value type; store by value");

public:
    /// `name` is for diagnostics only (derivation traces name it); it plays no part
    /// in lookups.
    constexpr explicit key(char const* name = "") noexcept
        : key_base(name)
    {
    }
};

/** Derives a context carrying `value` under `k` (Go's `WithValue`).

    The value is copied (or moved) into the new node and is immutable from then on:
    lookups return `T const*`. To share state that changes, store a handle that is
    itself thread-safe (a `std::shared_ptr<std::atomic<...>>`, say); the context only
    carries it. The new context has the parent's cancellation and deadline.
    Allocates once. `site` is where the context is derived, for the diagnostics
    registry (see `diagnostics.hpp`); leave it defaulted.
*/
template<class T, class U>
[[nodiscard]] context with_value(context const& parent, key<T> const& k, U&& value,
    [[maybe_unused]] source_location const& site = source_location::current())
{
    static_assert(std::is_constructible_v<T, U&&>, "with_value: value does not convert to the key's type");
    auto p = detail::access::node_of(parent);
    auto n = new detail::value_node<T>(p, &k, static_cast<U&&>(value));
    detail::note_derived(n ASIOCTX_SITE_ARG(site));
    detail::add_ref(p);
    return detail::access::adopt(n, detail::access::state_of(parent));
}

/// The value for `k` in `ctx`, or nullptr (same as `ctx.value(k)`).
template<class T>
T const* value(context const& ctx, key<T> const& k) noexcept
{
    return ctx.value(k);
}

} // namespace asioctx

#endif
