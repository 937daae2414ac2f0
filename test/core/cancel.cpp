// Tests for <asioctx/core/cancel.hpp>: with_cancel, with_cancel_cause, the RAII handle and
// Go's propagation rules.
#include <asioctx/core/cancel.hpp>
#include <asioctx/core/value.hpp>
#include <asioctx/core/without_cancel.hpp>

#include "../support.hpp"

#include <boost/asio/error.hpp>
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <thread>
#include <type_traits>
#include <vector>

using boost::system::error_code;
namespace asio = boost::asio;

namespace {
using test::number;
}

BOOST_AUTO_TEST_SUITE(cancel)

BOOST_AUTO_TEST_CASE(cancel_makes_done_with_canceled)
{
    auto [ctx, cancel] = asioctx::with_cancel(asioctx::background());
    BOOST_TEST(!ctx.done());
    BOOST_TEST(!ctx.err());
    cancel();
    BOOST_TEST(ctx.done());
    BOOST_TEST((ctx.err() == asioctx::error::canceled));
    BOOST_TEST((asioctx::cause(ctx) == asioctx::error::canceled));
}

BOOST_AUTO_TEST_CASE(destroying_the_handle_cancels)
{
    asioctx::context ctx;
    {
        auto [c, cancel] = asioctx::with_cancel(asioctx::background());
        ctx = c;
        BOOST_TEST(!ctx.done());
    }
    BOOST_TEST(ctx.done());
    BOOST_TEST((ctx.err() == asioctx::error::canceled));
}

BOOST_AUTO_TEST_CASE(moved_handle_cancels_once_from_its_new_owner)
{
    auto [ctx, cancel] = asioctx::with_cancel(asioctx::background());
    asioctx::cancel_handle moved = std::move(cancel);
    BOOST_TEST(!cancel);
    cancel(); // empty handle: nothing
    BOOST_TEST(!ctx.done());
    moved.reset();
    BOOST_TEST(ctx.done());
}

BOOST_AUTO_TEST_CASE(child_is_done_when_parent_is)
{
    auto [parent, cancel_parent] = asioctx::with_cancel(asioctx::background());
    auto [child, cancel_child] = asioctx::with_cancel(parent);
    auto valued = asioctx::with_value(child, number, 1);
    auto [grandchild, cancel_grandchild] = asioctx::with_cancel(valued);
    cancel_parent(asio::error::eof);
    BOOST_TEST(child.done());
    BOOST_TEST(valued.done());
    BOOST_TEST(grandchild.done());
    BOOST_TEST((grandchild.err() == asioctx::error::canceled));
    // Descendants inherit the cause.
    BOOST_TEST((asioctx::cause(grandchild) == asio::error::eof));
}

BOOST_AUTO_TEST_CASE(cancelling_a_child_leaves_the_parent_and_siblings)
{
    auto [parent, cancel_parent] = asioctx::with_cancel(asioctx::background());
    auto [a, cancel_a] = asioctx::with_cancel(parent);
    auto [b, cancel_b] = asioctx::with_cancel(parent);
    cancel_a();
    BOOST_TEST(a.done());
    BOOST_TEST(!b.done());
    BOOST_TEST(!parent.done());
}

BOOST_AUTO_TEST_CASE(first_cancellation_wins)
{
    auto [parent, cancel_parent] = asioctx::with_cancel(asioctx::background());
    auto [ctx, cancel] = asioctx::with_cancel_cause(parent);
    cancel(asio::error::connection_reset);
    auto const err = ctx.err();
    auto const why = asioctx::cause(ctx);
    cancel(asio::error::eof);
    cancel();
    cancel_parent(asio::error::broken_pipe);
    BOOST_TEST((ctx.err() == err));
    BOOST_TEST((ctx.err() == asioctx::error::canceled));
    BOOST_TEST((asioctx::cause(ctx) == why));
    BOOST_TEST((asioctx::cause(ctx) == asio::error::connection_reset));
    BOOST_TEST((asioctx::cause(parent) == asio::error::broken_pipe));
}

BOOST_AUTO_TEST_CASE(empty_cause_means_canceled)
{
    auto [ctx, cancel] = asioctx::with_cancel_cause(asioctx::background());
    cancel(error_code());
    BOOST_TEST((asioctx::cause(ctx) == asioctx::error::canceled));
}

BOOST_AUTO_TEST_CASE(child_of_done_parent_is_born_done)
{
    auto [parent, cancel_parent] = asioctx::with_cancel_cause(asioctx::background());
    cancel_parent(asio::error::eof);
    auto [child, cancel_child] = asioctx::with_cancel(parent);
    BOOST_TEST(child.done());
    BOOST_TEST((child.err() == asioctx::error::canceled));
    BOOST_TEST((asioctx::cause(child) == asio::error::eof));
    BOOST_TEST(asioctx::detail::child_count(asioctx::detail::access::state_of(parent)) == 0u);
}

