// Tests for <asioctx/asio/executor.hpp>: the executor a tree schedules on.
#include <asioctx/asio/after_func.hpp>
#include <asioctx/asio/deadline.hpp>
#include <asioctx/asio/executor.hpp>
#include <asioctx/core/without_cancel.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/test/unit_test.hpp>

using namespace std::chrono_literals;
namespace asio = boost::asio;

BOOST_AUTO_TEST_SUITE(executor)

BOOST_AUTO_TEST_CASE(inherited_by_descendants)
{
    asio::io_context ioc;
    BOOST_TEST(asioctx::executor_of(asioctx::background()) == nullptr);
    auto root = asioctx::with_executor(asioctx::background(), ioc.get_executor());
    auto [child, cancel] = asioctx::with_cancel(root);
    auto detached = asioctx::without_cancel(child);
    for(auto const* c : {&root, &child, &detached})
    {
        auto ex = asioctx::executor_of(*c);
        BOOST_TEST_REQUIRE(ex != nullptr);
        BOOST_TEST((*ex == asio::any_io_executor(ioc.get_executor())));
    }
}

BOOST_AUTO_TEST_CASE(nearest_executor_overrides)
{
    asio::io_context a, b;
    auto root = asioctx::with_executor(asioctx::background(), a.get_executor());
    auto inner = asioctx::with_executor(root, b.get_executor());
    BOOST_TEST((*asioctx::executor_of(inner) == asio::any_io_executor(b.get_executor())));
    auto [ctx, cancel] = asioctx::with_timeout(inner, 10ms);
    BOOST_TEST(a.run() == 0u); // nothing was scheduled on a
    b.run();
    BOOST_TEST((ctx.err() == asioctx::error::deadline_exceeded));
}

BOOST_AUTO_TEST_CASE(deadline_uses_the_tree_executor)
{
    asio::io_context ioc;
    auto strand = asio::make_strand(ioc);
    auto root = asioctx::with_executor(asioctx::background(), strand);
    auto [ctx, cancel] = asioctx::with_timeout(root, 10ms);
    ioc.run();
    BOOST_TEST((ctx.err() == asioctx::error::deadline_exceeded));
}

BOOST_AUTO_TEST_CASE(missing_executor_is_an_error_not_a_silent_hang)
{
    auto [ctx, cancel] = asioctx::with_cancel(asioctx::background());
    BOOST_CHECK_THROW((void)asioctx::with_timeout(ctx, 1s), boost::system::system_error);
    BOOST_CHECK_THROW((void)asioctx::after_func(ctx, [] {}), boost::system::system_error);
    BOOST_CHECK_THROW((void)asioctx::with_executor(ctx, asio::any_io_executor()), boost::system::system_error);
}

BOOST_AUTO_TEST_SUITE_END()
