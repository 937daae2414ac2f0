//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//
// Merged contexts. A merge node is an ordinary cancel node under its first parent; each
// further parent holds one of its links (owned registrations, detail/node.hpp), which
// cancels the node with that parent's error, cause and site. The links live in the
// node's own block and leave their parents, waiting out a fire in progress, before the
// block is freed (destroy_merge in context.cpp): a link never outlives its node.

#include <asioctx/core/merge.hpp>

#include <algorithm>
#include <new>
#include <vector>

namespace asioctx {
namespace detail {

void merge_link::fire(boost::system::error_code const& err, boost::system::error_code const& cause) noexcept
{
    // `listen_` is done: its walk wrote how and site before releasing its state, on this
    // thread. The merged node is alive: its destruction withdraws this link first.
    cancel(merged_, static_cast<std::uint8_t>(err.value()), cause, true,
        static_cast<std::uint8_t>(listen_->cancel_how_ | how_inherited), listen_->cancel_site_);
}

cancellable derive_merge_of(std::span<context const> parents ASIOCTX_SITE_PARAM)
{
    std::vector<context const*> pointers;
    pointers.reserve(parents.size());
    for(auto const& p : parents)
        pointers.push_back(&p);
    return derive_merge(pointers.data(), pointers.size() ASIOCTX_SITE_ARG(site));
}

cancellable derive_merge(context const* const* parents, std::size_t count ASIOCTX_SITE_PARAM)
{
    if(count == 0)
        return derive_cancel(background() ASIOCTX_SITE_ARG(site));
    auto const first = access::node_of(*parents[0]);
    auto deadline = steady_time::max();
    for(std::size_t i = 0; i < count; ++i)
        deadline = std::min(deadline, effective_deadline(access::node_of(*parents[i])));
    auto const links = static_cast<std::uint32_t>(count - 1);
    void* block = allocate_node(merge_node::block_size(links));
    auto n = ::new(block) merge_node(first, deadline, links);
    for(std::uint32_t i = 0; i < links; ++i)
    {
        auto l = ::new(n->links() + i) merge_link;
        l->merged_ = n;
        l->parent_ = access::node_of(*parents[i + 1]);
        l->listen_ = access::state_of(*parents[i + 1]);
        add_ref(l->parent_);
    }
    note_derived(n ASIOCTX_SITE_ARG(site));
    add_ref(first);
    n->refs_.store(2, std::memory_order_relaxed); // the context and the handle
    cancellable result{access::adopt(n, n), access::make_cancel_handle(n)};
    if(!link_child(access::state_of(*parents[0]), n))
        return result; // born done with the first parent's error
    for(std::uint32_t i = 0; i < links; ++i)
    {
        auto& l = n->links()[i];
        if(l.listen_->kind_ == node_kind::never)
            continue; // can never fire
        if(l.offer(l.listen_))
            continue;
        // This parent is done already: the merged context is born done with its error.
        l.fire(make_state_error(l.listen_->state_.load(std::memory_order_acquire)), l.listen_->cause_);
        break;
    }
    return result;
}

} // namespace detail
} // namespace asioctx
