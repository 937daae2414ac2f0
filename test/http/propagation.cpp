// Tests for <asioctx/http/propagation.hpp>: one policy for budgets, tracestate and
// baggage at every hop.
#include <asioctx/http/propagation.hpp>
#include <asioctx/asio/deadline.hpp>
#include <asioctx/asio/executor.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <initializer_list>
#include <string>

namespace ahttp = asioctx::http;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(http_propagation)

BOOST_AUTO_TEST_CASE(the_smallest_valid_inbound_budget_wins)
{
    ahttp::propagation_policy policy;
    boost::beast::http::fields h;
    BOOST_TEST(!ahttp::inbound_budget(h, policy));
    h.set("Request-Timeout", "5S");
    h.set("grpc-timeout", "3S");
    h.set("x-envoy-expected-rq-timeout-ms", "1500");
    BOOST_TEST((*ahttp::inbound_budget(h, policy) == 1500ms));
    h.set("x-envoy-expected-rq-timeout-ms", "15m"); // not milliseconds digits: absent
    BOOST_TEST((*ahttp::inbound_budget(h, policy) == 3s));
    h.insert("grpc-timeout", "1S"); // sent twice: which one was meant? absent
    BOOST_TEST((*ahttp::inbound_budget(h, policy) == 5s));
    h.set("Request-Timeout", "99H");
    h.erase("grpc-timeout");
    BOOST_TEST((*ahttp::inbound_budget(h, policy) == 30s)); // clamped to inbound_max
    policy.inbound_budgets = {{"x-deadline-ms", ahttp::budget_format::milliseconds}};
    BOOST_TEST(!ahttp::inbound_budget(h, policy)); // only the configured headers count
    for(std::string bad : {"", "-1", "+5", "1 0", "12345678901", "0x10"})
        BOOST_TEST(!ahttp::parse_budget(bad, ahttp::budget_format::milliseconds), bad);
    BOOST_TEST((*ahttp::parse_budget("9999999999", ahttp::budget_format::milliseconds) == 9999999999ms));
    BOOST_TEST(ahttp::format_budget(1999999us, ahttp::budget_format::milliseconds) == "1999"); // rounded down
    BOOST_TEST(ahttp::format_budget(-5ms, ahttp::budget_format::milliseconds) == "0");
}

BOOST_AUTO_TEST_CASE(the_outbound_budget_keeps_the_reserve_and_the_maximum)
{
    boost::asio::io_context ioc;
    auto root = asioctx::with_executor(asioctx::background(), ioc.get_executor());
    ahttp::propagation_policy policy;
    BOOST_TEST(!ahttp::outbound_budget(root, policy)); // no deadline, nothing to tell
    auto [ctx, cancel] = asioctx::with_timeout(root, 10s);
    auto b = *ahttp::outbound_budget(ctx, policy);
    BOOST_TEST((b <= 10s && b > 9s));
    policy.reserve = 2s;
    b = *ahttp::outbound_budget(ctx, policy);
    BOOST_TEST((b <= 8s && b > 7s));
    policy.outbound_max = 3s;
    BOOST_TEST((*ahttp::outbound_budget(ctx, policy) == 3s));
    policy.reserve = 11s;
    BOOST_TEST((*ahttp::outbound_budget(ctx, policy) <= 0s)); // nothing left for the next hop
    policy.reserve = std::chrono::milliseconds::max(); // beyond nanoseconds: saturates
    BOOST_TEST((*ahttp::outbound_budget(ctx, policy) <= 0s));
    policy.reserve = 0ms;
    policy.outbound_max = std::chrono::hours(24 * 365 * 300); // a cap beyond nanoseconds: none
    b = *ahttp::outbound_budget(ctx, policy);
    BOOST_TEST((b <= 10s && b > 9s));
}

BOOST_AUTO_TEST_CASE(tracestate_is_validated_and_cut)
{
    BOOST_TEST(*ahttp::parse_tracestate("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE") ==
        "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
    BOOST_TEST(*ahttp::parse_tracestate(" a=1 ,, \tb@sys=x y ") == "a=1,b@sys=x y"); // OWS, empty members
    BOOST_TEST(*ahttp::parse_tracestate("0tenant@sys=v") == "0tenant@sys=v");
    for(std::string bad : std::initializer_list<std::string>{"A=1", "a", "a=", "a=1,a=2", "a=1=2", "a=b,c",
            "1a=x", "a@=x", "a@Sys=x", "a=\x7f", "a=\xc3\xa9", "a=1\r\nb=2"})
        BOOST_TEST(!ahttp::parse_tracestate(bad), bad);
    std::string many;
    for(int i = 0; i < 33; ++i)
        many += (i ? ",k" : "k") + std::to_string(i) + "=v";
    BOOST_TEST(!ahttp::parse_tracestate(many)); // more than 32 members
    // Over the limit: the member over 128 characters goes first, then from the end.
    std::string const big = "big=" + std::string(200, 'x');
    auto cut = ahttp::parse_tracestate("a=1," + big + ",b=2,c=3", 9);
    BOOST_TEST(*cut == "a=1,b=2");
    BOOST_TEST(!ahttp::parse_tracestate("a=1", 2)); // nothing fits
}

BOOST_AUTO_TEST_CASE(baggage_is_validated_and_cut)
{
    BOOST_TEST(*ahttp::parse_baggage("userId=alice, serverNode = DF%2028;meta;x=1") ==
        "userId=alice,serverNode = DF%2028;meta;x=1");
    for(std::string bad : {"", "a", "=v", "a=b c", "a=\"q\"", "a=1,,b=2", "a=1;", "k=v\r\nX: y", "a b=1"})
        BOOST_TEST(!ahttp::parse_baggage(bad), bad);
    std::string many;
    for(int i = 0; i < 70; ++i)
        many += (i ? ",k" : "k") + std::to_string(i) + "=v";
    auto cut = ahttp::parse_baggage(many);
    BOOST_REQUIRE(cut);
    BOOST_TEST(std::count(cut->begin(), cut->end(), ',') == 63); // 64 members kept
    BOOST_TEST(*ahttp::parse_baggage("a=1,b=2,c=3", 7) == "a=1,b=2");
}

BOOST_AUTO_TEST_CASE(inbound_fields_become_context_values)
{
    boost::beast::http::fields h;
    auto none = ahttp::with_inbound_trace_fields(asioctx::background(), h, {});
    BOOST_TEST(ahttp::tracestate(none).empty());
    h.insert("tracestate", "a=1");
    h.insert("tracestate", "b=2"); // two lines are one list
    h.insert("baggage", "bad value");
    auto ctx = ahttp::with_inbound_trace_fields(asioctx::background(), h, {});
    BOOST_TEST(ahttp::tracestate(ctx) == "a=1,b=2");
    BOOST_TEST(ahttp::baggage(ctx).empty()); // invalid: dropped
    auto direct = ahttp::with_trace_fields(asioctx::background(), "X=bad", "k=v");
    BOOST_TEST(ahttp::tracestate(direct).empty());
    BOOST_TEST(ahttp::baggage(direct) == "k=v");
}

BOOST_AUTO_TEST_SUITE_END()
