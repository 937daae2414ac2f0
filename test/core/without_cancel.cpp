// Tests for <asioctx/core/without_cancel.hpp>.
#include <asioctx/asio/after_func.hpp>
#include <asioctx/asio/deadline.hpp>
#include <asioctx/core/value.hpp>
#include <asioctx/core/without_cancel.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {
inline constexpr asioctx::key<std::string> tenant{"tenant"};
}

BOOST_AUTO_TEST_SUITE(without_cancel)

BOOST_AUTO_TEST_CASE(keeps_values_drops_cancellation_deadline_and_cause)
{
    asio::io_context ioc;
    auto valued = asioctx::with_value(asioctx::background(), tenant, "acme");
    auto [parent, cancel_parent] = asioctx::with_timeout(ioc.get_executor(), valued, 1h);
    auto detached = asioctx::without_cancel(parent);
    BOOST_TEST(*detached.value(tenant) == "acme");
    BOOST_TEST(!detached.deadline().has_value());
    cancel_parent(asio::error::eof);
    BOOST_TEST(parent.done());
    BOOST_TEST(!detached.done());
    BOOST_TEST(!detached.err());
    BOOST_TEST(!asioctx::cause(detached));
    BOOST_TEST(asioctx::detail::access::state_of(detached) == &asioctx::detail::never_node);
}

BOOST_AUTO_TEST_CASE(of_a_done_parent_is_live)
{
    auto [parent, cancel] = asioctx::with_cancel(asioctx::background());
    cancel();
    auto detached = asioctx::without_cancel(parent);
    BOOST_TEST(!detached.done());
    auto [child, cancel_child] = asioctx::with_cancel(detached);
    BOOST_TEST(!child.done());
}

BOOST_AUTO_TEST_CASE(gets_its_own_ceiling)
{
    asio::io_context ioc;
    auto [request, cancel_request] = asioctx::with_timeout(ioc.get_executor(), asioctx::background(), 1h);
    auto [send, cancel_send] = asioctx::with_timeout(ioc.get_executor(), asioctx::without_cancel(request), 10ms);
    cancel_request();
    BOOST_TEST(!send.done());
    ioc.run();
    BOOST_TEST((send.err() == asioctx::error::deadline_exceeded));
}

BOOST_AUTO_TEST_SUITE_END()
