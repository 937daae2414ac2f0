//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//
// The cancellation tree. Invariants:
// - Lock order is always parent before child. A cancel holds the locks of the path from
//   the cancelled node down to the node it is visiting, so a child can never be freed
//   while its parent still reaches it.
// - Under a node lock nothing but node locks is taken, nothing allocated, nothing posted:
//   registrations are fired, and done deadline nodes leave their keepers, only after
//   every lock is released.
// - A node's state goes from live to done once, under its lock, with its cause written
//   before the release store.

#include <asioctx/core/cancel.hpp>
#include <asioctx/core/context.hpp>
#include <asioctx/core/without_cancel.hpp>

#include <chrono>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace asioctx {
namespace detail {

constinit cancel_node never_node(node_kind::never, nullptr);

boost::source_location const state_locations[3] = {
    boost::source_location(),
    boost::source_location(__FILE__, __LINE__, "asioctx::detail::cancel (a cancel handle or an ancestor)"),
    boost::source_location(__FILE__, __LINE__, "asioctx::detail::deadline_heap::on_timer"),
};

namespace {

constinit node todo_node(node_kind::todo, nullptr);

void unlink_from_parent(cancel_node* n) noexcept
{
    auto p = nearest_canceller(n->parent_);
    if(p->kind_ == node_kind::never)
        return;
    lock(p);
    if(n->pprev_)
    {
        *n->pprev_ = n->next_sibling_;
        if(n->next_sibling_)
            n->next_sibling_->pprev_ = n->pprev_;
        n->pprev_ = nullptr;
        n->next_sibling_ = nullptr;
    }
    unlock(p);
}

// Marks a locked, live node done and moves its registrations to `fire`; a deadline node
// that may be held by its keeper goes on `leaving`, with a reference, to leave it once
// every lock is released (the keeper's lock is never taken under a node lock).
void mark(cancel_node* n, std::uint8_t state, boost::system::error_code const& cause, std::uint8_t how,
    source_location const& site, registration*& fire, deadline_node*& leaving) noexcept
{
    n->cause_ = cause;
    n->cancel_how_ = how;
    n->cancel_site_ = site;
    n->state_.store(state, std::memory_order_release);
    for(auto r = n->regs_; r;)
    {
        auto next = r->next_;
        r->pprev_ = nullptr;
        r->next_ = fire;
        fire = r;
        r = next;
    }
    n->regs_ = nullptr;
    if(n->kind_ == node_kind::deadline)
    {
        auto d = static_cast<deadline_node*>(n);
        if(d->keeper_)
        {
            d->add_ref();
            d->leaving_next_ = leaving;
            leaving = d;
        }
    }
}

// The registrations a cancel walk on this thread has taken and not fired yet, innermost
// walk first (a registration's callback may cancel again). Only this thread reads or
// writes them: a registration withdrawn by its own thread before its turn leaves here.
struct firing_frame
{
    registration* pending;
    firing_frame* outer;
};

constinit thread_local firing_frame* firing_top = nullptr;

bool take_from_pending_fires(registration* r) noexcept
{
    for(auto f = firing_top; f; f = f->outer)
        for(auto pp = &f->pending; *pp; pp = &(*pp)->next_)
            if(*pp == r)
            {
                *pp = r->next_;
                r->next_ = nullptr;
                return true;
            }
    return false;
}

// Frees a merged node and its links: each link leaves its parent (waiting out a fire in
// progress on another thread) before the block goes.
void destroy_merge(merge_node* m) noexcept
{
    auto const links = m->links();
    auto const count = m->link_count_;
    for(std::uint32_t i = 0; i < count; ++i)
    {
        links[i].withdraw(links[i].listen_);
        release(links[i].parent_);
        links[i].~merge_link();
    }
    m->~merge_node();
    free_node(m, merge_node::block_size(count));
}

} // namespace

deadline_node::~deadline_node() = default;

// Frees `n` as the type its kind names (nodes have no virtual destructor).
static void destroy(node* n) noexcept
{
    switch(n->kind_)
    {
    case node_kind::value:
    {
        auto v = static_cast<value_node_base*>(n);
        v->destroy_(v);
        return;
    }
    case node_kind::cancel:
        delete static_cast<cancel_node*>(n);
        return;
    case node_kind::deadline:
        delete static_cast<deadline_node*>(n);
        return;
    case node_kind::merge:
        destroy_merge(static_cast<merge_node*>(n));
        return;
    default:
        delete n; // without_cancel (the static roots are never released to zero)
        return;
    }
}

void release(node* n) noexcept
{
    // A count of one is ours alone: no other thread can take or drop a reference to the
    // node (see node::refs_), so the last release needs no read-modify-write.
    while(n && (n->refs_.load(std::memory_order_acquire) == 1 ||
                   n->refs_.fetch_sub(1, std::memory_order_acq_rel) == 1))
    {
        auto parent = n->parent_;
        if(n->diag_) [[unlikely]]
            untrack_node(n);
        destroy(n);
        n = parent;
    }
}

cancel_node* nearest_canceller(node* n) noexcept
{
    for(; n; n = n->parent_)
    {
        switch(n->kind_)
        {
        case node_kind::cancel:
        case node_kind::deadline:
        case node_kind::merge:
            return static_cast<cancel_node*>(n);
        case node_kind::value:
            continue;
        default:
            return &never_node;
        }
    }
    return &never_node;
}

steady_time effective_deadline(node const* n) noexcept
{
    for(; n; n = n->parent_)
    {
        switch(n->kind_)
        {
        case node_kind::deadline:
            return static_cast<deadline_node const*>(n)->deadline_;
        case node_kind::merge:
            return static_cast<merge_node const*>(n)->deadline_; // includes the chain above
        case node_kind::cancel:
        case node_kind::value:
            continue;
        default:
            return steady_time::max();
        }
    }
    return steady_time::max();
}

boost::system::error_code make_state_error(std::uint8_t state) noexcept
{
    return boost::system::error_code(state, error_category(), &state_locations[state]);
}

// Marks `n` and its live descendants done and unlinks them, depth-first without
// recursion: `cur` and every node between it and `n` stay locked, so no visited node
// can be freed under us. Returns the registrations to fire; `leaving` gets the deadline
// nodes to take out of their keepers.
static registration* cancel_subtree(cancel_node* n, std::uint8_t state,
    boost::system::error_code const& cause, std::uint8_t how, source_location const& site,
    bool& won, deadline_node*& leaving) noexcept
{
    registration* fire = nullptr;
    // Taken even when `n` is already done: a cancel in progress on another thread
    // holds it until its whole subtree is done, so when cancel() returns every
    // descendant is done (as in Go).
    lock(n);
    if(n->state_.load(std::memory_order_relaxed) != state_live)
    {
        unlock(n);
        return nullptr;
    }
    won = true;
    mark(n, state, cause, how, site, fire, leaving);
    std::uint8_t const inherited = static_cast<std::uint8_t>(how | how_inherited);
    cancel_node* cur = n;
    for(;;)
    {
        if(auto c = cur->first_child_)
        {
            cur->first_child_ = c->next_sibling_;
            if(c->next_sibling_)
                c->next_sibling_->pprev_ = &cur->first_child_;
            c->pprev_ = nullptr;
            c->next_sibling_ = nullptr;
            lock(c);
            if(c->state_.load(std::memory_order_relaxed) != state_live)
            {
                unlock(c); // its own cancel finished its subtree under this lock
                continue;
            }
            mark(c, state, cause, inherited, site, fire, leaving);
            cur = c;
            continue;
        }
        // Read the way back up before unlocking: once `cur` is unlocked its owner may
        // free it (after taking the parent's lock, which is still ours).
        auto up = cur == n ? nullptr : nearest_canceller(cur->parent_);
        unlock(cur);
        if(!up)
            return fire;
        cur = up;
    }
}

// The whole walk: children, registrations to fire, deadline nodes to take out of their
// keeper.
BOOST_NOINLINE static bool cancel_walk(cancel_node* n, std::uint8_t state, boost::system::error_code const& cause,
    bool remove_from_parent, std::uint8_t how, source_location const& site) noexcept
{
    deadline_node* leaving = nullptr;
    bool won = false;
    // Listed as pending before anything below can run code that withdraws one of them
    // (freeing a deadline node can free a merged context).
    firing_frame frame{cancel_subtree(n, state, cause, how, site, won, leaving), firing_top};
    firing_top = &frame;
    // Outside every lock. Done deadline nodes leave their keepers (keeper_ no longer
    // changes once a node is done).
    while(leaving)
    {
        auto d = leaving;
        leaving = d->leaving_next_;
        d->leaving_next_ = nullptr;
        d->keeper_->remove(d);
        release(d);
    }
    // Every node of the subtree took this error and cause.
    auto const err = make_state_error(state);
    while(auto r = frame.pending)
    {
        frame.pending = r->next_;
        r->next_ = nullptr;
        r->fire_and_release(err, cause);
    }
    firing_top = frame.outer;
    if(remove_from_parent)
        unlink_from_parent(n);
    return won;
}

bool cancel(cancel_node* n, std::uint8_t state, boost::system::error_code cause,
    bool remove_from_parent, std::uint8_t how, source_location const& site) noexcept
{
    if(!cause)
        cause = make_state_error(state);
    // With stack tracking on, a tracked node's cancel keeps the cancelling call's stack
    // (captured here, outside every lock; kept only if this call wins).
    void* stack = nullptr;
    if(n->diag_ && tracking_level.load(std::memory_order_relaxed) == tracking_stacks) [[unlikely]]
        stack = capture_cancel_stack();
    bool won = false;
    // Most cancels end a context with no children, nothing registered and no timer entry
    // (a request's context, a cancelled child, a merged context, whose links stay listed
    // in its other parents until it is released): marked under its lock, with none of the
    // walk's bookkeeping. Anything else unlocks and takes the walk, which locks again and
    // looks afresh.
    lock(n);
    if(n->state_.load(std::memory_order_relaxed) == state_live)
    {
        if(n->first_child_ || n->regs_ || (n->kind_ != node_kind::cancel && n->kind_ != node_kind::merge))
        {
            unlock(n);
            won = cancel_walk(n, state, cause, remove_from_parent, how, site);
            if(stack)
                keep_cancel_stack(n, stack, won);
            return won;
        }
        // Marked as the walk marks every node; a leaf gives it nothing to fire or remove.
        registration* fire = nullptr;
        deadline_node* leaving = nullptr;
        mark(n, state, cause, how, site, fire, leaving);
        won = true;
    }
    // Done already (by this cancel or an earlier one, whose walk has finished: it held
    // this lock until then).
    unlock(n);
    if(stack)
        keep_cancel_stack(n, stack, won);
    if(remove_from_parent)
        unlink_from_parent(n);
    return won;
}

void owned_registration::fire_and_release(
    boost::system::error_code const& err, boost::system::error_code const& cause) noexcept
{
    bool destroyed = false;
    runner_ = std::this_thread::get_id();
    destroyed_ = &destroyed;
    phase_.store(running, std::memory_order_release);
    fire(err, cause);
    if(!destroyed) // else the callback withdrew its own registration: it is gone
        phase_.store(finished, std::memory_order_release);
}

bool owned_registration::offer(cancel_node* n) noexcept
{
    phase_.store(listed, std::memory_order_relaxed); // published by the node's lock
    if(adopt_registration(n, this) == adopt_result::adopted)
        return true;
    phase_.store(idle, std::memory_order_relaxed);
    return false;
}

void owned_registration::withdraw(cancel_node* n) noexcept
{
    if(phase_.load(std::memory_order_acquire) == idle)
        return; // never listed, or withdrawn already
    if(unlist_registration(n, this))
    {
        phase_.store(idle, std::memory_order_relaxed);
        return;
    }
    // A cancel took it: wait until it has run, unless this thread is the one running it.
    for(;;)
    {
        auto const phase = phase_.load(std::memory_order_acquire);
        if(phase == finished || phase == idle)
            return;
        if(phase == running && runner_ == std::this_thread::get_id())
        {
            *destroyed_ = true;
            return;
        }
        if(phase == listed && take_from_pending_fires(this))
        {
            phase_.store(idle, std::memory_order_relaxed);
            return;
        }
        std::this_thread::yield();
    }
}

bool link_child(cancel_node* parent, cancel_node* child) noexcept
{
    if(parent->kind_ == node_kind::never)
        return true;
    lock(parent);
    auto s = parent->state_.load(std::memory_order_relaxed);
    if(s != state_live)
    {
        child->cause_ = parent->cause_;
        child->cancel_how_ = static_cast<std::uint8_t>(parent->cancel_how_ | how_inherited);
        child->cancel_site_ = parent->cancel_site_;
        child->state_.store(s, std::memory_order_release);
        unlock(parent);
        return false;
    }
    child->next_sibling_ = parent->first_child_;
    if(parent->first_child_)
        parent->first_child_->pprev_ = &child->next_sibling_;
    parent->first_child_ = child;
    child->pprev_ = &parent->first_child_;
    unlock(parent);
    return true;
}

adopt_result adopt_registration(cancel_node* n, registration* r) noexcept
{
    if(n->kind_ == node_kind::never)
        return adopt_result::node_done;
    lock(n);
    if(n->state_.load(std::memory_order_relaxed) != state_live)
    {
        unlock(n);
        return adopt_result::node_done;
    }
    if(!r->wanted())
    {
        unlock(n);
        return adopt_result::unwanted;
    }
    r->next_ = n->regs_;
    if(n->regs_)
        n->regs_->pprev_ = &r->next_;
    n->regs_ = r;
    r->pprev_ = &n->regs_;
    unlock(n);
    return adopt_result::adopted;
}

bool add_registration(cancel_node* n, registration* r) noexcept
{
    if(n->kind_ == node_kind::never)
        return true;
    r->add_ref(); // the list's
    if(adopt_registration(n, r) == adopt_result::adopted)
        return true;
    r->release();
    return false;
}

bool unlist_registration(cancel_node* n, registration* r) noexcept
{
    if(n->kind_ == node_kind::never)
        return false;
    lock(n);
    if(!r->pprev_)
    {
        unlock(n);
        return false;
    }
    *r->pprev_ = r->next_;
    if(r->next_)
        r->next_->pprev_ = r->pprev_;
    r->pprev_ = nullptr;
    r->next_ = nullptr;
    unlock(n);
    return true;
}

bool remove_registration(cancel_node* n, registration* r) noexcept
{
    if(!unlist_registration(n, r))
        return false;
    r->release();
    return true;
}

std::size_t child_count(cancel_node* n) noexcept
{
    if(n->kind_ == node_kind::never)
        return 0;
    std::size_t count = 0;
    lock(n);
    for(auto c = n->first_child_; c; c = c->next_sibling_)
        ++count;
    unlock(n);
    return count;
}

std::size_t registration_count(cancel_node* n) noexcept
{
    if(n->kind_ == node_kind::never)
        return 0;
    std::size_t count = 0;
    lock(n);
    for(auto r = n->regs_; r; r = r->next_)
        ++count;
    unlock(n);
    return count;
}

void throw_no_executor(boost::source_location const& loc)
{
    throw boost::system::system_error(make_error_code(error::no_executor, &loc));
}

cancellable derive_cancel(context const& parent ASIOCTX_SITE_PARAM)
{
    auto p = detail::access::node_of(parent);
    auto n = new cancel_node(node_kind::cancel, p);
    note_derived(n ASIOCTX_SITE_ARG(site));
    add_ref(p);
    n->refs_.store(2, std::memory_order_relaxed); // the context and the handle
    link_child(detail::access::state_of(parent), n);
    return cancellable{detail::access::adopt(n, n), detail::access::make_cancel_handle(n)};
}

context derive_without_cancel(context const& parent ASIOCTX_SITE_PARAM)
{
    auto p = detail::access::node_of(parent);
    auto n = new node(node_kind::without_cancel, p);
    note_derived(n ASIOCTX_SITE_ARG(site));
    add_ref(p);
    return detail::access::adopt(n, &never_node);
}

} // namespace detail

