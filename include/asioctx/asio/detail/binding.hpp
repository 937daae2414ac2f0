//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_ASIO_DETAIL_BINDING_HPP
#define ASIOCTX_ASIO_DETAIL_BINDING_HPP

#include <asioctx/core/context.hpp>
#include <asioctx/core/detail/node.hpp>

#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/recycling_allocator.hpp>

#include <atomic>
#include <type_traits>
#include <utility>
#include <thread>

namespace asioctx::detail {

// What ties one Asio operation to a context: a registration in the context's nearest
// cancellable node, and the cancellation signal whose slot the operation sees.
//
// Three parties touch it: the context (fire(), from whatever thread cancels), the
// operation's executor (the emit, dispatched there), and the completion wrapper. The
// emit and the completion settle through `state_`: once the completion has claimed it,
// no emit ever reaches the operation again, and the completion waits for an emit that
// is in progress on another thread, so the operation's resources are never touched
// after its handler has started.
//
// Invariants:
// - `state_` goes idle -> emitting -> idle any number of times, and to `completed` once;
//   after `completed` nothing is emitted.
// - The completion may run inside an emit: an operation whose cancellation handler
//   completes it at once, on the emitting thread. complete() recognises its own thread as
//   the emitter (`emitter_`) and goes from emitting to completed without waiting; the
//   emit, on return, finds `completed` and leaves it. On any other thread complete() waits
//   for the emit in progress to finish.
// - Who owns the binding: the completion handler (until it unbinds), the node list (while
//   listed), an outer slot's forwarder (while hooked), and each emit the context sends or
//   re-sends (until it has run or been destroyed unrun). The emit's own reference keeps
//   the binding alive when a completion inside that emit drops the others.
// - `requested_` is set once, by the context, before the emit is dispatched, and never
//   cleared: the context's cancellation is level-triggered. Every later step of the
//   operation that hooks the slot (`rearming_slot::emplace`) has the emit delivered
//   again, posted so that it runs once that step has started. A composed operation that
//   keeps no cancellation state of its own (Beast 1.81's http::async_read, for one) hooks
//   the slot only while an inner step is pending; an emit that arrives between two steps
//   would otherwise be lost and the operation would run to its end.
class binding : public registration
{
public:
    binding(context ctx, boost::asio::cancellation_type type) noexcept
        : ctx_(std::move(ctx))
        , type_(type)
    {
    }

    // The context this operation is bound to (kept alive by the binding).
    context const& ctx() const noexcept
    {
        return ctx_;
    }

    boost::asio::cancellation_slot slot() noexcept
    {
        return signal_.slot();
    }

    // Emits on the operation's signal unless the operation has completed. `from_context`
    // records that the context (not an outer slot) cancelled it, for error translation.
    void emit(boost::asio::cancellation_type type, bool from_context) noexcept
    {
        std::uint8_t expected = idle;
        if(!state_.compare_exchange_strong(expected, emitting, std::memory_order_acquire))
            return; // completed, or an emit is already under way
        emitter_.store(std::this_thread::get_id(), std::memory_order_relaxed);
        if(from_context)
            by_context_ = true;
        signal_.emit(type);
        expected = emitting;
        state_.compare_exchange_strong(expected, idle, std::memory_order_release);
    }

    void emit_from_context() noexcept
    {
        emit(type_, true);
    }

    // The context has asked for cancellation (sticky).
    bool requested() const noexcept
    {
        return requested_.load(std::memory_order_acquire);
    }

    // A new step of the operation hooked the slot after the context asked: deliver the
    // emit again once that step has started (never inline: the step is not registered
    // anywhere yet while it hooks the slot).
    virtual void redeliver() noexcept = 0;

    // Claims the binding for the completion; afterwards no emit reaches the operation.
    // Returns whether the context cancelled the operation.
    bool complete() noexcept
    {
        for(;;)
        {
            std::uint8_t expected = idle;
            if(state_.compare_exchange_weak(expected, completed, std::memory_order_acquire))
                return by_context_;
            if(expected == emitting && emitter_.load(std::memory_order_relaxed) == std::this_thread::get_id())
            {
                // Completed from inside our own emit: the emit is on this stack.
                state_.store(completed, std::memory_order_relaxed);
                return by_context_;
            }
            std::this_thread::yield();
        }
    }

