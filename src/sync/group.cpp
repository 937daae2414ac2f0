//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#include <asioctx/asio/executor.hpp>
#include <asioctx/sync/group.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/system/system_error.hpp>

namespace asioctx {
namespace detail {

namespace {

// The group's context: a cancellable child of `parent` that carries `ex`, so tasks and
// the deadlines they derive need no executor argument.
context carrying(context const& parent, boost::asio::any_io_executor const& ex)
{
    if(!ex)
        ASIOCTX_THROW_NO_EXECUTOR();
    return detail::carrying_executor(parent, ex);
}

// Whether `ex` serialises what runs on it already: a strand, or an io_context run by one
// thread (decision 82). Asked once per group: the thread check looks up a service.
bool serialises(boost::asio::any_io_executor const& ex)
{
    using io_strand = boost::asio::strand<boost::asio::io_context::executor_type>;
    using any_strand = boost::asio::strand<boost::asio::any_io_executor>;
    return ex.target<io_strand>() || ex.target<any_strand>() || runs_on_one_thread(ex);
}

// A system_error thrown by a task is its error code; anything else stays an exception.
void classify(std::exception_ptr& ep, boost::system::error_code& ec) noexcept
{
    if(!ep)
        return;
    try
    {
        std::rethrow_exception(ep);
    }
    catch(boost::system::system_error const& e)
    {
        ec = e.code();
        ep = nullptr;
    }
    catch(...)
    {
    }
}

} // namespace

group_state::group_state(boost::asio::any_io_executor ex, context const& parent)
    : ex_(std::move(ex))
    , serialised_(serialises(ex_))
{
    auto c = with_cancel(carrying(parent, ex_));
    ctx_ = std::move(c.ctx);
    cancel_ = std::move(c.cancel);
}

group_state::~group_state() = default;

void group_waiter::shut_down(bool) noexcept
{
    group_->abandon_waiter(this);
}

void group_state::begin_task()
{
    active_.fetch_add(1, std::memory_order_relaxed);
}

boost::asio::any_io_executor group_state::task_executor() const
{
    if(serialised_)
        return ex_;
    // A strand of the io_context's own executor type fits in any_io_executor without an
    // allocation; a strand of an any_io_executor would not.
    if(auto io = ex_.target<boost::asio::io_context::executor_type>())
        return boost::asio::make_strand(*io);
    return boost::asio::make_strand(ex_);
}

std::size_t group_state::active() const noexcept
{
    return active_.load(std::memory_order_acquire);
}

void group_state::end_task(std::exception_ptr ep, boost::system::error_code ec, bool holds_slot) noexcept
{
    classify(ep, ec);
    // The slot goes back before the count drops, so that set_limit (which needs no task
    // running) can never replace the semaphore under this release.
    if(holds_slot && limit_)
        limit_->release(1);
    if((ep || ec) && !failed_.exchange(true, std::memory_order_acq_rel))
    {
        {
            std::lock_guard<std::mutex> g(mutex_);
            first_ec_ = ec;
            first_ep_ = ep;
        }
        // Siblings see the failure at once, with it as the cause.
        static constexpr auto loc = BOOST_CURRENT_LOCATION;
        cancel_(ep ? make_error_code(error::task_exception, &loc) : ec);
    }
    // The failure is recorded before the count drops: whoever sees zero sees it.
    if(active_.fetch_sub(1, std::memory_order_acq_rel) != 1)
        return;
    group_waiter* ready;
    {
        std::lock_guard<std::mutex> g(mutex_);
        ready = take_waiters_locked();
    }
    if(ready)
        finish(ready);
}

void group_state::drop_task(boost::system::error_code const& ec) noexcept
{
    // A task that waited for a slot and never started: it failed with the context's
    // error if the group ended (as it would have, had it run), and counts for nothing
    // if only its own spawn was cancelled.
    if(ctx_.done())
        end_task(nullptr, ec, false);
    else
        end_task(nullptr, {}, false);
}

// Every task has ended: the group's context is cancelled (Go's Wait does that even on
// success), then the waits complete with the first failure.
void group_state::finish(group_waiter* list) noexcept
{
    cancel_();
    std::exception_ptr ep;
    boost::system::error_code ec;
    {
        std::lock_guard<std::mutex> g(mutex_);
        ep = first_ep_;
        ec = first_ec_;
    }
    for(auto w = list; w;)
    {
        auto next = w->next_;
        w->next_ = nullptr;
        w->complete(ep, ec);
        w->release();
        w = next;
    }
}

// Unlists every waiter at once: afterwards abandon_waiter leaves them to this finish.
group_waiter* group_state::take_waiters_locked() noexcept
{
    auto list = std::exchange(waiters_, nullptr);
    for(auto w = list; w; w = w->next_)
        w->pprev_ = nullptr;
    return list;
}

void group_state::add_waiter(group_waiter* w) noexcept
{
    {
        std::lock_guard<std::mutex> g(mutex_);
        if(active_.load(std::memory_order_acquire) != 0)
        {
            w->next_ = waiters_;
            if(waiters_)
                waiters_->pprev_ = &w->next_;
            waiters_ = w;
            w->pprev_ = &waiters_;
            return;
        }
        w->next_ = nullptr;
    }
    finish(w);
}

void group_state::abandon_waiter(group_waiter* w) noexcept
{
    {
        std::lock_guard<std::mutex> g(mutex_);
        if(!w->pprev_)
            return; // being completed; that completion finds the executor gone
        *w->pprev_ = w->next_;
        if(w->next_)
            w->next_->pprev_ = w->pprev_;
        w->next_ = nullptr;
        w->pprev_ = nullptr;
    }
    w->abandon();
    w->release();
}

void group_state::set_limit(std::size_t n)
{
    std::lock_guard<std::mutex> g(mutex_);
    if(active_.load(std::memory_order_acquire) != 0)
    {
        static constexpr auto loc = BOOST_CURRENT_LOCATION;
        throw boost::system::system_error(make_error_code(error::group_busy, &loc));
    }
    if(n == group::no_limit)
        limit_.reset();
    else
        limit_ = std::make_unique<semaphore>(ex_, n);
}

} // namespace detail

group::group(context const& parent)
    : group(executor_of(parent) ? *executor_of(parent) : boost::asio::any_io_executor(), parent)
{
}

group::group(boost::asio::any_io_executor ex, context const& parent)
    : state_(std::make_shared<detail::group_state>(std::move(ex), parent))
{
}

group::~group()
{
    if(state_)
        state_->cancel();
}

void group::set_limit(std::size_t n)
{
    state_->set_limit(n);
}

std::size_t group::running() const noexcept
{
    return state_->active();
}

} // namespace asioctx
