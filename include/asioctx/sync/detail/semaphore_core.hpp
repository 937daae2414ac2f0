//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//
// The FIFO core of asioctx::semaphore and asioctx::mutex (src/sync/semaphore.cpp keeps
// it). Invariants:
// - Conservation: free + granted in flight + held == capacity, always. Free units are
//   the count in `word_`; units in flight were granted to a waiter whose handler has not
//   run: on the settled list, then in an undelivered_units (the completion, posted or
//   being posted); held units are the
//   user's, from the handler (or try_acquire) until release(). A completion destroyed
//   uncalled gives its units back, so no path loses them.
// - FIFO: while a waiter is queued the waiters bit is set, and every acquire and release
//   goes through the lock, so no request overtakes the head, whatever its size.
// - A waiter is settled exactly once, by whoever unlinks it from the FIFO under the lock
//   (a grant, its context, its slot, the owner's close, a shutdown's abandon); its
//   completion is posted after the lock is released.
// - Lock order: the core's mutex, then nothing: node locks and the waiter registry's
//   lock are taken only after it is released (settle()).

#ifndef ASIOCTX_SYNC_DETAIL_SEMAPHORE_CORE_HPP
#define ASIOCTX_SYNC_DETAIL_SEMAPHORE_CORE_HPP

#include <asioctx/core/context.hpp>
#include <asioctx/detail/config.hpp>
#include <asioctx/asio/detail/waiter.hpp>

#include <atomic>
#include <cstdint>
#include <mutex>

namespace asioctx::detail {

class semaphore_core;

// A pending acquire: listed in the core's FIFO (under the core's lock) and registered in
// its context's nearest cancellable node. Whoever unlinks it from the FIFO settles it:
// a grant, the context (fire), its cancellation slot, the owner's destruction, or the
// shutdown of its handler's execution context.
class sem_waiter : public waiter
{
public:
    ASIOCTX_DECL sem_waiter(std::shared_ptr<waiter_registry> registry, context const& ctx,
        semaphore_core* core, std::uint64_t n) noexcept;
    ASIOCTX_DECL ~sem_waiter() override;

    // Posts the handler with `ec`; `granted` when the waiter now holds its units.
    // Called once, outside every lock.
    virtual void complete(boost::system::error_code const& ec, bool granted) noexcept = 0;

    // Destroys the handler uncalled (its execution context has shut down).
    virtual void abandon() noexcept = 0;

    ASIOCTX_DECL void fire(
        boost::system::error_code const& err, boost::system::error_code const& cause) noexcept override;
    ASIOCTX_DECL void shut_down(bool unlisted) noexcept override;

    // The acquire's own slot was emitted: the waiter leaves the FIFO.
    ASIOCTX_DECL void cancelled_by_slot() noexcept;

    context const ctx_;
    semaphore_core* const core_; // one reference
    std::uint64_t const n_;

    // Guarded by the core's lock.
    sem_waiter* prev_ = nullptr;
    sem_waiter* next_ = nullptr;
    bool queued_ = false;

    // Used once settled, by the settling thread only.
    sem_waiter* settled_next_ = nullptr;
    boost::system::error_code settled_ec_;
    bool settled_granted_ = false;
};

// The state of a weighted FIFO semaphore; an asioctx::mutex is one of capacity 1.
//
// One atomic word holds the free units and a "waiters" bit. While the FIFO is empty,
// acquire and release are one compare-and-swap each, with no lock; once a waiter is
// queued every change goes through the lock, so a later small request can never
// overtake a waiter at the head.
class semaphore_core
{
public:
    ASIOCTX_DECL explicit semaphore_core(std::uint64_t capacity);

    semaphore_core(semaphore_core const&) = delete;
    semaphore_core& operator=(semaphore_core const&) = delete;

    void add_ref() noexcept
    {
        refs_.fetch_add(1, std::memory_order_relaxed);
    }
    void release_ref() noexcept
    {
        if(refs_.fetch_sub(1, std::memory_order_acq_rel) == 1)
            delete this;
    }

