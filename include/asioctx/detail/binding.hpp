//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_DETAIL_BINDING_HPP
#define ASIOCTX_DETAIL_BINDING_HPP

#include <asioctx/context.hpp>
#include <asioctx/detail/node.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/recycling_allocator.hpp>

#include <atomic>
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
class binding final : public registration
{
public:
    binding(context ctx, boost::asio::any_io_executor ex, boost::asio::cancellation_type type) noexcept
        : ctx_(std::move(ctx))
        , ex_(std::move(ex))
        , type_(type)
    {
    }

    // Bindings come and go with every operation: they use Asio's per-thread recycling
    // allocator rather than the heap.
    // Made with two references: the completion handler's and the registration's.
    static binding* create(context ctx, boost::asio::any_io_executor ex, boost::asio::cancellation_type type)
    {
        boost::asio::recycling_allocator<binding> alloc;
        auto p = alloc.allocate(1);
        auto b = ::new(static_cast<void*>(p)) binding(std::move(ctx), std::move(ex), type);
        b->refs_.store(2, std::memory_order_relaxed);
        return b;
    }

    void destroy() noexcept override
    {
        boost::asio::recycling_allocator<binding> alloc;
        this->~binding();
        alloc.deallocate(this, 1);
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

    void fire(boost::system::error_code const&, boost::system::error_code const&) noexcept override
    {
        add_ref();
        try
        {
            boost::asio::dispatch(ex_, [this] {
                emit(type_, true);
                release();
            });
        }
        catch(...)
        {
            release();
        }
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
    boost::asio::any_io_executor ex_;
    boost::asio::cancellation_type const type_;
    std::atomic<std::uint8_t> state_{idle};
    std::atomic<std::thread::id> emitter_{};
    bool by_context_ = false;
};

} // namespace asioctx::detail

#endif
