// Tests for <asioctx/context.hpp>: the handle and the roots.
#include <asioctx/cancel.hpp>
#include <asioctx/context.hpp>

#include <boost/test/unit_test.hpp>

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

BOOST_AUTO_TEST_SUITE_END()
