//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_SYNC_GROUP_HPP
#define ASIOCTX_SYNC_GROUP_HPP

#include <asioctx/core/context.hpp>
#include <asioctx/detail/config.hpp>
#include <asioctx/sync/detail/group_state.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <cstddef>
#include <limits>
#include <memory>

namespace asioctx {

/** A group of tasks sharing one context: Go's errgroup, structured.

    The group owns a context derived from its parent (`get_context()`), cancellable, and
    carrying the group's executor. `spawn(fn)` starts a task `fn(ctx)` that receives
    that context and returns `asio::awaitable<void>` or `asio::awaitable<error_code>`
    (run as a coroutine through `asioctx::co_spawn`, so whatever it awaits is also
    cancelled with the group), or `void` / `error_code` (a plain function, posted).

    The first task that fails (returns an error, throws) cancels the group's context,
    with its error as the cause (`cause(ctx)`; `error::task_exception` for an exception
    that is not a `system_error`): siblings see it at once. `async_wait` completes when
    every task has ended, with that first failure. A task that throws
    `boost::system::system_error` fails with its code; any other exception is
    captured and handed to the waiter, never lost, never terminating the process.
    Waiting cancels the group's context even on success, as Go's `Wait` does.

    Lifetime: no task is ever left dangling. Destroying the group cancels its context;
    the tasks still running end through that cancellation and keep the group's shared
    state alive until the last of them has returned, so nothing they touch is freed
    under them. (The destructor does not join: blocking a thread that may be the only
    one running the tasks would deadlock.) Pending `async_wait`s still complete when
    the last task ends.

    Thread safety: `spawn`, `try_spawn`, `async_spawn`, `async_wait` and `running` may
    be called from any thread at once; `set_limit` only while no task runs.
*/
class group
{
public:
    using executor_type = boost::asio::any_io_executor;

    /// `set_limit(no_limit)` removes the limit.
    static constexpr std::size_t no_limit = (std::numeric_limits<std::size_t>::max)();

    /** A group whose context is derived from `parent` and whose tasks run on the
        executor `parent` carries (`with_executor`).
        @throws boost::system::system_error with `error::no_executor` if it carries none.
    */
    ASIOCTX_DECL explicit group(context const& parent);

    /// A group whose context is derived from `parent` and whose tasks run on `ex`.
    ASIOCTX_DECL group(executor_type ex, context const& parent);

    /// Cancels the group's context; running tasks end through it (see the class notes).
    ASIOCTX_DECL ~group();

    group(group&&) noexcept = default;
    group(group const&) = delete;
    group& operator=(group const&) = delete;

    /// The context every task receives (Go's `errgroup.WithContext`'s context).
    context const& get_context() const noexcept
    {
        return state_->ctx();
    }

    executor_type const& get_executor() const noexcept
    {
        return state_->executor();
    }

    /** At most `n` tasks run at once (Go's `SetLimit`); `no_limit` removes the limit.
        @throws boost::system::system_error with `error::group_busy` if a task is running
        or waiting for a slot.
    */
    ASIOCTX_DECL void set_limit(std::size_t n);

    /** Starts `fn(get_context())` (Go's `Go`). Under a limit with no free slot, the task
        is queued (first come, first served) and starts when a slot frees; if the
        group's context ends first, it never starts. Either way it counts for
        `async_wait` from this call on. Never runs `fn` inside this call.
    */
    template<class F>
    void spawn(F&& fn);

    /** Starts `fn(get_context())` if a slot is free (or there is no limit) and says so;
        never queues (Go's `TryGo`).
    */
    template<class F>
    bool try_spawn(F&& fn);

    /** Spawns `fn`, waiting asynchronously for a free slot when the group has a limit:
        a producer's back-pressure.

        Completes with success once the task has started, or with the group's context's
        error if that context ends first (the task then never starts). Never completes
        inside this call. Per-operation cancellation: terminal, partial and total while
        it waits for a slot: the task is not started and the operation completes with
        `asio::error::operation_aborted`; the group is unaffected.

        Signature: `void(boost::system::error_code)`.
    */
    template<class F, class SpawnToken>
    auto async_spawn(F&& fn, SpawnToken&& token);

    /** Waits until every task has ended (Go's `Wait`), then cancels the group's context.

        Completes with the first failure: `(nullptr, ec)` for an error code (including a
        thrown `system_error`), `(exception, {})` for any other exception,
        `(nullptr, {})` when every task succeeded. With `asio::use_awaitable` that
        means: the exception is rethrown, the error code is returned. Completes at once
        (posted, never inline) if no task is running. Several waits may be pending. A
        pending wait is outstanding work of its handler's executor, so that executor's
        `run()` does not return before it completes; if its execution context shuts down
        first, the wait is abandoned (its handler destroyed without being called).

        Per-operation cancellation: terminal, partial and total all cancel the group's
        context (cause `asio::error::operation_aborted`); the wait still completes
        only once every task has ended, so no task outlives it.

        Signature: `void(std::exception_ptr, boost::system::error_code)`.
    */
    template<class WaitToken>
    auto async_wait(WaitToken&& token);

    /// Tasks spawned and not yet ended (including those queued for a slot).
    ASIOCTX_DECL std::size_t running() const noexcept;

private:
    std::shared_ptr<detail::group_state> state_;
};

} // namespace asioctx

#include <asioctx/sync/impl/group.hpp>

#endif