    // The lock-free path: takes `n` units if no one waits and they are free.
    bool try_acquire(std::uint64_t n) noexcept
    {
        if(n > capacity_)
            return false;
        // First guess: every unit free, nobody waiting (the uncontended case), so the
        // common path is a single compare-and-swap with no load before it.
        auto w = capacity_ << 1;
        for(;;)
        {
            if((w & waiters_bit) || (w >> 1) < n)
                return false;
            if(word_.compare_exchange_weak(
                   w, w - (n << 1), std::memory_order_acquire, std::memory_order_relaxed))
                return true;
        }
    }

    // Gives `n` units back; false (and nothing changes) if that would exceed the
    // capacity. Grants queued waiters in order, completing them outside the lock.
    bool release(std::uint64_t n) noexcept
    {
        if(n > capacity_)
            return false;
        // First guess: this release makes every unit free and nobody waits.
        auto w = (capacity_ - n) << 1;
        while(!(w & waiters_bit))
        {
            if(n > capacity_ - (w >> 1))
                return false;
            if(word_.compare_exchange_weak(
                   w, w + (n << 1), std::memory_order_release, std::memory_order_relaxed))
                return true;
        }
        return release_slow(n);
    }

    // Queues `w` (taking a reference) unless its units can be taken at once; true when
    // they were taken (and `w` is not queued).
    ASIOCTX_DECL bool enqueue(sem_waiter* w) noexcept;

    // Unlinks `w` if still queued and completes it with `ec`.
    ASIOCTX_DECL void cancel(sem_waiter* w, boost::system::error_code const& ec) noexcept;

    // Unlinks `w` if still queued and abandons it (shutdown of its execution context).
    ASIOCTX_DECL void abandon(sem_waiter* w) noexcept;

    // The owner is being destroyed: every queued waiter completes with
    // asio::error::operation_aborted.
    ASIOCTX_DECL void close() noexcept;

    std::uint64_t available() const noexcept
    {
        return word_.load(std::memory_order_relaxed) >> 1;
    }

    ASIOCTX_DECL std::size_t waiting() const noexcept;

    std::uint64_t const capacity_;

    // The largest capacity: one bit of the word is the waiters flag.
    static constexpr std::uint64_t max_capacity = ~std::uint64_t(0) >> 1;

private:
    ~semaphore_core() = default;

    static constexpr std::uint64_t waiters_bit = 1;

    struct settled_list
    {
        sem_waiter* head = nullptr;
        sem_waiter** tail = &head;

        void push(sem_waiter* w, boost::system::error_code const& ec, bool granted) noexcept
        {
            w->settled_ec_ = ec;
            w->settled_granted_ = granted;
            w->settled_next_ = nullptr;
            *tail = w;
            tail = &w->settled_next_;
        }
    };

    ASIOCTX_DECL bool release_slow(std::uint64_t n) noexcept;
    void unlink(sem_waiter* w) noexcept;
    void grant_locked(settled_list& out) noexcept;
    static void settle(settled_list& list) noexcept;

    std::atomic<std::uint32_t> refs_{1};
    std::atomic<std::uint64_t> word_;
    mutable std::mutex mutex_;
    sem_waiter* head_ = nullptr;
    sem_waiter* tail_ = nullptr;
};

// An owning pointer to a semaphore_core.
class core_ref
{
public:
    core_ref() noexcept = default;
    explicit core_ref(semaphore_core* c) noexcept
        : c_(c)
    {
        if(c_)
            c_->add_ref();
    }
    core_ref(core_ref const& other) noexcept
        : core_ref(other.c_)
    {
    }
    core_ref(core_ref&& other) noexcept
        : c_(std::exchange(other.c_, nullptr))
    {
    }
    core_ref& operator=(core_ref other) noexcept
    {
        std::swap(c_, other.c_);
        return *this;
    }
    ~core_ref()
    {
        if(c_)
            c_->release_ref();
    }
    semaphore_core* get() const noexcept
    {
        return c_;
    }
    semaphore_core* operator->() const noexcept
    {
        return c_;
    }
    explicit operator bool() const noexcept
    {
        return c_ != nullptr;
    }
    void reset() noexcept
    {
        core_ref().swap(*this);
    }
    void swap(core_ref& other) noexcept
    {
        std::swap(c_, other.c_);
    }

private:
    semaphore_core* c_ = nullptr;
};

} // namespace asioctx::detail

#endif
