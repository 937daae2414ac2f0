// Tests for <asioctx/asio/after_func.hpp>.
#include <asioctx/asio/after_func.hpp>
#include <asioctx/asio/deadline.hpp>
#include <asioctx/core/without_cancel.hpp>
#include <asioctx/asio/detail/context_service.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/test/unit_test.hpp>

#include <memory>

using namespace std::chrono_literals;
namespace asio = boost::asio;

BOOST_AUTO_TEST_SUITE(after_func)

BOOST_AUTO_TEST_CASE(runs_once_posted_after_cancel)
{
    asio::io_context ioc;
    auto [ctx, cancel] = asioctx::with_cancel(asioctx::background());
    int calls = 0;
    auto stop = asioctx::after_func(ioc.get_executor(), ctx, [&] { ++calls; });
    BOOST_TEST(asioctx::detail::registration_count(asioctx::detail::access::state_of(ctx)) == 1u);
    cancel();
    BOOST_TEST(calls == 0); // posted, never inline in the cancelling call
    BOOST_TEST(asioctx::detail::registration_count(asioctx::detail::access::state_of(ctx)) == 0u);
    cancel();
    ioc.run();
    BOOST_TEST(calls == 1);
    BOOST_TEST(!stop.stop()); // it already ran
}

// Never inline, also when the cancel comes from a handler running on the very executor
// `f` is posted to (where a dispatch would run it at once).
BOOST_AUTO_TEST_CASE(a_cancel_from_a_handler_on_the_same_executor_still_posts)
{
    asio::io_context ioc;
    auto c = asioctx::with_cancel(asioctx::background());
    int calls = 0;
    bool cancelling = false, ran_inside_cancel = false;
    auto stop = asioctx::after_func(ioc.get_executor(), c.ctx, [&] {
        ++calls;
        ran_inside_cancel = cancelling;
    });
    asio::post(ioc, [&] {
        cancelling = true;
        c.cancel();
        cancelling = false;
    });
    ioc.run();
    BOOST_TEST(calls == 1);
    BOOST_TEST(!ran_inside_cancel);
}

BOOST_AUTO_TEST_CASE(on_done_context_is_posted_at_once)
{
    asio::io_context ioc;
    auto [ctx, cancel] = asioctx::with_cancel(asioctx::background());
    cancel();
    int calls = 0;
    auto stop = asioctx::after_func(ioc.get_executor(), ctx, [&] { ++calls; });
    BOOST_TEST(calls == 0); // not inside after_func
    BOOST_TEST(!stop.stop()); // already scheduled
    ioc.run();
    BOOST_TEST(calls == 1);
}

BOOST_AUTO_TEST_CASE(stop_prevents_the_call)
{
    asio::io_context ioc;
    auto [ctx, cancel] = asioctx::with_cancel(asioctx::background());
    int calls = 0;
    auto stop = asioctx::after_func(ioc.get_executor(), ctx, [&] { ++calls; });
    BOOST_TEST(stop.stop());
    BOOST_TEST(!stop.stop()); // only the first stop prevents it
    cancel();
    ioc.run();
    BOOST_TEST(calls == 0);
}

BOOST_AUTO_TEST_CASE(dropping_the_handle_keeps_the_call)
{
    asio::io_context ioc;
    auto [ctx, cancel] = asioctx::with_cancel(asioctx::background());
    int calls = 0;
    (void)asioctx::after_func(ioc.get_executor(), ctx, [&] { ++calls; });
    cancel();
    ioc.run();
    BOOST_TEST(calls == 1);
}

BOOST_AUTO_TEST_CASE(fires_on_ancestor_cancel_and_on_deadline)
{
    asio::io_context ioc;
    auto root = asioctx::with_executor(asioctx::background(), ioc.get_executor());
    auto [parent, cancel_parent] = asioctx::with_cancel(root);
    auto [child, cancel_child] = asioctx::with_cancel(parent);
    auto [timed, cancel_timed] = asioctx::with_timeout(root, 10ms);
    std::vector<std::string> order;
    auto a = asioctx::after_func(child, [&] { order.push_back("child"); });
    auto b = asioctx::after_func(timed, [&] { order.push_back("timed"); });
    cancel_parent();
    ioc.run();
    BOOST_TEST(order.size() == 2u);
    BOOST_TEST(order[0] == "child");
    BOOST_TEST(order[1] == "timed");
}

BOOST_AUTO_TEST_CASE(never_done_context_never_calls)
{
    asio::io_context ioc;
    int calls = 0;
    auto stop = asioctx::after_func(ioc.get_executor(), asioctx::background(), [&] { ++calls; });
    auto [ctx, cancel] = asioctx::with_cancel(asioctx::background());
    auto detached = asioctx::without_cancel(ctx);
    auto stop2 = asioctx::after_func(ioc.get_executor(), detached, [&] { ++calls; });
    cancel();
    ioc.run();
    BOOST_TEST(calls == 0);
    BOOST_TEST(stop.stop());
    BOOST_TEST(!stop.stop());
}

BOOST_AUTO_TEST_CASE(move_only_callables_are_accepted)
{
    asio::io_context ioc;
    auto [ctx, cancel] = asioctx::with_cancel(asioctx::background());
    auto p = std::make_unique<int>(41);
    int seen = 0;
    auto stop = asioctx::after_func(ioc.get_executor(), ctx, [p = std::move(p), &seen] { seen = *p + 1; });
    cancel();
    ioc.run();
    BOOST_TEST(seen == 42);
}

BOOST_AUTO_TEST_CASE(execution_context_shut_down_first)
{
    // The context outlives the io_context: the call is abandoned at shutdown (destroyed,
    // never run), and cancelling afterwards posts nothing to the dead executor.
    auto [ctx, cancel] = asioctx::with_cancel(asioctx::background());
    auto token = std::make_shared<int>(0);
    int calls = 0;
    asioctx::after_func_handle stop;
    {
        asio::io_context ioc;
        stop = asioctx::after_func(ioc.get_executor(), ctx, [&calls, token] { ++calls; });
        BOOST_TEST(token.use_count() == 2);
        BOOST_TEST(asioctx::detail::service_for(ioc.get_executor()).waiters()->size() == 1u);
    }
    BOOST_TEST(token.use_count() == 1); // abandoned: the function is gone
    BOOST_TEST(asioctx::detail::registration_count(asioctx::detail::access::state_of(ctx)) == 0u);
    cancel();
    BOOST_TEST(calls == 0);
    BOOST_TEST(!stop.stop());
}

BOOST_AUTO_TEST_CASE(stopped_and_fired_calls_are_no_longer_tracked)
{
    asio::io_context ioc;
    auto [ctx, cancel] = asioctx::with_cancel(asioctx::background());
    auto a = asioctx::after_func(ioc.get_executor(), ctx, [] {});
    auto b = asioctx::after_func(ioc.get_executor(), ctx, [] {});
    auto const& waiters = asioctx::detail::service_for(ioc.get_executor()).waiters();
    BOOST_TEST(waiters->size() == 2u);
    BOOST_TEST(a.stop());
    BOOST_TEST(waiters->size() == 1u);
    cancel();
    BOOST_TEST(waiters->size() == 0u);
    ioc.run();
}

BOOST_AUTO_TEST_SUITE_END()
