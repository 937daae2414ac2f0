//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_DETAIL_ACQUIRE_HPP
#define ASIOCTX_DETAIL_ACQUIRE_HPP

#include <asioctx/context.hpp>
#include <asioctx/detail/semaphore_core.hpp>
#include <asioctx/error.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_allocator.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/recycling_allocator.hpp>

#include <optional>

namespace asioctx::detail {

// Units granted to an acquire whose handler has not run yet. Conservation: if this is
// destroyed before the handler takes the units (the handler's execution context was
// destroyed with the completion still queued, or posting it failed), they go back to
// the semaphore, so a grant that is never delivered is never lost.
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
    // parks them if this thread is posting under an execution context's claim lock.
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

    // While a thread posts a completion under an execution context's claim lock, units
    // given back (the post failed) are parked here and returned after the unlock: giving
    // them back may grant them to a waiter of that same execution context, whose
    // completion takes the same lock.
    static inline thread_local undelivered_units* parking_ = nullptr;

    // The handler now holds the units.
    void deliver() noexcept
    {
        core_.reset();
    }

private:
    core_ref core_;
    std::uint64_t n_ = 0;
};

// The posted completion of an acquire. A granted acquire checks its context once more
// just before the handler runs: if the context ended in between, the units go back (to
// the next waiter) and the handler sees the context's error, so a handler whose
// context is done never holds the units.
template<class Handler>
struct acquire_completion
{
    Handler handler;
    boost::asio::cancellation_slot slot;
    boost::system::error_code ec;
    undelivered_units granted; // empty unless granted
    context ctx;

    using allocator_type = boost::asio::associated_allocator_t<Handler>;
    allocator_type get_allocator() const noexcept
    {
        return boost::asio::get_associated_allocator(handler);
    }

    void operator()()
    {
        if(slot.is_connected())
            slot.clear();
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
        std::move(handler)(ec);
    }
};

template<class Handler, class Executor>
class sem_waiter_impl final : public sem_waiter
{
public:
    sem_waiter_impl(std::shared_ptr<deadline_queue> owner, context const& ctx, semaphore_core* core,
        std::uint64_t n, Handler h, Executor ex)
        : sem_waiter(std::move(owner), ctx, core, n)
        , handler_(std::move(h))
        , work_(std::move(ex))
    {
    }

    void complete(boost::system::error_code const& ec, bool granted) noexcept override
    {
        undelivered_units parked; // destroyed (units returned) after the unlock below
        auto lock = claim_for_post(this);
        if(!lock)
        {
            // The handler's execution context has shut down: nobody will take the units.
            abandon();
            if(granted)
                core_->release(n_);
            return;
        }
        auto slot = boost::asio::get_associated_cancellation_slot(*handler_);
        auto ex = work_->get_executor();
        undelivered_units::parking_ = &parked;
        try
        {
            boost::asio::post(ex,
                acquire_completion<Handler>{std::move(*handler_), slot, ec,
                    granted ? undelivered_units(core_, n_) : undelivered_units(), ctx_});
        }
        catch(...)
        {
            // Out of memory while posting: the acquire is dropped; the completion's
            // destruction has parked its units, returned once the lock is released.
        }
        undelivered_units::parking_ = nullptr;
        handler_.reset();
        work_.reset();
        lock->unlock();
    }

    void abandon() noexcept override
    {
        handler_.reset();
        work_.reset();
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
    std::optional<Handler> handler_;
    std::optional<boost::asio::executor_work_guard<Executor>> work_;
};

// Hooked into the acquire's cancellation slot: any cancellation type takes the waiter
// out of the FIFO (a waiter holds nothing, so even total cancellation is safe).
struct acquire_cancellation
{
    sem_waiter* w;

    explicit acquire_cancellation(sem_waiter* waiter) noexcept
        : w(waiter)
    {
        w->add_ref();
    }
    acquire_cancellation(acquire_cancellation const&) = delete;
    ~acquire_cancellation()
    {
        w->release();
    }

    void operator()(boost::asio::cancellation_type) noexcept
    {
        w->core_->cancel(w, boost::asio::error::operation_aborted);
    }
};

// Completes an acquire without queueing it: posted to the handler's executor.
template<class Handler, class Executor>
void post_acquire(Handler&& handler, Executor const& ex, boost::system::error_code const& ec,
    semaphore_core* granted_from, std::uint64_t n, context const& ctx)
{
    using handler_type = std::decay_t<Handler>;
    boost::asio::post(ex,
        acquire_completion<handler_type>{static_cast<Handler&&>(handler), {}, ec,
            granted_from ? undelivered_units(granted_from, n) : undelivered_units(), ctx});
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
        auto w = waiter_type::create(owner_for(boost::asio::any_io_executor(ex), ctx), ctx, core, n,
            static_cast<Handler&&>(handler), ex);
        if(!track(w))
        {
            w->release();
            ASIOCTX_THROW_NO_EXECUTOR(); // its execution context has shut down
        }
        // Hooked before the waiter is reachable from other threads: the slot is only
        // ever touched here and, later, by the completion on the handler's executor.
        if(slot.is_connected())
            slot.template emplace<acquire_cancellation>(w);
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
