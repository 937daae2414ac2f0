//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_CORE_DETAIL_NODE_HPP
#define ASIOCTX_CORE_DETAIL_NODE_HPP

#include <asioctx/detail/config.hpp>
#include <asioctx/core/detail/site.hpp>
#include <asioctx/core/error.hpp>

#include <boost/system/error_code.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

namespace asioctx {
struct cancel_site;
} // namespace asioctx

namespace asioctx::detail {

using steady_time = std::chrono::steady_clock::time_point;

enum class node_kind : std::uint8_t
{
    todo,           // the static root returned by todo()
    value,          // with_value: one key, one immutable value
    cancel,         // with_cancel, with_cancel_cause, or a deadline that arms no timer
    deadline,       // with_deadline family: a cancel node with a timer entry
    without_cancel, // values of the parent, none of its cancellation
    never,          // the static state shared by every context that can never be done
    merge,          // with_merge: a cancel node that also listens to further parents
};

// How a cancel node came to be done (node::cancel_how_); the public cancel_source values.
enum : std::uint8_t
{
    how_none = 0,     // live
    how_call = 1,     // a cancel handle was called; the site is the call's
    how_release = 2,  // a cancel handle was destroyed or reset without a call
    how_deadline = 3, // a deadline passed; the site is where it was derived
    how_stop = 4,     // a std::stop_token's stop was requested; the site is the bridge's
    how_inherited = 0x80, // reached this node through an ancestor or a merged parent
};

// Values of node::state_. They equal the asioctx::error values on purpose: err() is a
// single load and a cast.
enum : std::uint8_t
{
    state_live = 0,
    state_canceled = static_cast<std::uint8_t>(error::canceled),
    state_deadline = static_cast<std::uint8_t>(error::deadline_exceeded),
};

// Memory for cancel and deadline nodes (src/core/node_cache.cpp): a thread keeps a few
// freed nodes of each size for its next derivations, as Asio recycles handler memory. A
// request's short-lived contexts then cost no malloc or free (decision 83).
ASIOCTX_DECL void* allocate_node(std::size_t size);
ASIOCTX_DECL void free_node(void* p, std::size_t size) noexcept;

class diag_record; // src/diagnostics/registry.cpp: what the registry knows of one live node

// Every derived context is one node, reference counted, pointing to its parent.
// Nodes are immutable after construction except for the cancellation fields, which
// the node's own lock guards (state_ is also readable without it). No virtual functions:
// release() frees a node as the type its kind_ names, so a fan-out child is 80 bytes.
class node
{
public:
    constexpr explicit node(node_kind kind, node* parent) noexcept
        : kind_(kind)
        , parent_(parent)
    {
    }
    node(node const&) = delete;
    node& operator=(node const&) = delete;
    ~node() = default; // only through release(), as its own type

    void add_ref() noexcept
    {
        refs_.fetch_add(1, std::memory_order_relaxed);
    }