context todo() noexcept
{
    detail::todo_node.add_ref();
    return detail::access::adopt(&detail::todo_node, &detail::never_node);
}

bool is_todo(context const& ctx) noexcept
{
    return detail::access::node_of(ctx) == &detail::todo_node;
}

boost::system::error_code cause(context const& ctx) noexcept
{
    auto s = detail::access::state_of(ctx);
    if(s->state_.load(std::memory_order_acquire) == detail::state_live)
        return {};
    return s->cause_;
}

cancel_site cancelled_at(context const& ctx)
{
    return detail::cancel_site_of(detail::access::state_of(ctx));
}

cancel_site detail::cancel_site_of(cancel_node const* s)
{
    cancel_site out;
    if(s->state_.load(std::memory_order_acquire) == detail::state_live)
        return out;
    auto const how = s->cancel_how_;
    out.source = static_cast<cancel_source>(how & ~detail::how_inherited);
    out.inherited = (how & detail::how_inherited) != 0;
    out.location = s->cancel_site_;
    // The stack, and a release's derivation site, stay with the node whose own cancel it
    // was: this one, or for an inherited cancel, the nearest ancestor cancelled directly.
    detail::cancel_node const* c = s;
    while(c->cancel_how_ & detail::how_inherited)
    {
        c = detail::nearest_canceller(c->parent_);
        if(c->kind_ == detail::node_kind::never || c->state_.load(std::memory_order_acquire) == detail::state_live)
            return out; // a merged parent's cancel: it is not on this chain
    }
    if(out.source == cancel_source::release)
        out.location = detail::derivation_site(c);
    out.stack = detail::cancel_stack_text(c);
    return out;
}

