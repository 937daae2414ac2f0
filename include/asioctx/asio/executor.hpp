//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_ASIO_EXECUTOR_HPP
#define ASIOCTX_ASIO_EXECUTOR_HPP

#include <asioctx/core/context.hpp>
#include <asioctx/core/value.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <memory>

namespace asioctx {

namespace detail {
class deadline_heap;
class waiter_registry;

// What with_executor stores: the executor, and the two parts of its execution context's
// service looked up once, so deriving a deadline or starting a wait below it needs no
// service lookup.
struct tree_executor
{
    boost::asio::any_io_executor executor;
    std::shared_ptr<deadline_heap> deadlines;
    std::shared_ptr<waiter_registry> waiters;
};

inline constexpr key<tree_executor> executor_key{"asioctx.executor"};

[[nodiscard]] ASIOCTX_DECL context derive_executor(
    context const& parent, boost::asio::any_io_executor ex ASIOCTX_SITE_PARAM);

// True when `ex` is the executor of an io_context built for one thread: concurrency hint
// 1 (or an unsafe hint), which Asio documents as "the io_context will be run from a
// single thread". What runs on such an executor is serialised without a strand.
ASIOCTX_DECL bool runs_on_one_thread(boost::asio::any_io_executor const& ex) noexcept;
} // namespace detail

/** Derives a context that carries `ex` as the executor for what the tree schedules:
    the timers of deadlines derived below it and the calls of `after_func`.

    Every descendant inherits it, like any value; a nearer `with_executor` overrides
    it. Functions that take an explicit executor ignore it. Allocates once.

    @throws boost::system::system_error with `error::no_executor` if `ex` is empty.
*/
[[nodiscard]] inline context with_executor(context const& parent, boost::asio::any_io_executor ex,
    [[maybe_unused]] source_location const& site = source_location::current())
{
    return detail::derive_executor(parent, std::move(ex) ASIOCTX_SITE_ARG(site));
}

/// The executor carried by `ctx` (see `with_executor`), or nullptr when none.
inline boost::asio::any_io_executor const* executor_of(context const& ctx) noexcept
{
    auto t = ctx.value(detail::executor_key);
    return t ? &t->executor : nullptr;
}

namespace detail {
// `parent` itself when it already carries `ex`, otherwise `with_executor(parent, ex)`:
// what a server, a group or a coroutine that runs on `ex` hands to the work it starts.
[[nodiscard]] inline context carrying_executor(context const& parent, boost::asio::any_io_executor const& ex,
    source_location const& site = source_location::current())
{
    auto const carried = executor_of(parent);
    return carried && *carried == ex ? parent : with_executor(parent, ex, site);
}
} // namespace detail

} // namespace asioctx

#endif