    // A reference is taken only by a holder of one, or under a lock that the holder of
    // the last reference must take before dropping it (a node's own lock in the cancel
    // walk, the deadline keeper's for queued nodes). So a count of one, read by its
    // holder, stays one: release() frees the node without a read-modify-write.
    std::atomic<std::uint32_t> refs_{1};
    node_kind const kind_;
    std::atomic<std::uint8_t> state_{state_live};
    std::atomic<std::uint8_t> lock_{0};
    // Cancel nodes only: how the node became done (how_*), written with cause_.
    std::uint8_t cancel_how_ = how_none;
    node* const parent_; // owning reference; nullptr is background()
    diag_record* diag_ = nullptr; // set once, before the node is shared, when tracked
};

// The registry's switch (an asioctx::tracking value): read once per derivation. It stays
// off in a library built without the registry (ASIOCTX_NO_DIAGNOSTICS).
ASIOCTX_DECL extern std::atomic<std::uint8_t> tracking_level;

// tracking_level's value for asioctx::tracking::stacks (the core does not see that enum).
inline constexpr std::uint8_t tracking_stacks = 2;

// "file:line (function)", the function's parameter list dropped; "(unknown site)" for an
// empty location. Shared by cancel sites and the registry's reports.
ASIOCTX_DECL std::string format_site(source_location const& site);

// Records a new node in the registry; never throws (a record that cannot be
// allocated leaves the node untracked).
ASIOCTX_DECL void track_node(node* n, source_location const& site) noexcept;

// With stack tracking on: the cancelling call's stack, captured outside every lock (null
// when it cannot be); kept with the tracked node `n` if `keep`, else freed.
ASIOCTX_DECL void* capture_cancel_stack() noexcept;
ASIOCTX_DECL void keep_cancel_stack(node* n, void* stack, bool keep) noexcept;

// Where a tracked node was derived; an empty location when it is not tracked.
ASIOCTX_DECL source_location derivation_site(node const* n) noexcept;

// The cancel stack kept with `n`, as text; empty when none.
ASIOCTX_DECL std::string cancel_stack_text(node const* n);

// Removes a tracked node's record; called as its last reference goes.
ASIOCTX_DECL void untrack_node(node* n) noexcept;

// Called by every derivation, after constructing the node and before sharing it.
inline void note_derived(node* n, source_location const& site) noexcept
{
    if(tracking_level.load(std::memory_order_relaxed) != 0) [[unlikely]]
        track_node(n, site);
}

// Drops one reference; frees the node and, iteratively, every ancestor that it was
// the last owner of (deep chains never recurse).
ASIOCTX_DECL void release(node* n) noexcept;

inline void add_ref(node* n) noexcept
{
    if(n)
        n->add_ref();
}

// A small spin lock in one byte, so that fan-out nodes stay small. Nothing but node locks
// is taken, nothing is allocated and nothing is posted while one is held: critical
// sections are pointer updates and reference counts. A deadline node enters its keeper
// after its lock is released (derive_deadline), and leaves it after the cancel walk has
// released every lock (cancel()).
inline void lock(node* n) noexcept
{
    for(unsigned spins = 0;; ++spins)
    {
        if(!n->lock_.exchange(1, std::memory_order_acquire))
            return;
        while(n->lock_.load(std::memory_order_relaxed))
        {
            if(++spins > 64)
                std::this_thread::yield();
        }
    }
}

inline void unlock(node* n) noexcept
{
    n->lock_.store(0, std::memory_order_release);
}

// Something to tell when a cancellable node becomes done: an after_func, a bound
// Asio operation. Listed in the node under its lock; fired outside every lock.
class registration
{
public:
    registration() = default;
    registration(registration const&) = delete;
    registration& operator=(registration const&) = delete;
    virtual ~registration() = default;

    // Called at most once, with the node's error and cause, on the cancelling thread,
    // after every lock is released. Must not block.
    virtual void fire(
        boost::system::error_code const& err, boost::system::error_code const& cause) noexcept = 0;

    // What the cancel walk calls: fire, then drop the list's reference. A registration
    // owned by something else (a synchronous callback, a merged context's link) fires
    // and leaves its memory alone afterwards.
    virtual void fire_and_release(
        boost::system::error_code const& err, boost::system::error_code const& cause) noexcept
    {
        fire(err, cause);
        release();
    }

    void add_ref() noexcept
    {
        refs_.fetch_add(1, std::memory_order_relaxed);
    }
    void release(std::uint32_t count = 1) noexcept
    {
        if(refs_.fetch_sub(count, std::memory_order_acq_rel) == count)
            destroy();
    }

    // False once nothing would come of firing it (its operation completed). Asked under
    // the node's lock by adopt_registration.
    virtual bool wanted() const noexcept
    {
        return true;
    }

    // Frees this registration; those made with another allocator override it.
    virtual void destroy() noexcept
    {
        delete this;
    }

    std::atomic<std::uint32_t> refs_{1};
    registration* next_ = nullptr;
    registration** pprev_ = nullptr; // non-null while listed in a node
};

// with_cancel and friends. Children and registrations are intrusive lists with
// O(1) unlink, so a long-lived parent never grows with short-lived children.
class cancel_node : public node
{
public:
    constexpr explicit cancel_node(node_kind kind, node* parent) noexcept
        : node(kind, parent)
    {
    }

    // Cancel and deadline nodes come from the thread's node cache (deadline nodes too:
    // the size is that of the type deleted).
    static void* operator new(std::size_t size)
    {
        return allocate_node(size);
    }
    static void operator delete(void* p, std::size_t size) noexcept
    {
        free_node(p, size);
    }

    boost::system::error_code cause_; // written once, before state_ is released
    source_location cancel_site_;     // likewise: where the cancel came from (cancel_how_)
    cancel_node* first_child_ = nullptr;
    cancel_node* next_sibling_ = nullptr;
    cancel_node** pprev_ = nullptr; // non-null while linked into a parent
    registration* regs_ = nullptr;
};

// A registration owned by something other than the node's list: a synchronous
// callback, a merged context's link. It keeps no reference count; its owner calls
// withdraw() before its memory goes, and withdraw() returns only once no cancel can
// reach it any more. Invariants:
// - phase_ goes idle -> listed (before it is offered to a node) -> running -> finished,
//   or back to idle when the node refuses it or withdraw() unlists it;
// - a cancel walk takes it off its node's list under the node's lock; from then on only
//   that walk touches it, and the walk's last touch is the release store of `finished`;
// - runner_ is written before `running` is released; destroyed_ is read and written only
//   by the running thread (a callback that destroys its own registration);
// - a walk that has taken it but not yet fired it is on a thread's list of pending
//   fires (firing_frame): the same thread can withdraw it from there, any other waits.
class owned_registration : public registration
{
public:
    enum : std::uint8_t
    {
        idle = 0,
        listed = 1,
        running = 2,
        finished = 3,
    };