std::string detail::format_site(source_location const& site)
{
    std::string out = site.file_name();
    if(out.empty())
        return "(unknown site)";
    out += ':';
    out += std::to_string(site.line());
    std::string_view fn = site.function_name();
    if(!fn.empty())
    {
        if(auto paren = fn.find('('); paren != std::string_view::npos)
            fn = fn.substr(0, paren);
        if(auto space = fn.rfind(' '); space != std::string_view::npos)
            fn = fn.substr(space + 1);
        out += " (";
        out += fn;
        out += ')';
    }
    return out;
}

std::string to_string(cancel_site const& site)
{
    bool const known = *site.location.file_name() != '\0';
    auto const where = known ? detail::format_site(site.location) : std::string("an unknown site");
    std::string out;
    switch(site.source)
    {
    case cancel_source::none:
        return "not cancelled";
    case cancel_source::call:
        out = "cancelled at " + where;
        break;
    case cancel_source::release:
        out = known ? "cancel handle released (derived at " + where + ")" : "cancel handle released";
        break;
    case cancel_source::deadline:
        out = "deadline set at " + where;
        break;
    case cancel_source::stop_request:
        out = "stop requested through the std::stop_token bridged at " + where;
        break;
    }
    if(site.inherited)
        out += ", inherited";
    return out;
}

