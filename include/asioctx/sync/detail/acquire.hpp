//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_SYNC_DETAIL_ACQUIRE_HPP
#define ASIOCTX_SYNC_DETAIL_ACQUIRE_HPP

#include <asioctx/core/context.hpp>
#include <asioctx/sync/detail/semaphore_core.hpp>
#include <asioctx/core/error.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/recycling_allocator.hpp>

#include <utility>

namespace asioctx::detail {

// Units granted to an acquire whose handler has not run yet. Conservation: if this is
// destroyed before the handler takes the units (the handler's execution context was
// destroyed with the completion still queued, posting it failed, or its execution context
// had shut down), they go back to the semaphore, so a grant that is never delivered is
// never lost.
class undelivered_units
{
public:
    undelivered_units() noexcept = default;
    undelivered_units(semaphore_core* core, std::uint64_t n) noexcept
        : core_(core)
        , n_(n)
    {
    }
    undelivered_units(undelivered_units&&) noexcept = default; // the source holds nothing after
    undelivered_units& operator=(undelivered_units&&) = delete;
    ~undelivered_units()
    {
        give_back();
    }

    explicit operator bool() const noexcept
    {
        return static_cast<bool>(core_);
    }

    // Returns the units to the semaphore (which may grant them to the next waiter), or
    // parks them while this thread posts under a waiter registry's lock.
    void give_back() noexcept
    {
        if(!core_)
            return;
        if(parking_ && !*parking_)
        {
            parking_->core_ = std::move(core_);
            parking_->n_ = n_;
            return;
        }
        core_->release(n_);
        core_.reset();
    }

    // The handler now holds the units.
    void deliver() noexcept
    {
        core_.reset();
    }

private:
    friend class units_parking;
    static inline thread_local undelivered_units* parking_ = nullptr;

    core_ref core_;
    std::uint64_t n_ = 0;
};

// Lives across a post under a waiter registry's lock: units given back meanwhile (the
// post failed) are parked, and returned when this is destroyed, after the unlock.
// Returning them may grant them to a waiter of that same execution context, whose
// completion takes the same lock.
class units_parking
{
public:
    units_parking() noexcept
        : previous_(std::exchange(undelivered_units::parking_, &parked_))
    {
    }
    units_parking(units_parking const&) = delete;
    units_parking& operator=(units_parking const&) = delete;
    ~units_parking()
    {
        undelivered_units::parking_ = previous_;
        // parked_ is destroyed next: its units go back.
    }

private:
    undelivered_units parked_; // constructed before previous_ is read
    undelivered_units* previous_;
};

// What an acquire's handler is called with. A granted acquire checks its context once
// more just before the handler runs: if the context ended in between, the units go back
// (to the next waiter) and the handler sees the context's error, so a handler whose
// context is done never holds the units.
struct acquire_result
{
    boost::system::error_code ec;
    undelivered_units granted; // empty unless granted
    context ctx;

    using post_guard = units_parking;

    template<class Handler>
    void operator()(Handler&& handler) &&
    {
        if(granted)
        {
            if(auto err = ctx.err())
            {
                granted.give_back();
                ec = err;
            }
            else
                granted.deliver();
        }
        static_cast<Handler&&>(handler)(ec);
    }
};

template<class Handler, class Executor>
class sem_waiter_impl final : public sem_waiter
{
public:
    sem_waiter_impl(std::shared_ptr<waiter_registry> registry, context const& ctx, semaphore_core* core,
        std::uint64_t n, Handler h, Executor ex)
        : sem_waiter(std::move(registry), ctx, core, n)
        , handler_(std::move(h), std::move(ex))
    {
    }

    void complete(boost::system::error_code const& ec, bool granted) noexcept override
    {
        handler_.post(*this,
            acquire_result{ec, granted ? undelivered_units(core_, n_) : undelivered_units(), ctx_});
    }

