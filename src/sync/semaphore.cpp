//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//
// The FIFO behind asioctx::semaphore and asioctx::mutex. A waiter is settled exactly
// once, by whoever unlinks it from the FIFO under the lock: a grant, its context, its
// cancellation slot, the owner's destruction or a shutdown. Handlers are completed
// after the lock is released, through their own executors.

#include <asioctx/sync/detail/semaphore_core.hpp>

#include <boost/asio/error.hpp>

#include <stdexcept>

namespace asioctx::detail {

sem_waiter::sem_waiter(std::shared_ptr<waiter_registry> registry, context const& ctx,
    semaphore_core* core, std::uint64_t n) noexcept
    : waiter(std::move(registry), access::node_of(ctx), access::state_of(ctx))
    , ctx_(ctx)
    , core_(core)
    , n_(n)
{
    core_->add_ref();
}

sem_waiter::~sem_waiter()
{
    core_->release_ref();
}

void sem_waiter::fire(boost::system::error_code const& err, boost::system::error_code const&) noexcept
{
    core_->cancel(this, err);
}

void sem_waiter::shut_down(bool) noexcept
{
    core_->abandon(this);
}

void sem_waiter::cancelled_by_slot() noexcept
{
    core_->cancel(this, boost::asio::error::operation_aborted);
}

semaphore_core::semaphore_core(std::uint64_t capacity)
    : capacity_(capacity)
    , word_(capacity << 1)
{
    if(capacity > max_capacity)
        throw std::length_error("asioctx::semaphore: capacity too large");
}

std::size_t semaphore_core::waiting() const noexcept
{
    std::lock_guard<std::mutex> g(mutex_);
    std::size_t n = 0;
    for(auto w = head_; w; w = w->next_)
        ++n;
    return n;
}

void semaphore_core::unlink(sem_waiter* w) noexcept
{
    if(w->prev_)
        w->prev_->next_ = w->next_;
    else
        head_ = w->next_;
    if(w->next_)
        w->next_->prev_ = w->prev_;
    else
        tail_ = w->prev_;
    w->prev_ = w->next_ = nullptr;
    w->queued_ = false;
    if(!head_)
        word_.fetch_and(~waiters_bit, std::memory_order_release);
}

// Grants from the head while the head's request fits. A head whose context is already
// done is passed over (completed with the context's error), so units never go to a
// waiter that would only give them back.
void semaphore_core::grant_locked(settled_list& out) noexcept
{
    while(auto w = head_)
    {
        if(auto ec = w->ctx_.err())
        {
            unlink(w);
            out.push(w, ec, false);
            continue;
        }
        if((word_.load(std::memory_order_relaxed) >> 1) < w->n_)
            return;
        // The waiters bit is set, so no lock-free path changes the word meanwhile.
        word_.fetch_sub(w->n_ << 1, std::memory_order_acquire);
        unlink(w);
        out.push(w, {}, true);
    }
}

void semaphore_core::settle(settled_list& list) noexcept
{
    for(auto w = list.head; w;)
    {
        auto next = w->settled_next_;
        if(w->state()->kind_ != node_kind::never)
            remove_registration(w->state(), w); // no-op when the context is the one firing
        w->complete(w->settled_ec_, w->settled_granted_);
        w->release(); // the FIFO's reference
        w = next;
    }
}

bool semaphore_core::release_slow(std::uint64_t n) noexcept
{
    settled_list settled;
    {
        std::lock_guard<std::mutex> g(mutex_);
        auto w = word_.load(std::memory_order_relaxed);
        for(;;)
        {
            if(n > capacity_ - (w >> 1))
                return false;
            if(word_.compare_exchange_weak(
                   w, w + (n << 1), std::memory_order_release, std::memory_order_relaxed))
                break;
        }
        grant_locked(settled);
    }
    settle(settled);
    return true;
}

bool semaphore_core::enqueue(sem_waiter* w) noexcept
{
    std::lock_guard<std::mutex> g(mutex_);
    auto word = word_.load(std::memory_order_relaxed);
    for(;;)
    {
        if(word & waiters_bit)
            break;
        if((word >> 1) >= w->n_)
        {
            if(word_.compare_exchange_weak(
                   word, word - (w->n_ << 1), std::memory_order_acquire, std::memory_order_relaxed))
                return true;
            continue;
        }
        if(word_.compare_exchange_weak(
               word, word | waiters_bit, std::memory_order_relaxed, std::memory_order_relaxed))
            break;
    }
    w->add_ref();
    w->queued_ = true;
    w->prev_ = tail_;
    w->next_ = nullptr;
    if(tail_)
        tail_->next_ = w;
    else
        head_ = w;
    tail_ = w;
    return false;
}

void semaphore_core::cancel(sem_waiter* w, boost::system::error_code const& ec) noexcept
{
    settled_list settled;
    {
        std::lock_guard<std::mutex> g(mutex_);
        if(!w->queued_)
            return; // granted or cancelled already
        bool const was_head = head_ == w;
        unlink(w);
        settled.push(w, ec, false);
        // A large request leaving the head may let the ones behind it through.
        if(was_head)
            grant_locked(settled);
    }
    settle(settled);
}

void semaphore_core::abandon(sem_waiter* w) noexcept
{
    settled_list settled;
    {
        std::lock_guard<std::mutex> g(mutex_);
        if(!w->queued_)
            return; // a completion is under way; it finds the execution context gone
        bool const was_head = head_ == w;
        unlink(w);
        if(was_head)
            grant_locked(settled);
    }
    w->abandon();
    w->release();
    settle(settled);
}

void semaphore_core::close() noexcept
{
    settled_list settled;
    {
        std::lock_guard<std::mutex> g(mutex_);
        while(auto w = head_)
        {
            unlink(w);
            settled.push(w, boost::asio::error::operation_aborted, false);
        }
    }
    settle(settled);
}

} // namespace asioctx::detail
