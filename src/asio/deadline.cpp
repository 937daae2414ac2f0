//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#include <asioctx/asio/deadline.hpp>
#include <asioctx/asio/detail/context_service.hpp>
#include <asioctx/asio/detail/waiter.hpp>

#include <boost/asio/detail/concurrency_hint.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/query.hpp>

namespace asioctx {
namespace detail {

namespace {

// The deadline heap of the execution context this thread derived its last deadline on:
// servers derive several deadlines per request with an explicit executor, and
// use_service locks the context's service registry and compares type names. A context
// destroyed and another made at its address leaves a closed heap here: an insertion into
// it fails, and the caller asks again with `fresh`.
std::shared_ptr<deadline_heap> const& recent_heap_for(boost::asio::any_io_executor const& ex, bool fresh)
{
    struct recent
    {
        boost::asio::execution_context* context = nullptr;
        std::shared_ptr<deadline_heap> heap;
    };
    thread_local recent last;
    auto& ctx = boost::asio::query(ex, boost::asio::execution::context);
    if(!fresh && &ctx == last.context)
        return last.heap;
    last.heap = boost::asio::use_service<context_service>(ctx).deadlines();
    last.context = &ctx;
    return last.heap;
}

} // namespace

std::shared_ptr<waiter_registry> registry_for(boost::asio::any_io_executor const& ex, context const& ctx)
{
    if(auto t = ctx.value(executor_key); t && t->executor == ex)
        return t->waiters;
    return service_for(ex).waiters();
}

steady_time steady_from_system(std::chrono::system_clock::time_point t, steady_time steady_now) noexcept
{
    using sd = std::chrono::steady_clock::duration;
    auto const sys_now = std::chrono::system_clock::now();
    if(t <= sys_now)
        return steady_now - std::chrono::ceil<sd>(sys_now - t);
    return add_saturated(steady_now, std::chrono::ceil<sd>(t - sys_now));
}

cancellable derive_deadline(boost::asio::any_io_executor const* ex, context const& parent,
    steady_time deadline, steady_time now, boost::system::error_code const& cause ASIOCTX_SITE_PARAM)
{
    std::shared_ptr<deadline_heap> const* heap = nullptr;
    if(!ex)
    {
        if(auto t = parent.value(executor_key))
        {
            ex = &t->executor;
            heap = &t->deadlines;
        }
    }
    if(!ex || !*ex)
        ASIOCTX_THROW_NO_EXECUTOR();
    if(effective_deadline(detail::access::node_of(parent)) <= deadline)
        return derive_cancel(parent ASIOCTX_SITE_ARG(site)); // the parent's deadline comes first: no timer
    auto p = detail::access::node_of(parent);
    auto n = new deadline_node(p, deadline, site);
    note_derived(n ASIOCTX_SITE_ARG(site));
    add_ref(p);
    n->refs_.store(2, std::memory_order_relaxed); // the context and the handle
    n->deadline_cause_ = cause;
    cancellable result{detail::access::adopt(n, n), detail::access::make_cancel_handle(n)};
    if(!link_child(detail::access::state_of(parent), n))
        return result; // born done with the parent's error
    if(deadline <= now)
    {
        cancel(n, state_deadline, cause, true, how_deadline, site);
        return result;
    }
    bool recent = !heap;
    if(recent)
        heap = &recent_heap_for(*ex, false);
    bool queued = false;
    for(;;)
    {
        // Under the node's lock only the choice of heap: a cancel from here on takes the
        // node out of this heap. The insertion (the heap's mutex, perhaps arming its
        // timer) comes after the unlock.
        lock(n);
        bool const live = n->state_.load(std::memory_order_relaxed) == state_live;
        if(live)
            n->keeper_ = *heap;
        unlock(n);
        if(!live)
            break;
        queued = (*heap)->insert(n, *ex);
        if(queued)
        {
            // A cancel between the unlock and the insertion found nothing to remove. Its
            // state store came before its removal took the heap's mutex, which came
            // before the insertion took it: this load sees it.
            if(n->state_.load(std::memory_order_acquire) != state_live)
                (*heap)->remove(n);
            break;
        }
        if(!recent)
            break;
        // Perhaps the heap of a context since destroyed: ask the service, once.
        recent = false;
        heap = &recent_heap_for(*ex, true);
    }
    if(!queued && n->state_.load(std::memory_order_acquire) == state_live)
        ASIOCTX_THROW_NO_EXECUTOR(); // the executor's context has shut down: it would never fire
    return result;
}

context derive_executor(context const& parent, boost::asio::any_io_executor ex ASIOCTX_SITE_PARAM)
{
    if(!ex)
        ASIOCTX_THROW_NO_EXECUTOR();
    auto& service = service_for(ex);
    return with_value(parent, executor_key, tree_executor{std::move(ex), service.deadlines(), service.waiters()}
        ASIOCTX_SITE_ARG(site));
}

bool runs_on_one_thread(boost::asio::any_io_executor const& ex) noexcept
{
#if defined(BOOST_ASIO_HAS_IOCP)
    (void)ex;
    return false;
#else
    auto const* io = ex.target<boost::asio::io_context::executor_type>();
    if(!io)
        return false;
    // The scheduler reads the hint the same way to take its single-thread paths.
    int const hint = boost::asio::use_service<boost::asio::detail::scheduler>(io->context()).concurrency_hint();
    return hint == 1 || !BOOST_ASIO_CONCURRENCY_HINT_IS_LOCKING(SCHEDULER, hint);
#endif
}

} // namespace detail

} // namespace asioctx
