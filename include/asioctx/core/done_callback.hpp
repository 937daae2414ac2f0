//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_CORE_DONE_CALLBACK_HPP
#define ASIOCTX_CORE_DONE_CALLBACK_HPP

#include <asioctx/core/context.hpp>
#include <asioctx/core/detail/node.hpp>

#include <concepts>
#include <type_traits>
#include <utility>

namespace asioctx {

/** Runs a callable on the thread that makes a context done, synchronously
    (`std::stop_callback`, .NET's `CancellationToken.Register`, folly's
    `CancellationCallback`).

    - If the context is already done at construction, `f()` runs in the constructor.
      Otherwise it runs once, inside the call that cancels the context (a cancel
      handle's call, the deadline's timer handler, a parent's cancel), after every lock
      of the context tree is released; or never, if the context is never done or this
      object is destroyed first. A context that can never be done registers nothing.
    - Destroying the object unregisters it. If the callable is running on another
      thread at that moment, the destructor waits until it returns (like
      `std::stop_callback`), so what it uses may be destroyed right after. Destroying
      it from inside its own callable is allowed and does not wait.
    - The callable must not throw (it runs inside a `noexcept` cancel: an exception
      ends the program) and should be short: every other callback of the same cancel
      waits for it, and so does the cancelling thread.

    Use `after_func` instead when the reaction may take time, takes locks that the
    cancelling code may hold, or must run on an executor: it posts, and never runs
    inside the cancel. Use this when the reaction must be done by the time the cancel
    returns: waking a thread blocked outside Asio (`std::condition_variable_any`),
    requesting stop of a `std::stop_source`, closing a socket from a foreign thread.

    Not movable. Costs one lock of the context's node to register and one to
    unregister; never allocates.
*/
template<class F>
class [[nodiscard]] done_callback final : private detail::owned_registration
{
    static_assert(std::is_nothrow_destructible_v<F> && std::is_invocable_v<F&>,
        "done_callback: F must be callable with no arguments");

public:
    using callback_type = F;

    /// Registers `f` on `ctx`; runs it now if `ctx` is done.
    template<class G>
        requires std::constructible_from<F, G>
    explicit done_callback(context const& ctx, G&& f) noexcept(std::is_nothrow_constructible_v<F, G>)
        : state_(detail::access::state_of(ctx))
        , f_(static_cast<G&&>(f))
    {
        if(state_->kind_ == detail::node_kind::never)
            return;
        state_->add_ref();
        if(!offer(state_))
            f_(); // done already
    }

    done_callback(done_callback const&) = delete;
    done_callback& operator=(done_callback const&) = delete;

    /// Unregisters; waits for a run in progress on another thread.
    ~done_callback()
    {
        if(state_->kind_ == detail::node_kind::never)
            return;
        withdraw(state_);
        detail::release(state_);
    }

private:
    void fire(boost::system::error_code const&, boost::system::error_code const&) noexcept override
    {
        f_();
    }

    detail::cancel_node* state_;
    F f_;
};

template<class F>
done_callback(context const&, F) -> done_callback<F>;

} // namespace asioctx

#endif