    ASIOCTX_DECL void fire_and_release(
        boost::system::error_code const& err, boost::system::error_code const& cause) noexcept final;

    // Lists this in `n` unless `n` is done (then false; it is idle again).
    ASIOCTX_DECL bool offer(cancel_node* n) noexcept;

    // After this returns, no cancel of `n` runs or will run this registration. Waits
    // (yielding) while another thread is running it; returns at once from inside it.
    ASIOCTX_DECL void withdraw(cancel_node* n) noexcept;

private:
    std::atomic<std::uint8_t> phase_{idle};
    std::thread::id runner_;
    bool* destroyed_ = nullptr;
};

class merge_node;

// One more parent of a merged context: listed in that parent's canceller, it cancels the
// merged node with the parent's error, cause and site. It holds the parent's node.
class merge_link final : public owned_registration
{
public:
    ASIOCTX_DECL void fire(
        boost::system::error_code const& err, boost::system::error_code const& cause) noexcept override;

    merge_node* merged_ = nullptr;
    node* parent_ = nullptr;        // owning reference
    cancel_node* listen_ = nullptr; // the parent's nearest canceller, where this is offered
};

class deadline_node;

// What holds a deadline node until its time comes: the Asio layer's timer heap
// (asio/detail/context_service.hpp). The tree knows it only through this: when a cancel
// marks a deadline node done, it calls remove() after every node lock is released.
class deadline_keeper
{
public:
    // Forgets `n` if it is still held; takes the keeper's own lock, never a node lock.
    virtual void remove(deadline_node* n) noexcept = 0;

protected:
    ~deadline_keeper() = default;
};

class deadline_node final : public cancel_node
{
public:
    explicit deadline_node(node* parent, steady_time deadline, source_location const& set_at) noexcept
        : cancel_node(node_kind::deadline, parent)
        , deadline_(deadline)
        , set_at_(set_at)
    {
    }
    ASIOCTX_DECL ~deadline_node();

    steady_time const deadline_;
    source_location const set_at_; // where the deadline was derived: the site of its cancel
    boost::system::error_code deadline_cause_;
    // The keeper this node is (or is about to be) in: written only under the node's lock
    // while it is live, so never after a cancel marked it.
    std::shared_ptr<deadline_keeper> keeper_;
    std::size_t heap_index_ = static_cast<std::size_t>(-1); // guarded by the keeper
    deadline_node* expired_next_ = nullptr;                // guarded by the keeper
    deadline_node* leaving_next_ = nullptr; // owned by the cancel walk that marked the node
};

// with_merge: a cancel node under its first parent whose links listen to the others.
// Its links sit in the same block, right after it; its deadline is the earliest of all
// its parents', fired by their own timers.
class merge_node final : public cancel_node
{
public:
    merge_node(node* first_parent, steady_time deadline, std::uint32_t links) noexcept
        : cancel_node(node_kind::merge, first_parent)
        , deadline_(deadline)
        , link_count_(links)
    {
    }

    merge_link* links() noexcept
    {
        return reinterpret_cast<merge_link*>(reinterpret_cast<unsigned char*>(this) + links_offset());
    }

    static constexpr std::size_t links_offset() noexcept
    {
        return (sizeof(merge_node) + alignof(merge_link) - 1) / alignof(merge_link) * alignof(merge_link);
    }
    static constexpr std::size_t block_size(std::uint32_t links) noexcept
    {
        return links_offset() + links * sizeof(merge_link);
    }

    steady_time const deadline_;
    std::uint32_t const link_count_;
};

// What every key<T> is: its address is its identity, its name is for diagnostics.
class key_base
{
public:
    constexpr explicit key_base(char const* name) noexcept
        : name_(name)
    {
    }
    key_base(key_base const&) = delete;
    key_base& operator=(key_base const&) = delete;

    constexpr char const* name() const noexcept
    {
        return name_;
    }

private:
    char const* name_;
};

class value_node_base : public node
{
public:
    using destroy_fn = void (*)(value_node_base*) noexcept;

