//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_DETAIL_DEADLINE_QUEUE_HPP
#define ASIOCTX_DETAIL_DEADLINE_QUEUE_HPP

#include <asioctx/detail/config.hpp>
#include <asioctx/detail/executor_registration.hpp>
#include <asioctx/detail/node.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace asioctx::detail {

// All pending deadlines of one execution context, in a binary heap, served by one
// steady_timer armed for the earliest. Deriving a deadline is a heap insertion (the
// timer is re-armed only when the new deadline is the earliest); cancelling one is a
// heap removal (the timer is cancelled only when nothing is left, by a posted check that
// has seen the queue stay unused, so that an idle io_context can run out of work).
class deadline_queue : public std::enable_shared_from_this<deadline_queue>
{
public:
    // Adds `n` (its lock held by the caller, live). False if the execution context has
    // been shut down.
    ASIOCTX_DECL bool insert(deadline_node* n, boost::asio::any_io_executor const& ex);

    // Removes `n` if it is still pending (its lock held by the caller).
    ASIOCTX_DECL void remove(deadline_node* n) noexcept;

    // Drops every pending deadline and the timer; called at service shutdown.
    ASIOCTX_DECL void close() noexcept;

    // How many deadlines are pending (for tests and diagnostics).
    ASIOCTX_DECL std::size_t size() const;

    // True while the timer has a wait pending (for tests).
    ASIOCTX_DECL bool armed() const;

    // How many after_func and async_wait registrations are tracked (for tests).
    ASIOCTX_DECL std::size_t tracked() const;

private:
    void arm(steady_time when);
    void on_timer(std::uint64_t generation, boost::system::error_code const& ec);
    void post_disarm_check() noexcept; // disarms at once if it cannot post
    void disarm() noexcept;
    void disarm_if_idle() noexcept;
    void heap_erase(std::size_t i) noexcept;
    void sift_up(std::size_t i) noexcept;
    void sift_down(std::size_t i) noexcept;
    void place(std::size_t i, deadline_node* n) noexcept;

    friend bool track(executor_registration*) noexcept;
    friend std::mutex* claim_for_post(executor_registration*) noexcept;
    friend void untrack(executor_registration*) noexcept;
    void unlink_tracked(executor_registration* r) noexcept;

    // Registrations that post to this execution context; a lock of their own, never taken
    // under a node's lock (node locks may be taken under it).
    mutable std::mutex tracked_mutex_;
    executor_registration* tracked_ = nullptr;
    bool tracked_closed_ = false;

    mutable std::mutex mutex_;
    std::vector<deadline_node*> heap_;
    std::optional<boost::asio::steady_timer> timer_;
    steady_time armed_at_ = steady_time::max();
    std::uint64_t generation_ = 0;
    std::uint64_t inserts_ = 0;          // deadlines ever queued
    std::uint64_t inserts_at_check_ = 0; // ... when the pending disarm check was posted
    int quiet_checks_ = 0;               // checks in a row that saw no new deadline
    bool disarm_posted_ = false;
    bool closed_ = false;
};

// Owns the deadline queue of one execution context.
class deadline_service : public boost::asio::execution_context::service
{
public:
    using key_type = deadline_service;
    ASIOCTX_DECL static boost::asio::execution_context::id id;

    ASIOCTX_DECL explicit deadline_service(boost::asio::execution_context& ctx);

    std::shared_ptr<deadline_queue> const& queue() const noexcept
    {
        return queue_;
    }

private:
    ASIOCTX_DECL void shutdown() override;

    std::shared_ptr<deadline_queue> queue_;
};

// The queue serving `ex`'s execution context.
ASIOCTX_DECL std::shared_ptr<deadline_queue> const& queue_for(boost::asio::any_io_executor const& ex);

} // namespace asioctx::detail

#endif
