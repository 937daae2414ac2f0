//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_SYNC_DETAIL_GROUP_STATE_HPP
#define ASIOCTX_SYNC_DETAIL_GROUP_STATE_HPP

#include <asioctx/core/cancel.hpp>
#include <asioctx/core/context.hpp>
#include <asioctx/asio/bind.hpp>
#include <asioctx/detail/config.hpp>
#include <asioctx/asio/detail/waiter.hpp>
#include <asioctx/sync/semaphore.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/system/system_error.hpp>

#include <atomic>
#include <exception>
#include <memory>
#include <mutex>
#include <type_traits>

namespace asioctx::detail {

class group_state;

// A pending group wait. Tracked by its handler's execution context (so a shutdown
// abandons it) and listed in the group until the last task ends.
class group_waiter : public waiter
{
public:
    group_waiter(std::shared_ptr<waiter_registry> registry, std::shared_ptr<group_state> group) noexcept
        : waiter(std::move(registry), nullptr, &never_node)
        , group_(std::move(group))
    {
    }

    // Posts the handler with the group's result. Called once, outside every lock.
    virtual void complete(std::exception_ptr ep, boost::system::error_code const& ec) noexcept = 0;
    virtual void abandon() noexcept = 0;

    void fire(boost::system::error_code const&, boost::system::error_code const&) noexcept override
    {
        // Never listed in a node: a group wait ends with the group, not with a context.
    }

    ASIOCTX_DECL void shut_down(bool unlisted) noexcept override;

    std::shared_ptr<group_state> group_; // kept while listed: the group ends the wait
    group_waiter* next_ = nullptr;      // guarded by the group's lock
    group_waiter** pprev_ = nullptr;    // non-null while listed
};

// What a group wait's handler is called with: the first failure, as an exception or an
// error code.
struct group_result
{
    std::exception_ptr ep;
    boost::system::error_code ec;

    template<class Handler>
    void operator()(Handler&& handler) &&
    {
        static_cast<Handler&&>(handler)(std::move(ep), ec);
    }
};

template<class Handler, class Executor>
class group_waiter_impl final : public group_waiter
{
public:
    group_waiter_impl(std::shared_ptr<waiter_registry> registry, std::shared_ptr<group_state> group,
        Handler h, Executor ex)
        : group_waiter(std::move(registry), std::move(group))
        , handler_(std::move(h), std::move(ex))
    {
    }

    void complete(std::exception_ptr ep, boost::system::error_code const& ec) noexcept override
    {
        handler_.post(*this, group_result{std::move(ep), ec});
    }

    void abandon() noexcept override
    {
        handler_.abandon();
    }

private:
    pending_handler<Handler, Executor> handler_;
};

// The shared state of a group (and of run): the group's context, the task count, the
// first error, the optional limit and the pending waits. Tasks and waits keep it alive,
// so it outlives the group object as long as a task still runs.
class group_state : public std::enable_shared_from_this<group_state>
{
public:
    ASIOCTX_DECL group_state(boost::asio::any_io_executor ex, context const& parent);
    ASIOCTX_DECL ~group_state();

    context const& ctx() const noexcept
    {
        return ctx_;
    }
    boost::asio::any_io_executor const& executor() const noexcept
    {
        return ex_;
    }

    // Cancels the group's context (tasks see it at once); `cause` as for a cancel handle.
    void cancel(boost::system::error_code const& cause = {}) noexcept
    {
        cancel_(cause);
    }

    // Counts a task from its spawn until it ends or is dropped.
    ASIOCTX_DECL void begin_task();

    // A task ended. The first failure is kept and cancels the group's context with it as
    // the cause; `holds_slot` gives its limit slot back; the last one ends the waits.
    ASIOCTX_DECL void end_task(std::exception_ptr ep, boost::system::error_code ec, bool holds_slot) noexcept;

    // A spawned task that never started (its slot wait failed with `ec`).
    ASIOCTX_DECL void drop_task(boost::system::error_code const& ec) noexcept;

