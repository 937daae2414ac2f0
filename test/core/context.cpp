// Tests for <asioctx/core/context.hpp>: the handle and the roots.
#include <asioctx/core/cancel.hpp>
#include <asioctx/core/context.hpp>
#include <asioctx/asio/deadline.hpp>
#include <asioctx/asio/executor.hpp>
#include <asioctx/core/value.hpp>
#include <asioctx/core/without_cancel.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <sstream>
#include <string>
#include <type_traits>

BOOST_AUTO_TEST_SUITE(context)

BOOST_AUTO_TEST_CASE(default_is_background)
{
    asioctx::context ctx;
    BOOST_TEST(!ctx.done());
    BOOST_TEST(!ctx.err());
    BOOST_TEST(!asioctx::cause(ctx));
    BOOST_TEST(!ctx.deadline().has_value());
    BOOST_TEST(ctx.is_root());
    BOOST_TEST(!asioctx::is_todo(ctx));
    BOOST_TEST(asioctx::background().is_root());
}

BOOST_AUTO_TEST_CASE(todo_is_a_distinct_root)
{
    auto t = asioctx::todo();
    BOOST_TEST(asioctx::is_todo(t));
    BOOST_TEST(t.is_root());
    BOOST_TEST(!t.done());
    auto [child, cancel] = asioctx::with_cancel(t);
    BOOST_TEST(!asioctx::is_todo(child));
    BOOST_TEST(!child.is_root());
}

BOOST_AUTO_TEST_CASE(handle_is_cheap_and_copyable)
{
    static_assert(std::is_nothrow_copy_constructible_v<asioctx::context>);
    static_assert(std::is_nothrow_move_constructible_v<asioctx::context>);
    static_assert(sizeof(asioctx::context) == 2 * sizeof(void*));
    auto [ctx, cancel] = asioctx::with_cancel(asioctx::background());
    asioctx::context copy = ctx;
    asioctx::context moved = std::move(copy);
    BOOST_TEST(!copy.done()); // a moved-from handle is background
    BOOST_TEST(copy.is_root());
    cancel();
    BOOST_TEST(ctx.done());
    BOOST_TEST(moved.done());
    copy = moved;
    BOOST_TEST(copy.done());
}

BOOST_AUTO_TEST_CASE(err_is_sticky_and_located)
{
    auto [ctx, cancel] = asioctx::with_cancel(asioctx::background());
    cancel();
    auto ec = ctx.err();
    BOOST_TEST((ec == asioctx::error::canceled));
    BOOST_TEST(ec.has_location());
    BOOST_TEST((ctx.err() == ec));
}

// Go's `Done() == nil`: what can never be done says so.
BOOST_AUTO_TEST_CASE(can_be_done_tells_the_contexts_that_never_end)
{
    asioctx::key<int> k{"k"};
    BOOST_TEST(!asioctx::background().can_be_done());
    BOOST_TEST(!asioctx::todo().can_be_done());
    BOOST_TEST(!asioctx::with_value(asioctx::background(), k, 1).can_be_done());
    auto c = asioctx::with_cancel(asioctx::background());
    BOOST_TEST(c.ctx.can_be_done());
    BOOST_TEST(asioctx::with_value(c.ctx, k, 1).can_be_done());
    BOOST_TEST(!asioctx::without_cancel(c.ctx).can_be_done());
}

// Go's `String()`: the chain of derivations from the root, then the error once done.
BOOST_AUTO_TEST_CASE(a_context_prints_its_derivations)
{
    asioctx::key<std::string> secret{"token"};
    asioctx::key<int> unnamed;
    BOOST_TEST(asioctx::to_string(asioctx::background()) == "background");
    BOOST_TEST(asioctx::to_string(asioctx::todo()) == "todo");
    auto c = asioctx::with_cancel(asioctx::todo());
    auto v = asioctx::with_value(asioctx::with_value(c.ctx, secret, "hunter2"), unnamed, 7);
    auto w = asioctx::without_cancel(v);
    BOOST_TEST(asioctx::to_string(w) == "todo.with_cancel.with_value(token).with_value(key).without_cancel");
    c.cancel();
    std::ostringstream os;
    os << v;
    BOOST_TEST(os.str() == "todo.with_cancel.with_value(token).with_value(key) [context canceled]");
    BOOST_TEST(os.str().find("hunter2") == std::string::npos); // values are never printed
}

// A deadline prints as the time left: from the steady clock, so only its sign and
// magnitude are checked.
BOOST_AUTO_TEST_CASE(a_deadline_prints_the_time_left)
{
    boost::asio::io_context ioc;
    auto d = asioctx::with_timeout(ioc.get_executor(), asioctx::background(), std::chrono::hours(1));
    auto const text = asioctx::to_string(d.ctx);
    BOOST_TEST(text.starts_with("background.with_deadline(+3"));
    BOOST_TEST(text.ends_with("ms)"));
    auto on_ioc = asioctx::with_executor(asioctx::background(), ioc.get_executor());
    BOOST_TEST(asioctx::to_string(on_ioc) == "background.with_executor");
    auto later = asioctx::with_timeout(ioc.get_executor(), d.ctx, std::chrono::hours(2));
    BOOST_TEST(asioctx::to_string(later.ctx).starts_with("background.with_deadline(+3")); // no earlier: needs no timer
    BOOST_TEST(asioctx::to_string(later.ctx).ends_with("ms).with_cancel"));
}

// Where a context was cancelled: the call's site for a handle, inherited by children,
// kept with the first cancel only, and "released" for a handle destroyed uncalled.
BOOST_AUTO_TEST_CASE(cancelled_at_names_the_cancel_call_and_its_inheritors)
{
    auto [parent, cancel] = asioctx::with_cancel(asioctx::background());
    auto [child, cancel_child] = asioctx::with_cancel(parent);
    auto leaf = asioctx::with_value(child, asioctx::key<int>{}, 1);
    BOOST_TEST((asioctx::cancelled_at(parent).source == asioctx::cancel_source::none));
    auto const line = __LINE__ + 1;
    cancel(boost::system::error_code(5, boost::system::generic_category()));
    cancel(); // a later cancel changes nothing
    auto site = asioctx::cancelled_at(parent);
    BOOST_TEST((site.source == asioctx::cancel_source::call));
    BOOST_TEST(site.location.line() == line);
    BOOST_TEST(std::string(site.location.file_name()).find("context.cpp") != std::string::npos);
    BOOST_TEST(!site.inherited);
    auto inherited = asioctx::cancelled_at(leaf);
    BOOST_TEST((inherited.source == asioctx::cancel_source::call));
    BOOST_TEST(inherited.location.line() == line);
    BOOST_TEST(inherited.inherited);
    BOOST_TEST(asioctx::to_string(inherited).find("context.cpp:" + std::to_string(line)) != std::string::npos);
    BOOST_TEST(asioctx::to_string(inherited).ends_with(", inherited"));

    // Born done under a done parent: inherited too.
    auto [late, cancel_late] = asioctx::with_cancel(parent);
    BOOST_TEST(asioctx::cancelled_at(late).inherited);
    BOOST_TEST(asioctx::cancelled_at(late).location.line() == line);

    asioctx::context released;
    {
        auto [c, h] = asioctx::with_cancel(asioctx::background());
        released = c;
    }
    BOOST_TEST((asioctx::cancelled_at(released).source == asioctx::cancel_source::release));
}

BOOST_AUTO_TEST_SUITE_END()