    void abandon() noexcept override
    {
        handler_.abandon();
    }

    // Waiters come and go with every contended acquire: Asio's per-thread recycling
    // allocator rather than the heap.
    template<class... Args>
    static sem_waiter_impl* create(Args&&... args)
    {
        boost::asio::recycling_allocator<sem_waiter_impl> alloc;
        auto p = alloc.allocate(1);
        try
        {
            return ::new(static_cast<void*>(p)) sem_waiter_impl(static_cast<Args&&>(args)...);
        }
        catch(...)
        {
            alloc.deallocate(p, 1);
            throw;
        }
    }

    void destroy() noexcept override
    {
        boost::asio::recycling_allocator<sem_waiter_impl> alloc;
        this->~sem_waiter_impl();
        alloc.deallocate(this, 1);
    }

private:
    pending_handler<Handler, Executor> handler_;
};

// Completes an acquire without queueing it: posted to the handler's executor.
template<class Handler, class Executor>
void post_acquire(Handler&& handler, Executor const& ex, boost::system::error_code const& ec,
    semaphore_core* granted_from, std::uint64_t n, context const& ctx)
{
    using handler_type = std::decay_t<Handler>;
    boost::asio::post(ex,
        waiter_completion<handler_type, acquire_result>{static_cast<Handler&&>(handler), {},
            acquire_result{ec, granted_from ? undelivered_units(granted_from, n) : undelivered_units(), ctx}});
}

struct initiate_acquire
{
    semaphore_core* core;
    boost::asio::any_io_executor const* default_executor;

    template<class Handler>
    void operator()(Handler&& handler, context const& ctx, std::uint64_t n) const
    {
        auto ex = boost::asio::get_associated_executor(handler, *default_executor);
        if(n > core->capacity_)
        {
            static constexpr auto loc = BOOST_CURRENT_LOCATION;
            post_acquire(static_cast<Handler&&>(handler), ex,
                make_error_code(error::exceeds_capacity, &loc), nullptr, n, ctx);
            return;
        }
        if(auto ec = ctx.err())
        {
            post_acquire(static_cast<Handler&&>(handler), ex, ec, nullptr, n, ctx);
            return;
        }
        // Fast path: free and nobody waiting. No waiter, no registration.
        if(core->try_acquire(n))
        {
            post_acquire(static_cast<Handler&&>(handler), ex, {}, core, n, ctx);
            return;
        }
        wait(static_cast<Handler&&>(handler), ex, ctx, n);
    }

    template<class Handler, class Executor>
    void wait(Handler&& handler, Executor const& ex, context const& ctx, std::uint64_t n) const
    {
        using handler_type = std::decay_t<Handler>;
        using waiter_type = sem_waiter_impl<handler_type, Executor>;
        auto slot = boost::asio::get_associated_cancellation_slot(handler);
        auto w = waiter_type::create(registry_for(boost::asio::any_io_executor(ex), ctx), ctx, core, n,
            static_cast<Handler&&>(handler), ex);
        track_or_throw(w);
        // Hooked before the waiter is reachable from other threads: the slot is only
        // ever touched here and, later, by the completion on the handler's executor.
        if(slot.is_connected())
            slot.template emplace<waiter_cancellation<sem_waiter>>(w);
        auto state = detail::access::state_of(ctx);
        // Register with the context first, then queue, then check the context again:
        // a cancellation that lands in between is never missed.
        if(state->kind_ != node_kind::never && !add_registration(state, w))
        {
            w->complete(ctx.err(), false);
            w->release();
            return;
        }
        if(core->enqueue(w))
        {
            // The units came free meanwhile: granted without queueing.
            if(state->kind_ != node_kind::never)
                remove_registration(state, w);
            w->complete({}, true);
            w->release();
            return;
        }
        if(auto ec = ctx.err())
            core->cancel(w, ec);
        w->release();
    }
};

} // namespace asioctx::detail

#endif