    // Lists `w` (taking over the caller's reference), or completes it at once if no
    // task runs.
    ASIOCTX_DECL void add_waiter(group_waiter* w) noexcept;
    ASIOCTX_DECL void abandon_waiter(group_waiter* w) noexcept;

    ASIOCTX_DECL void set_limit(std::size_t n);
    semaphore* limit() const noexcept
    {
        return limit_.get();
    }

    ASIOCTX_DECL std::size_t active() const noexcept;

    // Where a coroutine task runs: the group's executor if it is a strand already or
    // an io_context's run by one thread (concurrency hint 1), otherwise a new strand.
    ASIOCTX_DECL boost::asio::any_io_executor task_executor() const;

    // Starts `fn(ctx())` now: an awaitable through co_spawn, anything else posted.
    template<class F>
    void start(F&& fn, bool holds_slot) noexcept;

    // Completion of a task started by co_spawn.
    struct task_done
    {
        std::shared_ptr<group_state> state;
        bool holds_slot;

        void operator()(std::exception_ptr ep) const noexcept
        {
            state->end_task(std::move(ep), {}, holds_slot);
        }
        void operator()(std::exception_ptr ep, boost::system::error_code ec) const noexcept
        {
            state->end_task(std::move(ep), ec, holds_slot);
        }
    };

private:
    void finish(group_waiter* list) noexcept;
    group_waiter* take_waiters_locked() noexcept;

    boost::asio::any_io_executor ex_;
    bool serialised_; // ex_ runs one thing at a time already: tasks need no strand of their own
    context ctx_;
    cancel_handle cancel_;
    std::unique_ptr<semaphore> limit_;

    // Counting is lock-free; the lock guards the first failure and the waits.
    std::atomic<std::size_t> active_{0};
    std::atomic<bool> failed_{false};
    mutable std::mutex mutex_;
    boost::system::error_code first_ec_;
    std::exception_ptr first_ep_;
    group_waiter* waiters_ = nullptr;
};

template<class T>
struct is_awaitable : std::false_type
{
};

template<class T, class Executor>
struct is_awaitable<boost::asio::awaitable<T, Executor>> : std::true_type
{
};

template<class F>
void group_state::start(F&& fn, bool holds_slot) noexcept
{
    using result_type = std::invoke_result_t<F&, context>;
    auto self = shared_from_this();
    try
    {
        if constexpr(is_awaitable<result_type>::value)
        {
            static_assert(std::is_same_v<typename result_type::value_type, void> ||
                    std::is_same_v<typename result_type::value_type, boost::system::error_code>,
                "a group task returns awaitable<void> or awaitable<error_code>");
            // Each coroutine on a strand: the group's cancellation is emitted from other
            // threads' handlers, and Asio's per-operation cancellation needs the emit and
            // the operation serialised. Every task gets the group's context itself.
            // The completion is bound to the same strand, so the context's emit reaches
            // the coroutine through it, never racing the coroutine's own completion.
            auto strand = task_executor();
            boost::asio::co_spawn(strand,
                [fn = std::decay_t<F>(static_cast<F&&>(fn)), ctx = ctx_]() mutable { return fn(ctx); },
                asioctx::bind(ctx_, boost::asio::bind_executor(strand, task_done{self, holds_slot})));
        }
        else
        {
            static_assert(std::is_void_v<result_type> ||
                    std::is_same_v<result_type, boost::system::error_code>,
                "a group task returns void or error_code (or an awaitable of them)");
            boost::asio::post(ex_, [self, holds_slot, fn = std::decay_t<F>(static_cast<F&&>(fn))]() mutable {
                try
                {
                    if constexpr(std::is_void_v<result_type>)
                    {
                        fn(self->ctx());
                        self->end_task(nullptr, {}, holds_slot);
                    }
                    else
                        self->end_task(nullptr, fn(self->ctx()), holds_slot);
                }
                catch(...)
                {
                    self->end_task(std::current_exception(), {}, holds_slot);
                }
            });
        }
    }
    catch(...)
    {
        // The task could not be started (its function threw before its first
        // suspension, or no memory): it failed.
        end_task(std::current_exception(), {}, holds_slot);
    }
}

} // namespace asioctx::detail

#endif