    // Not wanted once the completion has claimed the binding.
    bool wanted() const noexcept override
    {
        return state_.load(std::memory_order_acquire) != completed;
    }

private:
    enum : std::uint8_t
    {
        idle,
        emitting,
        completed
    };

    context ctx_;
    boost::asio::cancellation_signal signal_;
    boost::asio::cancellation_type const type_;
    std::atomic<std::uint8_t> state_{idle};
    std::atomic<std::thread::id> emitter_{};
    bool by_context_ = false;

protected:
    std::atomic<bool> requested_{false};
};

// The slot a bound operation sees: Asio's own, plus a hook on every installation of a
// cancellation handler, which is where a composed operation's next step begins. Derived
// from asio::cancellation_slot so that code holding the plain type still works (it only
// loses the re-delivery). Beast's filtering slot derives from whatever slot it is given.
class rearming_slot : public boost::asio::cancellation_slot
{
public:
    rearming_slot(boost::asio::cancellation_slot slot, binding* b) noexcept
        : boost::asio::cancellation_slot(slot)
        , b_(b)
    {
    }

    template<class CancellationHandler, class... Args>
    CancellationHandler& emplace(Args&&... args)
    {
        auto& h = boost::asio::cancellation_slot::template emplace<CancellationHandler>(static_cast<Args&&>(args)...);
        hooked();
        return h;
    }

    template<class CancellationHandler>
    std::decay_t<CancellationHandler>& assign(CancellationHandler&& handler)
    {
        return emplace<std::decay_t<CancellationHandler>>(static_cast<CancellationHandler&&>(handler));
    }

private:
    void hooked() noexcept
    {
        // `b_` lives at least as long as the operation's handler, which holds a reference:
        // only the operation's own steps hook the slot.
        if(b_->requested() && b_->wanted())
            b_->redeliver();
    }

    binding* b_;
};

// A binding whose emits are dispatched to the operation's executor, kept with its own
// type: no type erasure on the path of every operation.
template<class Executor>
class executor_binding final : public binding
{
public:
    executor_binding(context ctx, Executor ex, boost::asio::cancellation_type type) noexcept
        : binding(std::move(ctx), type)
        , ex_(std::move(ex))
    {
    }

    // Bindings come and go with every operation: they use Asio's per-thread recycling
    // allocator rather than the heap. Made with two references: the completion
    // handler's and the registration's.
    static executor_binding* create(context ctx, Executor ex, boost::asio::cancellation_type type)
    {
        boost::asio::recycling_allocator<executor_binding> alloc;
        auto p = alloc.allocate(1);
        auto b = ::new(static_cast<void*>(p)) executor_binding(std::move(ctx), std::move(ex), type);
        b->refs_.store(2, std::memory_order_relaxed);
        return b;
    }

    void destroy() noexcept override
    {
        boost::asio::recycling_allocator<executor_binding> alloc;
        this->~executor_binding();
        alloc.deallocate(this, 1);
    }

    // From whatever thread cancelled, with no lock held: hop to the operation's executor.
    // The hop holds a reference that its destruction releases, so that an emit destroyed
    // unrun (its io_context shut down) leaks nothing.
    void fire(boost::system::error_code const&, boost::system::error_code const&) noexcept override
    {
        requested_.store(true, std::memory_order_release);
        add_ref();
        held self(this);
        try
        {
            boost::asio::dispatch(ex_, [self = std::move(self)] { self.get()->emit_from_context(); });
        }
        catch(...)
        {
            // `self` (moved from or not) released the reference.
        }
    }

    void redeliver() noexcept override
    {
        add_ref();
        held self(this);
        try
        {
            boost::asio::post(ex_, [self = std::move(self)] { self.get()->emit_from_context(); });
        }
        catch(...)
        {
        }
    }

private:
    // One reference to a binding, released on destruction.
    class held
    {
    public:
        explicit held(executor_binding* b) noexcept
            : b_(b)
        {
        }

        held(held&& other) noexcept
            : b_(std::exchange(other.b_, nullptr))
        {
        }

        held& operator=(held&&) = delete;

        ~held()
        {
            if(b_)
                b_->release();
        }

        executor_binding* get() const noexcept
        {
            return b_;
        }

    private:
        executor_binding* b_;
    };

    Executor ex_;
};

} // namespace asioctx::detail

#endif
