//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#include <asioctx/asio/detail/context_service.hpp>
#include <asioctx/asio/detail/waiter.hpp>

#include <boost/asio/execution/blocking.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/require.hpp>
#include <boost/asio/query.hpp>

namespace asioctx::detail {

namespace {
constexpr std::size_t not_queued = static_cast<std::size_t>(-1);
} // namespace

boost::asio::execution_context::id context_service::id;

context_service::context_service(boost::asio::execution_context& ctx)
    : boost::asio::execution_context::service(ctx)
    , deadlines_(std::make_shared<deadline_heap>())
    , waiters_(std::make_shared<waiter_registry>())
{
}

void context_service::shutdown()
{
    deadlines_->close();
    waiters_->close();
}

context_service& service_for(boost::asio::any_io_executor const& ex)
{
    auto& ctx = boost::asio::query(ex, boost::asio::execution::context);
    return boost::asio::use_service<context_service>(ctx);
}

void deadline_heap::place(std::size_t i, deadline_node* n) noexcept
{
    heap_[i] = n;
    n->heap_index_ = i;
}

void deadline_heap::sift_up(std::size_t i) noexcept
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

void deadline_heap::sift_down(std::size_t i) noexcept
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

void deadline_heap::heap_erase(std::size_t i) noexcept
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

bool deadline_heap::insert(deadline_node* n, boost::asio::any_io_executor const& ex)
{
    std::lock_guard<std::mutex> g(mutex_);
    if(closed_)
        return false;
    if(!timer_)
    {
        timer_.emplace(ex);
        post_to_ = boost::asio::require(timer_->get_executor(), boost::asio::execution::blocking.never);
    }
    heap_.push_back(n);
    ++inserts_;
    n->heap_index_ = heap_.size() - 1;
    sift_up(n->heap_index_);
    if(n->deadline_ < armed_at_ && !arm_posted_)
        post_arm();
    return true;
}

// The timer is armed from a posted handler, not by the insertion: a deadline cancelled
// before that handler runs (a request's timeout, most of them) never reaches the
// kernel, and many insertions in one turn of the io_context arm it once. The timer's
// expiry is absolute, so arming a little later does not make it fire later.
void deadline_heap::post_arm()
{
    try
    {
        post_to_.execute([self = shared_from_this()] { self->arm_if_needed(); });
        arm_posted_ = true;
    }
    catch(...)
    {
        arm(heap_.front()->deadline_); // no memory for the handler: arm now (or throw)
    }
}

// Out of memory while arming, the exception leaves through the io_context's run(), as
// from any handler; the next insertion posts the arming again.
void deadline_heap::arm_if_needed()
{
    std::lock_guard<std::mutex> g(mutex_);
    arm_posted_ = false;
    if(closed_ || heap_.empty())
        return;
    if(heap_.front()->deadline_ < armed_at_)
        arm(heap_.front()->deadline_);
}

void deadline_heap::remove(deadline_node* n) noexcept
{
    std::lock_guard<std::mutex> g(mutex_);
    if(n->heap_index_ == not_queued)
        return;
    heap_erase(n->heap_index_);
    if(heap_.empty() && armed_at_ != steady_time::max() && !disarm_posted_)
        post_disarm_check();
}

void deadline_heap::disarm() noexcept
{
    ++generation_;
    armed_at_ = steady_time::max();
    timer_->cancel();
}

// Nothing left to wait for: let the execution context run out of work, but only once a
// posted check has seen no deadline derived since the previous one. A deadline per
// request would otherwise cost a cancel and a re-arm of the timer each time the heap
// empties between requests; this way it finds the timer still armed (for an earlier
// time: the timer fires, finds nothing due and re-arms for the earliest).
void deadline_heap::post_disarm_check() noexcept
{
    try
    {
        post_to_.execute([self = shared_from_this()] { self->disarm_if_idle(); });
        disarm_posted_ = true;
        inserts_at_check_ = inserts_;
    }
    catch(...)
    {
        quiet_checks_ = 0;
        disarm(); // no memory for the check: disarm now
    }
}

void deadline_heap::disarm_if_idle() noexcept
{
    std::lock_guard<std::mutex> g(mutex_);
    disarm_posted_ = false;
    if(closed_ || !heap_.empty() || armed_at_ == steady_time::max())
        return;
    // Two checks in a row that saw no new deadline: the heap is idle. (One is not enough:
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

void deadline_heap::close() noexcept
{
    std::lock_guard<std::mutex> g(mutex_);
    closed_ = true;
    for(auto n : heap_)
        n->heap_index_ = not_queued;
    heap_.clear();
    ++generation_;
    armed_at_ = steady_time::max();
    timer_.reset();
    post_to_ = {};
}

std::size_t deadline_heap::size() const
{
    std::lock_guard<std::mutex> g(mutex_);
    return heap_.size();
}

bool deadline_heap::armed() const
{
    std::lock_guard<std::mutex> g(mutex_);
    return armed_at_ != steady_time::max();
}

void deadline_heap::arm(steady_time when)
{
    // Re-arming cancels the previous wait; its handler sees an old generation.
    timer_->expires_at(when);
    armed_at_ = when;
    auto const generation = ++generation_;
    timer_->async_wait(
        [self = shared_from_this(), generation](boost::system::error_code const& ec)
        { self->on_timer(generation, ec); });
}

void deadline_heap::on_timer(std::uint64_t generation, boost::system::error_code const& ec)
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
    // Outside the heap's lock: cancelling takes node locks (whose holders may be
    // waiting for this heap) and fires registrations.
    while(expired)
    {
        auto n = expired;
        expired = n->expired_next_;
        n->expired_next_ = nullptr;
        cancel(n, state_deadline, n->deadline_cause_, true, how_deadline, n->set_at_);
        release(n);
    }
}

void waiter_registry::close() noexcept
{
    // Unlist every waiter from its node, then shut them down outside every lock (that
    // destroys user handlers).
    struct stopped
    {
        waiter* w;
        bool unlisted;
    };
    std::vector<stopped> to_shut_down;
    {
        std::lock_guard<std::mutex> g(mutex_);
        closed_ = true;
        while(auto w = head_)
        {
            unlink(w);
            w->add_ref();
            to_shut_down.push_back({w, unlist_registration(w->state(), w)});
        }
    }
    for(auto& s : to_shut_down)
    {
        s.w->shut_down(s.unlisted);
        // Ours, and the node list's if we took it out of its node.
        s.w->release(s.unlisted ? 2 : 1);
    }
}

void waiter_registry::unlink(waiter* w) noexcept
{
    *w->tracked_pprev_ = w->tracked_next_;
    if(w->tracked_next_)
        w->tracked_next_->tracked_pprev_ = w->tracked_pprev_;
    w->tracked_next_ = nullptr;
    w->tracked_pprev_ = nullptr;
}

std::size_t waiter_registry::size() const
{
    std::lock_guard<std::mutex> g(mutex_);
    std::size_t n = 0;
    for(auto w = head_; w; w = w->tracked_next_)
        ++n;
    return n;
}

bool waiter_registry::track(waiter* w) noexcept
{
    std::lock_guard<std::mutex> g(mutex_);
    if(closed_)
        return false;
    w->tracked_next_ = head_;
    if(head_)
        head_->tracked_pprev_ = &w->tracked_next_;
    head_ = w;
    w->tracked_pprev_ = &head_;
    return true;
}

std::mutex* waiter_registry::claim_for_post(waiter* w) noexcept
{
    mutex_.lock();
    if(!w->tracked_pprev_)
    {
        mutex_.unlock();
        return nullptr;
    }
    unlink(w);
    // Held by the caller across its post: the shutdown (close) takes this lock, so it
    // cannot start between the claim and the post.
    return &mutex_;
}

void waiter_registry::untrack(waiter* w) noexcept
{
    std::lock_guard<std::mutex> g(mutex_);
    if(w->tracked_pprev_)
        unlink(w);
}

} // namespace asioctx::detail