BOOST_AUTO_TEST_CASE(children_of_never_cancelled_parents_register_nothing)
{
    auto [a, ca] = asioctx::with_cancel(asioctx::background());
    auto [b, cb] = asioctx::with_cancel(asioctx::todo());
    auto [c, cc] = asioctx::with_cancel(asioctx::without_cancel(a));
    BOOST_TEST(asioctx::detail::child_count(asioctx::detail::access::state_of(a)) == 0u);
    BOOST_TEST(asioctx::detail::access::state_of(asioctx::background()) == &asioctx::detail::never_node);
}

BOOST_AUTO_TEST_CASE(released_and_cancelled_children_are_unlinked)
{
    auto [parent, cancel_parent] = asioctx::with_cancel(asioctx::background());
    auto via_value = asioctx::with_value(parent, number, 1);
    for(int i = 0; i < 1000000; ++i)
    {
        auto [child, cancel] = asioctx::with_cancel(i % 2 ? parent : via_value);
        if(i % 3 == 0)
            cancel(); // cancelled early, then released
    }
    BOOST_TEST(asioctx::detail::child_count(asioctx::detail::access::state_of(parent)) == 0u);

    // A child cancelled while a copy of its context lives on is unlinked too.
    std::vector<asioctx::context> kept;
    for(int i = 0; i < 100; ++i)
    {
        auto [child, cancel] = asioctx::with_cancel(parent);
        kept.push_back(child);
    }
    BOOST_TEST(asioctx::detail::child_count(asioctx::detail::access::state_of(parent)) == 0u);
    for(auto& k : kept)
        BOOST_TEST(k.done());
}

BOOST_AUTO_TEST_CASE(live_children_are_listed_until_cancelled)
{
    auto [parent, cancel_parent] = asioctx::with_cancel(asioctx::background());
    std::vector<asioctx::cancellable> children;
    for(int i = 0; i < 10; ++i)
        children.push_back(asioctx::with_cancel(parent));
    BOOST_TEST(asioctx::detail::child_count(asioctx::detail::access::state_of(parent)) == 10u);
    children[3].cancel();
    children[0].cancel();
    children[9].cancel();
    BOOST_TEST(asioctx::detail::child_count(asioctx::detail::access::state_of(parent)) == 7u);
    cancel_parent();
    BOOST_TEST(asioctx::detail::child_count(asioctx::detail::access::state_of(parent)) == 0u);
    for(auto& c : children)
        BOOST_TEST(c.ctx.done());
}

BOOST_AUTO_TEST_CASE(deep_chain_cancels_iteratively)
{
    auto [root, cancel_root] = asioctx::with_cancel(asioctx::background());
    std::vector<asioctx::cancel_handle> handles;
    asioctx::context leaf = root;
    for(int i = 0; i < 100000; ++i)
    {
        auto [c, h] = asioctx::with_cancel(leaf);
        leaf = c;
        handles.push_back(std::move(h));
    }
    cancel_root();
    BOOST_TEST(leaf.done());
    while(!handles.empty())
        handles.pop_back(); // release from the leaf up
}

// A server fans out a child per request: each is one allocation of a node with no
// vtable, two intrusive lists, the cause and the cancel site (8 bytes where
// std::source_location is one pointer).
BOOST_AUTO_TEST_CASE(a_cancellable_child_is_at_most_80_bytes_and_its_cancel_site)
{
    BOOST_TEST(sizeof(asioctx::detail::cancel_node) <= 80u + sizeof(asioctx::source_location));
    BOOST_TEST(!std::is_polymorphic_v<asioctx::detail::node>);
}

// A request's contexts are freed and derived again at once: the memory of a freed node
// is kept by the thread that freed it (whichever thread allocated it) for its next
// derivation. AddressSanitizer builds keep no cache, so that misuse stays visible.
BOOST_AUTO_TEST_CASE(a_freed_node_is_reused_by_the_thread_that_freed_it)
{
#if defined(__SANITIZE_ADDRESS__)
    BOOST_TEST_MESSAGE("no node cache under AddressSanitizer");
#else
    using asioctx::detail::allocate_node;
    using asioctx::detail::free_node;
    using deadline = asioctx::detail::deadline_node;
    using cancel = asioctx::detail::cancel_node;
    void* a = allocate_node(sizeof(cancel));
    free_node(a, sizeof(cancel));
    BOOST_TEST(allocate_node(sizeof(cancel)) == a);
    void* b = allocate_node(sizeof(deadline));
    void* reused = nullptr;
    std::thread([&] {
        free_node(b, sizeof(deadline));
        reused = allocate_node(sizeof(deadline));
        free_node(reused, sizeof(deadline));
    }).join(); // the thread's exit gives back what it kept
    BOOST_TEST(reused == b);
    free_node(a, sizeof(cancel));
    // Through the tree: the child derived after one is freed gets its memory.
    auto* first = new cancel(asioctx::detail::node_kind::cancel, nullptr);
    auto const first_address = reinterpret_cast<std::uintptr_t>(first);
    delete first;
    auto* second = new cancel(asioctx::detail::node_kind::cancel, nullptr);
    BOOST_TEST(reinterpret_cast<std::uintptr_t>(second) == first_address);
    delete second;
#endif
}

BOOST_AUTO_TEST_SUITE_END()
