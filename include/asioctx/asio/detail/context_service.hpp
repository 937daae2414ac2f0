//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//
// The library's service of one execution context, with its two parts:
//
// - deadline_heap: every pending deadline node of the execution context, in a binary heap
//   served by one steady_timer armed for the earliest.
// - waiter_registry: every waiter that will post to the execution context (an
//   async_wait, an after_func, an acquire, a group wait). Asio does not know of them, so
//   at shutdown the registry abandons each: unlists it from its node and destroys its
//   handler uncalled, and a later cancel finds nothing to post to a dead executor.
//
// Both are shared with the nodes and waiters that refer to them, which may outlive the
// execution context; the service closes them at shutdown.
//
// Lock order (a lock is only ever taken while holding those before it in this list):
//   1. waiter_registry::mutex_, held while a claimed waiter posts (so a shutdown cannot
//      come between the claim and the post) and while close() unlists waiters;
//   2. deadline_heap::mutex_, held while the timer is armed or a disarm check posted; it
//      is never held together with the registry's;
//   3. node locks (under the registry's only, in close()); nothing is taken under them;
//   4. the execution context's own locks, inside Asio's post and timer calls.
// The heap's lock is never taken under a node lock: a deadline node enters the heap after
// its lock is released and leaves it after the cancel walk released every lock.

#ifndef ASIOCTX_ASIO_DETAIL_CONTEXT_SERVICE_HPP
#define ASIOCTX_ASIO_DETAIL_CONTEXT_SERVICE_HPP

#include <asioctx/detail/config.hpp>
#include <asioctx/core/detail/node.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace asioctx::detail {

class waiter;

// Deriving a deadline is a heap insertion (the timer is re-armed, from a posted handler,
// only when the new deadline is the earliest); cancelling one is a heap removal (the
// timer is cancelled only when nothing is left, by a posted check that has seen the heap
// stay unused, so that an idle io_context can run out of work).
class deadline_heap final : public deadline_keeper, public std::enable_shared_from_this<deadline_heap>
{
public:
    // Adds live `n`, whose keeper_ is already this heap. False if the execution context
    // has been shut down.
    ASIOCTX_DECL bool insert(deadline_node* n, boost::asio::any_io_executor const& ex);

    // Removes `n` if it is still pending.
    ASIOCTX_DECL void remove(deadline_node* n) noexcept override;

    // Drops every pending deadline and the timer; called at service shutdown.
    ASIOCTX_DECL void close() noexcept;

    // How many deadlines are pending (for tests and diagnostics).
    ASIOCTX_DECL std::size_t size() const;

    // True while the timer has a wait pending (for tests).
    ASIOCTX_DECL bool armed() const;

private:
    void arm(steady_time when);
    void post_arm(); // arms at once if it cannot post
    void arm_if_needed();
    void on_timer(std::uint64_t generation, boost::system::error_code const& ec);
    void post_disarm_check() noexcept; // disarms at once if it cannot post
    void disarm() noexcept;
    void disarm_if_idle() noexcept;
    void heap_erase(std::size_t i) noexcept;
    void sift_up(std::size_t i) noexcept;
    void sift_down(std::size_t i) noexcept;
    void place(std::size_t i, deadline_node* n) noexcept;

    mutable std::mutex mutex_;
    std::vector<deadline_node*> heap_;
    std::optional<boost::asio::steady_timer> timer_;
    // The timer's executor as asio::post would prepare it on every call (never blocking),
    // prepared once with the timer.
    boost::asio::any_io_executor post_to_;
    steady_time armed_at_ = steady_time::max();
    std::uint64_t generation_ = 0;
    std::uint64_t inserts_ = 0;          // deadlines ever queued
    std::uint64_t inserts_at_check_ = 0; // ... when the pending disarm check was posted
    int quiet_checks_ = 0;               // checks in a row that saw no new deadline
    bool disarm_posted_ = false;
    bool arm_posted_ = false;
    bool closed_ = false;
};

// The waiters that will post to one execution context, in an intrusive list.
class waiter_registry
{
public:
    // Starts tracking `w`; false if the execution context has shut down.
    ASIOCTX_DECL bool track(waiter* w) noexcept;

    // If `w` is still tracked, stops tracking it and returns this registry's lock, held:
    // the caller posts, then unlocks. Returns nullptr if the execution context shut down
    // (or `w` was already claimed): the caller must not touch the executor.
    ASIOCTX_DECL std::mutex* claim_for_post(waiter* w) noexcept;

    // Stops tracking `w` if it still is.
    ASIOCTX_DECL void untrack(waiter* w) noexcept;

    // Abandons every tracked waiter; called at service shutdown.
    ASIOCTX_DECL void close() noexcept;

    // How many waiters are tracked (for tests).
    ASIOCTX_DECL std::size_t size() const;

private:
    void unlink(waiter* w) noexcept;

    mutable std::mutex mutex_;
    waiter* head_ = nullptr;
    bool closed_ = false;
};

// The service: one per execution context, created on first use.
class context_service : public boost::asio::execution_context::service
{
public:
    using key_type = context_service;
    ASIOCTX_DECL static boost::asio::execution_context::id id;

    ASIOCTX_DECL explicit context_service(boost::asio::execution_context& ctx);

    std::shared_ptr<deadline_heap> const& deadlines() const noexcept
    {
        return deadlines_;
    }

    std::shared_ptr<waiter_registry> const& waiters() const noexcept
    {
        return waiters_;
    }

private:
    ASIOCTX_DECL void shutdown() override;

    std::shared_ptr<deadline_heap> deadlines_;
    std::shared_ptr<waiter_registry> waiters_;
};

// The service of `ex`'s execution context.
ASIOCTX_DECL context_service& service_for(boost::asio::any_io_executor const& ex);

} // namespace asioctx::detail

#endif