std::string to_string(context const& ctx)
{
    // Root first: collect the chain, then write it out from the far end.
    std::vector<detail::node const*> chain;
    for(auto n = detail::access::node_of(ctx); n; n = n->parent_)
        chain.push_back(n);
    std::string out;
    if(chain.empty() || chain.back()->kind_ != detail::node_kind::todo)
        out = "background";
    auto const now = std::chrono::steady_clock::now();
    for(auto it = chain.rbegin(); it != chain.rend(); ++it)
    {
        auto const n = *it;
        switch(n->kind_)
        {
        case detail::node_kind::todo:
            out += "todo";
            continue;
        case detail::node_kind::value:
        {
            std::string_view const name = static_cast<detail::value_node_base const*>(n)->key_->name();
            // with_executor's value (the core names it without including the Asio layer).
            if(name == "asioctx.executor")
            {
                out += ".with_executor";
                continue;
            }
            out += ".with_value(";
            out += name.empty() ? std::string_view("key") : name;
            out += ')';
            continue;
        }
        case detail::node_kind::cancel:
            out += ".with_cancel";
            continue;
        case detail::node_kind::deadline:
        {
            auto const left = static_cast<detail::deadline_node const*>(n)->deadline_ - now;
            auto const ms = std::chrono::duration_cast<std::chrono::milliseconds>(left).count();
            out += ".with_deadline(";
            if(ms >= 0)
                out += '+';
            out += std::to_string(ms);
            out += "ms)";
            continue;
        }
        case detail::node_kind::without_cancel:
            out += ".without_cancel";
            continue;
        case detail::node_kind::merge:
            out += ".with_merge(";
            out += std::to_string(static_cast<detail::merge_node const*>(n)->link_count_ + 1);
            out += " parents)";
            continue;
        case detail::node_kind::never:
            continue;
        }
    }
    if(auto const ec = ctx.err())
    {
        out += " [";
        out += ec.message();
        out += ']';
    }
    return out;
}

std::ostream& operator<<(std::ostream& os, context const& ctx)
{
    return os << to_string(ctx);
}

} // namespace asioctx
