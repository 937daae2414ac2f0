//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_CORE_STOP_TOKEN_HPP
#define ASIOCTX_CORE_STOP_TOKEN_HPP

#include <asioctx/core/context.hpp>
#include <asioctx/core/done_callback.hpp>

#include <stop_token>
#include <utility>

namespace asioctx {

namespace detail {
[[nodiscard]] ASIOCTX_DECL context derive_stop_token(
    context const& parent, std::stop_token token ASIOCTX_SITE_PARAM);
} // namespace detail

/** Derives a context that is also done when `token` is asked to stop: a
    `std::jthread`'s token, a `std::stop_source` of code that knows nothing of asioctx.

    The context is done, with `error::canceled`, by the time `request_stop()` returns
    (a `std::stop_callback` cancels it on the requesting thread); `cancelled_at` reports
    `cancel_source::stop_request` and this derivation's site. A token already stopped
    gives a context born done; a token that can never stop (`stop_possible()` false)
    adds nothing but the node. The callback is unregistered when the last copy of the
    context is released, so the token's source may outlive the context or not.
    Allocates twice (a cancel node and the node holding the callback). `site`: see
    `with_cancel`.
*/
[[nodiscard]] inline context with_stop_token(
    context const& parent, std::stop_token token, source_location const& site = source_location::current())
{
    return detail::derive_stop_token(parent, std::move(token) ASIOCTX_SITE_ARG(site));
}

/** A `std::stop_source` stopped when a context is done: the way to hand a context to
    code that takes a `std::stop_token` (`std::condition_variable_any::wait(lock, token,
    pred)`, a `std::jthread` body, a library's blocking call).

    `request_stop()` runs synchronously on the thread that makes the context done
    (through a `done_callback`), so `std::stop_callback`s registered on the token run
    there too, before the cancel returns; at construction if the context is already
    done. The token stays valid after the bridge is destroyed, but is stopped by the
    context only while the bridge lives. Not movable: the callback refers to it.
*/
class stop_token_bridge
{
public:
    /// Watches `ctx`; requests stop now if it is done.
    explicit stop_token_bridge(context const& ctx) noexcept
        : callback_(ctx, request{&source_})
    {
    }

    stop_token_bridge(stop_token_bridge const&) = delete;
    stop_token_bridge& operator=(stop_token_bridge const&) = delete;

    /// The token; `stop_requested()` once the context is done.
    std::stop_token get_token() const noexcept
    {
        return source_.get_token();
    }

private:
    struct request
    {
        std::stop_source* source;
        void operator()() const noexcept
        {
            source->request_stop();
        }
    };

    std::stop_source source_;
    done_callback<request> callback_;
};

/** A context seen as a stop token, modelling C++26's `std::stoppable_token`: copyable,
    equality comparable, `stop_requested()` and `stop_possible()` (both `noexcept`), and
    `callback_type<F>`, which is `done_callback<F>`. For generic code written against
    that concept (sender/receiver libraries); it allocates nothing and needs no bridge
    object. Code that needs a `std::stop_token` itself uses `stop_token_bridge`.
*/
class context_token
{
public:
    template<class F>
    using callback_type = done_callback<F>;

    /// A token that can never be stopped (a view of `background()`).
    context_token() noexcept = default;

    /// A view of `ctx`, sharing ownership of its node.
    explicit context_token(context ctx) noexcept
        : ctx_(std::move(ctx))
    {
    }

    /// True once the context is done. One atomic load.
    bool stop_requested() const noexcept
    {
        return ctx_.done();
    }

    /// False when nothing can ever make the context done.
    bool stop_possible() const noexcept
    {
        return ctx_.can_be_done();
    }

    /// The context, for `done_callback` and for code that wants it back.
    operator context const&() const noexcept
    {
        return ctx_;
    }

    /// Tokens of contexts that are done together (the same cancellation state) are equal.
    friend bool operator==(context_token const& a, context_token const& b) noexcept
    {
        return detail::access::state_of(a.ctx_) == detail::access::state_of(b.ctx_);
    }

private:
    context ctx_;
};

} // namespace asioctx

#endif
