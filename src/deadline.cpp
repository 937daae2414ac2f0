//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#include <asioctx/deadline.hpp>
#include <asioctx/detail/deadline_queue.hpp>

#include <boost/asio/execution/context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/query.hpp>

namespace asioctx {
namespace detail {

namespace {
constexpr std::size_t not_queued = static_cast<std::size_t>(-1);
} // namespace

deadline_node::~deadline_node() = default;

boost::asio::execution_context::id deadline_service::id;

deadline_service::deadline_service(boost::asio::execution_context& ctx)
    : boost::asio::execution_context::service(ctx)
    , queue_(std::make_shared<deadline_queue>())
{
}

void deadline_service::shutdown()
{
    queue_->close();
}

std::shared_ptr<deadline_queue> const& queue_for(boost::asio::any_io_executor const& ex)
{
    auto& ctx = boost::asio::query(ex, boost::asio::execution::context);
    return boost::asio::use_service<deadline_service>(ctx).queue();
}

namespace {

// The queue of the execution context this thread derived its last deadline on: servers
// derive several deadlines per request with an explicit executor, and use_service locks
// the context's service registry and compares type names. A context destroyed and
// another made at its address leaves a closed queue here: an insertion into it fails,
// and the caller asks again with `fresh`.
std::shared_ptr<deadline_queue> const& recent_queue_for(boost::asio::any_io_executor const& ex, bool fresh)
{
    struct recent
    {
        boost::asio::execution_context* context = nullptr;
        std::shared_ptr<deadline_queue> queue;
    };
    thread_local recent last;
    auto& ctx = boost::asio::query(ex, boost::asio::execution::context);
    if(!fresh && &ctx == last.context)
        return last.queue;
    last.queue = boost::asio::use_service<deadline_service>(ctx).queue();
    last.context = &ctx;
    return last.queue;
}

} // namespace

void deadline_queue::place(std::size_t i, deadline_node* n) noexcept
{
    heap_[i] = n;
    n->heap_index_ = i;
}

void deadline_queue::sift_up(std::size_t i) noexcept
{
    auto n = heap_[i];
    while(i > 0)
    {
        auto parent = (i - 1) / 2;
        if(!(n->deadline_ < heap_[parent]->deadline_))
            break;
        place(i, heap_[parent]);
        i = parent;
    }
    place(i, n);
}

void deadline_queue::sift_down(std::size_t i) noexcept
{
    auto n = heap_[i];
    auto const size = heap_.size();
    for(;;)
    {
        auto child = 2 * i + 1;
        if(child >= size)
            break;
        if(child + 1 < size && heap_[child + 1]->deadline_ < heap_[child]->deadline_)
            ++child;
        if(!(heap_[child]->deadline_ < n->deadline_))
            break;
        place(i, heap_[child]);
        i = child;
    }
    place(i, n);
}

void deadline_queue::heap_erase(std::size_t i) noexcept
{
    heap_[i]->heap_index_ = not_queued;
    auto last = heap_.back();
    heap_.pop_back();
    if(i == heap_.size())
        return;
    place(i, last);
    sift_down(i);
    sift_up(last->heap_index_);
}

bool deadline_queue::insert(deadline_node* n, boost::asio::any_io_executor const& ex)
{
    std::lock_guard<std::mutex> g(mutex_);
    if(closed_)
        return false;
    if(!timer_)
        timer_.emplace(ex);
    heap_.push_back(n);
    ++inserts_;
    n->heap_index_ = heap_.size() - 1;
    sift_up(n->heap_index_);
    if(n->deadline_ < armed_at_)
        arm(n->deadline_);
    return true;
}

void deadline_queue::remove(deadline_node* n) noexcept
{
    std::lock_guard<std::mutex> g(mutex_);
    if(n->heap_index_ == not_queued)
        return;
    heap_erase(n->heap_index_);
    if(heap_.empty() && armed_at_ != steady_time::max() && !disarm_posted_)
        post_disarm_check();
}

void deadline_queue::disarm() noexcept
{
    ++generation_;
    armed_at_ = steady_time::max();
    timer_->cancel();
}

// Nothing left to wait for: let the execution context run out of work, but only once a
// posted check has seen no deadline derived since the previous one. A deadline per
// request would otherwise cost a cancel and a re-arm of the timer each time the queue
// empties between requests; this way it finds the timer still armed (for an earlier
// time: the timer fires, finds nothing due and re-arms for the earliest).
void deadline_queue::post_disarm_check() noexcept
{
    try
    {
        boost::asio::post(timer_->get_executor(), [self = shared_from_this()] { self->disarm_if_idle(); });
        disarm_posted_ = true;
        inserts_at_check_ = inserts_;
    }
    catch(...)
    {
        quiet_checks_ = 0;
        disarm(); // no memory for the check: disarm now
    }
}

void deadline_queue::disarm_if_idle() noexcept
{
    std::lock_guard<std::mutex> g(mutex_);
    disarm_posted_ = false;
    if(closed_ || !heap_.empty() || armed_at_ == steady_time::max())
        return;
    // Two checks in a row that saw no new deadline: the queue is idle. (One is not enough:
    // a request handled in one go derives and ends its deadline between two checks.)
    quiet_checks_ = inserts_ == inserts_at_check_ ? quiet_checks_ + 1 : 0;
    if(quiet_checks_ < 2)
    {
        post_disarm_check(); // still in use: look again later
        return;
    }
    quiet_checks_ = 0;
    disarm();
}

void deadline_queue::close() noexcept
{
    {
        std::lock_guard<std::mutex> g(mutex_);
        closed_ = true;
        for(auto n : heap_)
            n->heap_index_ = not_queued;
        heap_.clear();
        ++generation_;
        armed_at_ = steady_time::max();
        timer_.reset();
    }
    // Registrations that would post here: unlist them from their nodes, then shut them
    // down outside every lock (that destroys user handlers).
    struct stopped
    {
        executor_registration* r;
        bool unlisted;
    };
    std::vector<stopped> to_shut_down;
    {
        std::lock_guard<std::mutex> g(tracked_mutex_);
        tracked_closed_ = true;
        while(auto r = tracked_)
        {
            unlink_tracked(r);
            r->add_ref();
            to_shut_down.push_back({r, unlist_registration(r->state(), r)});
        }
    }
    for(auto& s : to_shut_down)
    {
        s.r->shut_down(s.unlisted);
        // Ours, and the node list's if we took it out of its node.
        s.r->release(s.unlisted ? 2 : 1);
    }
}

void deadline_queue::unlink_tracked(executor_registration* r) noexcept
{
    *r->svc_pprev_ = r->svc_next_;
    if(r->svc_next_)
        r->svc_next_->svc_pprev_ = r->svc_pprev_;
    r->svc_next_ = nullptr;
    r->svc_pprev_ = nullptr;
}

std::size_t deadline_queue::tracked() const
{
    std::lock_guard<std::mutex> g(tracked_mutex_);
    std::size_t n = 0;
    for(auto r = tracked_; r; r = r->svc_next_)
        ++n;
    return n;
}

bool track(executor_registration* r) noexcept
{
    auto& q = r->owner();
    std::lock_guard<std::mutex> g(q.tracked_mutex_);
    if(q.tracked_closed_)
        return false;
    r->svc_next_ = q.tracked_;
    if(q.tracked_)
        q.tracked_->svc_pprev_ = &r->svc_next_;
    q.tracked_ = r;
    r->svc_pprev_ = &q.tracked_;
    return true;
}

std::mutex* claim_for_post(executor_registration* r) noexcept
{
    auto& q = r->owner();
    q.tracked_mutex_.lock();
    if(!r->svc_pprev_)
    {
        q.tracked_mutex_.unlock();
        return nullptr;
    }
    q.unlink_tracked(r);
    return &q.tracked_mutex_;
}

void untrack(executor_registration* r) noexcept
{
    auto& q = r->owner();
    std::lock_guard<std::mutex> g(q.tracked_mutex_);
    if(r->svc_pprev_)
        q.unlink_tracked(r);
}

std::shared_ptr<deadline_queue> owner_for(boost::asio::any_io_executor const& ex, context const& ctx)
{
    if(auto t = ctx.value(executor_key); t && t->executor == ex)
        return t->queue;
    return queue_for(ex);
}

std::size_t deadline_queue::size() const
{
    std::lock_guard<std::mutex> g(mutex_);
    return heap_.size();
}

bool deadline_queue::armed() const
{
    std::lock_guard<std::mutex> g(mutex_);
    return armed_at_ != steady_time::max();
}

void deadline_queue::arm(steady_time when)
{
    // Re-arming cancels the previous wait; its handler sees an old generation.
    timer_->expires_at(when);
    armed_at_ = when;
    auto const generation = ++generation_;
    timer_->async_wait(
        [self = shared_from_this(), generation](boost::system::error_code const& ec)
        { self->on_timer(generation, ec); });
}

void deadline_queue::on_timer(std::uint64_t generation, boost::system::error_code const& ec)
{
    deadline_node* expired = nullptr;
    {
        std::lock_guard<std::mutex> g(mutex_);
        if(closed_ || generation != generation_)
            return; // superseded by a newer wait, or disarmed
        armed_at_ = steady_time::max();
        (void)ec; // whatever ended the wait, expire what is due and re-arm for the rest
        auto const now = std::chrono::steady_clock::now();
        while(!heap_.empty() && heap_.front()->deadline_ <= now)
        {
            auto n = heap_.front();
            heap_erase(0);
            // Still queued means still owned: by its cancel handle, by the cancel walk
            // that will take it out, or by the derivation putting it in.
            n->add_ref();
            n->expired_next_ = expired;
            expired = n;
        }
        if(!heap_.empty())
            arm(heap_.front()->deadline_);
    }
    // Outside the queue's lock: cancelling takes node locks (whose holders may be
    // waiting for this queue) and fires registrations.
    while(expired)
    {
        auto n = expired;
        expired = n->expired_next_;
        n->expired_next_ = nullptr;
        cancel(n, state_deadline, n->deadline_cause_, true);
        release(n);
    }
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
    std::shared_ptr<deadline_queue> const* queue = nullptr;
    if(!ex)
    {
        if(auto t = parent.value(executor_key))
        {
            ex = &t->executor;
            queue = &t->queue;
        }
    }
    if(!ex || !*ex)
        ASIOCTX_THROW_NO_EXECUTOR();
    if(effective_deadline(detail::access::node_of(parent)) <= deadline)
        return derive_cancel(parent ASIOCTX_SITE_ARG(site)); // the parent's deadline comes first: no timer
    auto p = detail::access::node_of(parent);
    auto n = new deadline_node(p, deadline);
    note_derived(n ASIOCTX_SITE_ARG(site));
    add_ref(p);
    n->refs_.store(2, std::memory_order_relaxed); // the context and the handle
    n->deadline_cause_ = cause;
    cancellable result{detail::access::adopt(n, n), detail::access::make_cancel_handle(n)};
    if(!link_child(detail::access::state_of(parent), n))
        return result; // born done with the parent's error
    if(deadline <= now)
    {
        cancel(n, state_deadline, cause, true);
        return result;
    }
    bool recent = !queue;
    if(recent)
        queue = &recent_queue_for(*ex, false);
    bool queued = false;
    for(;;)
    {
        // Under the node's lock only the choice of queue: a cancel from here on takes the
        // node out of this queue. The insertion (the queue's mutex, perhaps arming its
        // timer) comes after the unlock.
        lock(n);
        bool const live = n->state_.load(std::memory_order_relaxed) == state_live;
        if(live)
            n->queue_ = *queue;
        unlock(n);
        if(!live)
            break;
        queued = (*queue)->insert(n, *ex);
        if(queued)
        {
            // A cancel between the unlock and the insertion found nothing to remove. Its
            // state store came before its removal took the queue's mutex, which came
            // before the insertion took it: this load sees it.
            if(n->state_.load(std::memory_order_acquire) != state_live)
                (*queue)->remove(n);
            break;
        }
        if(!recent)
            break;
        // Perhaps the queue of a context since destroyed: ask the registry, once.
        recent = false;
        queue = &recent_queue_for(*ex, true);
    }
    if(!queued && n->state_.load(std::memory_order_acquire) == state_live)
        ASIOCTX_THROW_NO_EXECUTOR(); // the executor's context has shut down: it would never fire
    return result;
}

boost::asio::any_io_executor const* tree_executor_of(context const& ctx) noexcept
{
    return executor_of(ctx);
}

context derive_executor(context const& parent, boost::asio::any_io_executor ex ASIOCTX_SITE_PARAM)
{
    if(!ex)
        ASIOCTX_THROW_NO_EXECUTOR();
    auto queue = queue_for(ex);
    return with_value(parent, executor_key, tree_executor{std::move(ex), std::move(queue)}
        ASIOCTX_SITE_ARG(site));
}

} // namespace detail

} // namespace asioctx