    value_node_base(node* parent, key_base const* key, destroy_fn destroy) noexcept
        : node(node_kind::value, parent)
        , key_(key)
        , destroy_(destroy)
    {
    }
    key_base const* const key_;
    destroy_fn const destroy_; // frees the node as the value_node<T> it is
};

template<class T>
class value_node final : public value_node_base
{
public:
    template<class U>
    value_node(node* parent, key_base const* key, U&& v)
        : value_node_base(parent, key, &destroy)
        , value_(static_cast<U&&>(v))
    {
    }
    T const value_;

private:
    static void destroy(value_node_base* n) noexcept
    {
        delete static_cast<value_node*>(n);
    }
};

// The state of every context that can never be done (background, todo, without_cancel).
ASIOCTX_DECL extern cancel_node never_node;

// Source locations carried by errors read through err().
ASIOCTX_DECL extern boost::source_location const state_locations[3];

// Finds the nearest value for `key`, walking past nodes that hold no value.
inline void const* find_value(node const* n, key_base const* key) noexcept
{
    for(; n; n = n->parent_)
    {
        if(n->kind_ == node_kind::value)
        {
            auto v = static_cast<value_node_base const*>(n);
            if(v->key_ == key)
                return v;
        }
        else if(n->kind_ == node_kind::todo)
            return nullptr;
    }
    return nullptr;
}

// cancelled_at() of a context whose nearest canceller is `s`.
ASIOCTX_DECL cancel_site cancel_site_of(cancel_node const* s);

// The nearest ancestor-or-self that can be cancelled, or never_node.
ASIOCTX_DECL cancel_node* nearest_canceller(node* n) noexcept;

// The effective deadline seen from `n`, or steady_time::max() for none.
ASIOCTX_DECL steady_time effective_deadline(node const* n) noexcept;

// Cancels `n` and every descendant, iteratively; fires their registrations after
// every lock is released. `state` is state_canceled or state_deadline; an empty cause
// means "the same as the error"; `how` and `site` say where the cancel came from (each
// descendant records them with how_inherited). The first cancellation wins; later ones
// do nothing. Returns true if this call made `n` done.
ASIOCTX_DECL bool cancel(cancel_node* n, std::uint8_t state, boost::system::error_code cause,
    bool remove_from_parent, std::uint8_t how, source_location const& site) noexcept;

// Links a new cancellable child under the nearest canceller of its parent, or makes it
// born done if that canceller already is. Returns false if the child was born done.
ASIOCTX_DECL bool link_child(cancel_node* parent, cancel_node* child) noexcept;

// Adds `r` to `n` (taking a reference) unless `n` is done; returns false when done.
ASIOCTX_DECL bool add_registration(cancel_node* n, registration* r) noexcept;

enum class adopt_result
{
    adopted,   // listed; the list now owns the caller's reference
    node_done, // not listed: `n` is done; the caller keeps its reference
    unwanted,  // not listed: `r->wanted()` is false; the caller keeps its reference
};

// Lists `r` in `n`, taking over one reference the caller holds, unless `n` is done or
// `r` is no longer wanted. One lock, no reference count traffic.
ASIOCTX_DECL adopt_result adopt_registration(cancel_node* n, registration* r) noexcept;

// Unlinks `r` from `n` if still listed, keeping the list's reference for the caller to
// drop; true if it was listed (so it will never fire).
ASIOCTX_DECL bool unlist_registration(cancel_node* n, registration* r) noexcept;

// Removes `r` from `n` if still listed; true if it was (so it will never fire).
ASIOCTX_DECL bool remove_registration(cancel_node* n, registration* r) noexcept;

ASIOCTX_DECL boost::system::error_code make_state_error(std::uint8_t state) noexcept;

// `loc` must outlive the exception (error codes keep a pointer to it): use the macro.
[[noreturn]] ASIOCTX_DECL void throw_no_executor(boost::source_location const& loc);

// Throws error::no_executor located at the macro's use.
#define ASIOCTX_THROW_NO_EXECUTOR()                                                          \
    do                                                                                       \
    {                                                                                        \
        static constexpr ::boost::source_location asioctx_no_executor_at_ = BOOST_CURRENT_LOCATION; \
        ::asioctx::detail::throw_no_executor(asioctx_no_executor_at_);                       \
    } while(false)

// Introspection for tests and diagnostics: how many children and registrations `n`
// lists right now.
ASIOCTX_DECL std::size_t child_count(cancel_node* n) noexcept;
ASIOCTX_DECL std::size_t registration_count(cancel_node* n) noexcept;

} // namespace asioctx::detail

#endif
