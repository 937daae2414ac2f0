//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_SYNC_MUTEX_HPP
#define ASIOCTX_SYNC_MUTEX_HPP

#include <asioctx/core/context.hpp>
#include <asioctx/detail/config.hpp>
#include <asioctx/sync/detail/semaphore_core.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/system/error_code.hpp>

#include <mutex>
#include <utility>

namespace asioctx {

/** An asynchronous mutex whose waits a context can cancel.

    `async_lock(ctx, token)` completes once the caller holds the mutex, or with the
    context's error without holding it. Waiters are served first-come-first-served; a
    waiter whose context ends leaves the queue in O(1) and never gets the mutex.
    `unlock()` hands the mutex to the next waiter directly and posts that waiter's
    handler to its own executor: nothing runs inside `unlock()`.

    `try_lock()` and an `unlock()` with nobody waiting are one compare-and-swap each:
    no lock, no allocation, no post. That is the uncontended fast path; `async_lock`
    takes the mutex at once too when it is free, but still completes through a post
    (an Asio initiating function never calls its handler inline).

    Thread safety: every member may be called from any thread at once (the state is
    an atomic word plus a short internal lock, not a strand, so `unlock()` never has to
    post to hand over). The mutex is bound to an executor, the default for handlers
    without one of their own. It is not recursive and has no owner: any code may
    unlock it, as in Go.

    Destroying the mutex completes every pending `async_lock` with
    `asio::error::operation_aborted`.
*/
class mutex
{
public:
    using executor_type = boost::asio::any_io_executor;

    /// An unlocked mutex whose handlers default to `ex`.
    ASIOCTX_DECL explicit mutex(executor_type ex);

    /// Completes every pending `async_lock` with `asio::error::operation_aborted`.
    ASIOCTX_DECL ~mutex();

    mutex(mutex const&) = delete;
    mutex& operator=(mutex const&) = delete;

    executor_type const& get_executor() const noexcept
    {
        return ex_;
    }

    /** Locks the mutex, waiting in FIFO order (Go's `Lock(ctx)`).

        Completes with success once the caller holds the mutex (it must `unlock()` it),
        or with `ctx.err()` without holding it if `ctx` is done first. The context is
        checked once more just before the handler runs: if it ended after the mutex was
        handed over, the mutex goes on to the next waiter and the handler sees the
        context's error. A success therefore always means "held, and the context was
        live when the handler started" (the Go reference's re-check after acquiring).
        Never completes inside this call; the handler runs on its associated executor
        (default `get_executor()`).

        Per-operation cancellation: terminal, partial and total; the waiter leaves the
        queue without the mutex and completes with `asio::error::operation_aborted`.

        Signature: `void(boost::system::error_code)`.
    */
    template<class LockToken>
    auto async_lock(context const& ctx, LockToken&& token);

    /** As `async_lock`, completing with a `mutex_guard` that owns the lock (empty on
        error): `auto g = co_await m.async_guard(ctx, asio::use_awaitable);`

        Signature: `void(boost::system::error_code, mutex_guard)`.
    */
    template<class LockToken>
    auto async_guard(context const& ctx, LockToken&& token);

    /// Locks if the mutex is free and nobody waits; never waits. One compare-and-swap.
    bool try_lock() noexcept
    {
        return core_->try_acquire(1);
    }

    /** Unlocks; the next waiter, if any, now holds the mutex and its handler is posted.
        Unlocking a mutex that is not locked throws `boost::system::system_error` with
        `error::not_locked` and changes nothing.
    */
    void unlock()
    {
        if(!core_->release(1))
            throw_not_locked();
    }

    /// As `unlock()`, reporting `error::not_locked` through `ec` instead of throwing.
    void unlock(boost::system::error_code& ec) noexcept
    {
        if(core_->release(1))
            ec = {};
        else
            ec = not_locked_error();
    }

    /// True while locked (a snapshot).
    bool is_locked() const noexcept
    {
        return core_->available() == 0;
    }

    /// The number of queued `async_lock` calls right now (a snapshot; takes the lock).
    std::size_t waiting() const noexcept
    {
        return core_->waiting();
    }

private:
    [[noreturn]] ASIOCTX_DECL static void throw_not_locked();
    ASIOCTX_DECL static boost::system::error_code not_locked_error() noexcept;

    executor_type ex_;
    detail::semaphore_core* core_;
};

/** Owns a lock of an `asioctx::mutex` and unlocks it when destroyed. Move-only.

    `mutex_guard(m, std::adopt_lock)` takes over a lock the caller holds (after
    `async_lock` succeeded); `mutex_guard(m, std::try_to_lock)` calls `try_lock()`.
*/
class [[nodiscard]] mutex_guard
{
public:
    /// Owns nothing.
    mutex_guard() noexcept = default;

    mutex_guard(mutex& m, std::adopt_lock_t) noexcept
        : m_(&m)
    {
    }

    mutex_guard(mutex& m, std::try_to_lock_t) noexcept
        : m_(m.try_lock() ? &m : nullptr)
    {
    }

    mutex_guard(mutex_guard&& other) noexcept
        : m_(std::exchange(other.m_, nullptr))
    {
    }

    mutex_guard& operator=(mutex_guard&& other) noexcept
    {
        if(this != &other)
        {
            unlock();
            m_ = std::exchange(other.m_, nullptr);
        }
        return *this;
    }

    ~mutex_guard()
    {
        unlock();
    }

    /// True while a lock is owned.
    bool owns_lock() const noexcept
    {
        return m_ != nullptr;
    }

    explicit operator bool() const noexcept
    {
        return owns_lock();
    }

    /// Unlocks now (if a lock is owned).
    void unlock() noexcept
    {
        if(auto m = std::exchange(m_, nullptr))
        {
            boost::system::error_code ignored; // owned, so it is locked
            m->unlock(ignored);
        }
    }

    /// Gives up ownership without unlocking; returns the mutex.
    mutex* release() noexcept
    {
        return std::exchange(m_, nullptr);
    }

private:
    mutex* m_ = nullptr;
};

} // namespace asioctx

#include <asioctx/sync/impl/mutex.hpp>

#endif
