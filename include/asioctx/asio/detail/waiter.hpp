//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//
// The one posting waiter: what async_wait, after_func, an acquire and a group wait have
// in common. A waiter is tracked by the waiter_registry of the execution context it will
// post to, from its start until it is claimed:
//
// - Claimed: whoever settles it (the context, its cancellation slot, a grant, the end of
//   a group) claims it from the registry and posts its completion under the registry's
//   lock; the handler runs on its own executor, never inside the call that settled it.
// - Abandoned: if the execution context shuts down first, the registry unlists the waiter
//   from its node and destroys its handler uncalled (shut_down).
// - Conservation: what a completion carries (the units of a grant) is owned by the
//   completion until its handler runs. A completion destroyed uncalled (the execution
//   context destroyed with it queued, the post out of memory, the claim refused) gives it
//   back; what a failed post gives back under the registry's lock is given back after it
//   is released (a result's post_guard).
//
// Who owns a waiter: the reference its creator holds, one for the node list while listed
// (registration), one for each cancellation hook; the last release destroys it.

#ifndef ASIOCTX_ASIO_DETAIL_WAITER_HPP
#define ASIOCTX_ASIO_DETAIL_WAITER_HPP

#include <asioctx/detail/config.hpp>
#include <asioctx/asio/detail/context_service.hpp>
#include <asioctx/core/detail/node.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_allocator.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include <memory>
#include <mutex>
#include <optional>

namespace asioctx {
class context;
} // namespace asioctx

namespace asioctx::detail {

class waiter : public registration
{
public:
    // `n` (may be null for background) is kept alive while the waiter lives, so that a
    // shutdown can unlist it from `state` whatever happened to the contexts.
    waiter(std::shared_ptr<waiter_registry> registry, node* n, cancel_node* state) noexcept
        : registry_(std::move(registry))
        , node_(n)
        , state_(state)
    {
        detail::add_ref(node_);
    }

    ~waiter() override
    {
        if(node_)
            detail::release(node_);
    }

    // Called once at shutdown, outside every lock, after the waiter stopped being
    // tracked. `unlisted` tells whether shutdown took it out of its node (so nothing
    // else will ever settle it); otherwise a settlement is under way, and it finds
    // claim_for_post empty-handed and cleans up itself.
    virtual void shut_down(bool unlisted) noexcept = 0;

    cancel_node* state() const noexcept
    {
        return state_;
    }

    // Starts tracking; false if the execution context has shut down.
    bool track() noexcept
    {
        return registry_->track(this);
    }

    // See waiter_registry::claim_for_post.
    std::mutex* claim_for_post() noexcept
    {
        return registry_->claim_for_post(this);
    }

    void untrack() noexcept
    {
        registry_->untrack(this);
    }

    // Guarded by the registry's lock.
    waiter* tracked_next_ = nullptr;
    waiter** tracked_pprev_ = nullptr; // non-null while tracked

private:
    std::shared_ptr<waiter_registry> registry_;
    node* node_;
    cancel_node* state_;
};

// Starts tracking `w`. If its execution context has shut down, releases it and throws
// error::no_executor: there is nothing it could ever post to.
inline void track_or_throw(waiter* w)
{
    if(w->track())
        return;
    w->release();
    ASIOCTX_THROW_NO_EXECUTOR();
}

// The registry of `ex`'s execution context: the one `ctx` carries if it carries `ex`
// (no lookup), otherwise the service's.
ASIOCTX_DECL std::shared_ptr<waiter_registry> registry_for(
    boost::asio::any_io_executor const& ex, context const& ctx);

struct no_post_guard
{
};

template<class Result, class = void>
struct post_guard_of
{
    using type = no_post_guard;
};

template<class Result>
struct post_guard_of<Result, std::void_t<typename Result::post_guard>>
{
    using type = typename Result::post_guard;
};

// Posts `f` to `ex` under `w`'s claim. Returns false, posting nothing, if `w` was
// claimed already or its execution context has shut down: the caller drops `f`. A post
// that fails for want of memory drops `f` too. `Guard` lives across the claim, so that
// what `f` gives back when destroyed under the lock is given back after it.
template<class Guard = no_post_guard, class Executor, class Function>
bool post_claimed(waiter& w, Executor const& ex, Function&& f) noexcept
{
    [[maybe_unused]] Guard guard;
    auto lock = w.claim_for_post();
    if(!lock)
        return false;
    try
    {
        boost::asio::post(ex, static_cast<Function&&>(f));
    }
    catch(...)
    {
        // Out of memory while posting: the completion is dropped (and gives back what it
        // carried, through the guard).
    }
    lock->unlock();
    return true;
}

// Hooked into an operation's cancellation slot: keeps the waiter alive while hooked, and
// tells it when the slot is emitted (on the handler's executor). Any cancellation type
// ends the wait: a waiter holds nothing yet, so even total cancellation is safe.
template<class Waiter>
struct waiter_cancellation
{
    Waiter* w;

    explicit waiter_cancellation(Waiter* waiter) noexcept
        : w(waiter)
    {
        w->add_ref();
    }
    waiter_cancellation(waiter_cancellation const&) = delete;
    ~waiter_cancellation()
    {
        w->release();
    }

    void operator()(boost::asio::cancellation_type) noexcept
    {
        w->cancelled_by_slot();
    }
};

// The posted completion of a waiter: clears the slot the operation was cancellable
// through, then hands the result to the handler. Keeps the handler's allocator.
template<class Handler, class Result>
struct waiter_completion
{
    Handler handler;
    boost::asio::cancellation_slot slot;
    Result result;

    using allocator_type = boost::asio::associated_allocator_t<Handler>;
    allocator_type get_allocator() const noexcept
    {
        return boost::asio::get_associated_allocator(handler);
    }

    void operator()()
    {
        if(slot.is_connected())
            slot.clear();
        std::move(result)(std::move(handler));
    }
};

// The usual result: the handler is called with these arguments.
template<class... Args>
struct call_with;

template<>
struct call_with<boost::system::error_code>
{
    boost::system::error_code ec;

    template<class Handler>
    void operator()(Handler&& h) &&
    {
        static_cast<Handler&&>(h)(ec);
    }
};

// A handler waiting to be posted, with the outstanding work of its executor.
template<class Handler, class Executor>
class pending_handler
{
public:
    pending_handler(Handler h, Executor ex)
        : handler_(std::move(h))
        , work_(std::move(ex))
    {
    }

    // Posts the handler with `result` under `w`'s claim (see post_claimed); if the
    // claim is refused, the handler and `result` are destroyed uncalled. Either way the
    // work is released.
    template<class Result>
    void post(waiter& w, Result result) noexcept
    {
        auto slot = boost::asio::get_associated_cancellation_slot(*handler_);
        auto ex = work_->get_executor();
        post_claimed<typename post_guard_of<Result>::type>(w, ex,
            waiter_completion<Handler, Result>{std::move(*handler_), slot, std::move(result)});
        abandon();
    }

    // Destroys the handler uncalled and releases the work.
    void abandon() noexcept
    {
        handler_.reset();
        work_.reset();
    }

private:
    std::optional<Handler> handler_;
    std::optional<boost::asio::executor_work_guard<Executor>> work_;
};

} // namespace asioctx::detail

#endif
