//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_SYNC_SEMAPHORE_HPP
#define ASIOCTX_SYNC_SEMAPHORE_HPP

#include <asioctx/core/context.hpp>
#include <asioctx/detail/config.hpp>
#include <asioctx/sync/detail/semaphore_core.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/system/error_code.hpp>

#include <cstdint>

namespace asioctx {

/** A weighted semaphore whose waits a context can cancel (golang.org/x/sync/semaphore).

    Holds `capacity()` units. `async_acquire(ctx, n, token)` takes `n` of them, waiting
    if they are not free. Waiters are served strictly first-come-first-served: a large
    request at the head of the queue blocks later small ones, so large requests are
    never starved. While nobody waits, `try_acquire` and `release` are one
    compare-and-swap each (no lock, no allocation).

    Thread safety: every member may be called from any thread at once. Handlers run on
    their own associated executor, by default `get_executor()`.

    Destroying the semaphore completes every pending acquire with
    `asio::error::operation_aborted`. It must outlive its holders' `release` calls.
*/
class semaphore
{
public:
    using executor_type = boost::asio::any_io_executor;

    /// A semaphore of `capacity` units, all free, whose handlers default to `ex`.
    /// Throws `std::length_error` if `capacity` exceeds `max_capacity`.
    ASIOCTX_DECL semaphore(executor_type ex, std::uint64_t capacity);

    /// Completes every pending acquire with `asio::error::operation_aborted`.
    ASIOCTX_DECL ~semaphore();

    semaphore(semaphore const&) = delete;
    semaphore& operator=(semaphore const&) = delete;

    static constexpr std::uint64_t max_capacity = detail::semaphore_core::max_capacity;

    executor_type const& get_executor() const noexcept
    {
        return ex_;
    }

    /// The number of units.
    std::uint64_t capacity() const noexcept
    {
        return core_->capacity_;
    }

    /// The units free right now (a snapshot).
    std::uint64_t available() const noexcept
    {
        return core_->available();
    }

    /// The number of queued acquires right now (a snapshot; takes the lock).
    std::size_t waiting() const noexcept
    {
        return core_->waiting();
    }

    /** Acquires `n` units, waiting for them in FIFO order (Go's `Acquire(ctx, n)`).

        Completes with success once the units are held by the caller, who must
        `release(n)` them; with `ctx.err()` if `ctx` is done before they are granted
        (also checked once more just before the handler runs: a grant that raced with the
        context's end is passed on to the next waiter, never kept); with
        `error::exceeds_capacity` at once if `n > capacity()`.
        Never completes inside this call: the handler is posted to its associated
        executor (default `get_executor()`), also when the units are free at once.

        Per-operation cancellation: terminal, partial and total. A cancelled acquire
        leaves the queue in O(1), holds nothing, and completes with
        `asio::error::operation_aborted`; if it was at the head, the waiters behind it
        are granted what now fits.

        Signature: `void(boost::system::error_code)`.
    */
    template<class AcquireToken>
    auto async_acquire(context const& ctx, std::uint64_t n, AcquireToken&& token);

    /// Takes `n` units if they are free and nobody waits; never waits (Go's `TryAcquire`).
    bool try_acquire(std::uint64_t n) noexcept
    {
        return core_->try_acquire(n);
    }

    /** Gives back `n` units and grants queued waiters in order (Go's `Release`).
        Throws `boost::system::system_error` with `error::over_released` if more units
        would be free than the capacity; the semaphore is then unchanged.
    */
    ASIOCTX_DECL void release(std::uint64_t n);

    /// As `release(n)`, reporting `error::over_released` through `ec` instead.
    ASIOCTX_DECL void release(std::uint64_t n, boost::system::error_code& ec) noexcept;

private:
    executor_type ex_;
    detail::semaphore_core* core_;
};

} // namespace asioctx

#include <asioctx/sync/impl/semaphore.hpp>

#endif
