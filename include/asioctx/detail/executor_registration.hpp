//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_DETAIL_EXECUTOR_REGISTRATION_HPP
#define ASIOCTX_DETAIL_EXECUTOR_REGISTRATION_HPP

#include <asioctx/detail/config.hpp>
#include <asioctx/detail/node.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <memory>
#include <mutex>

namespace asioctx {
class context;
} // namespace asioctx

namespace asioctx::detail {

class deadline_queue;
class executor_registration;

ASIOCTX_DECL std::shared_ptr<deadline_queue> const& queue_for(boost::asio::any_io_executor const& ex);

// Starts tracking `r` with its execution context; false if that context has shut down.
ASIOCTX_DECL bool track(executor_registration* r) noexcept;

// If `r` is still tracked, stops tracking it and returns the execution context's lock,
// held: the caller posts, then unlocks. Returns nullptr if the execution context shut
// down (or `r` was already claimed): the caller must not touch the executor.
ASIOCTX_DECL std::mutex* claim_for_post(executor_registration* r) noexcept;

// Stops tracking `r` (after a stop()).
ASIOCTX_DECL void untrack(executor_registration* r) noexcept;

// A registration that posts to an executor (after_func, async_wait). Asio does not know
// about it, so the execution context's service keeps a list of them: at shutdown each is
// unlisted from its node and abandoned (its handler destroyed, uncalled), and a later
// cancel of the context finds nothing to post to a dead executor.
class executor_registration : public registration
{
public:
    // `node` (may be null for background) is kept alive while the registration lives,
    // so that shutdown can unlist it from `state` whatever happened to the contexts.
    executor_registration(std::shared_ptr<deadline_queue> owner, node* n, cancel_node* state) noexcept
        : owner_(std::move(owner))
        , node_(n)
        , state_(state)
    {
        detail::add_ref(node_);
    }

    ~executor_registration() override
    {
        if(node_)
            detail::release(node_);
    }

    // Called once at shutdown, outside every lock, after the registration stopped being
    // tracked. `unlisted` tells whether shutdown took it out of its node (so nothing
    // else will ever complete it); otherwise a completion is under way, and that
    // completion finds claim_for_post empty-handed and cleans up itself.
    virtual void shut_down(bool unlisted) noexcept = 0;

    cancel_node* state() const noexcept
    {
        return state_;
    }

    deadline_queue& owner() const noexcept
    {
        return *owner_;
    }

    executor_registration* svc_next_ = nullptr;
    executor_registration** svc_pprev_ = nullptr; // non-null while tracked

private:
    std::shared_ptr<deadline_queue> owner_;
    node* node_;
    cancel_node* state_;
};

// The deadline queue (and registration list) for `ex`: the tree's if `ctx` carries `ex`,
// otherwise looked up.
ASIOCTX_DECL std::shared_ptr<deadline_queue> owner_for(
    boost::asio::any_io_executor const& ex, context const& ctx);

} // namespace asioctx::detail

#endif
