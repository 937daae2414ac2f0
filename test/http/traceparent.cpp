// Tests for <asioctx/http/traceparent.hpp>: W3C traceparent parsed strictly.
#include <asioctx/http/traceparent.hpp>

#include <boost/test/unit_test.hpp>

#include <string>

namespace {
constexpr char const* valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
}

BOOST_AUTO_TEST_SUITE(traceparent)

BOOST_AUTO_TEST_CASE(parses_and_formats_version_00)
{
    auto tp = asioctx::http::parse_traceparent(valid);
    BOOST_REQUIRE(tp.has_value());
    BOOST_TEST(tp->trace_id_hex() == "4bf92f3577b34da6a3ce929d0e0e4736");
    BOOST_TEST(tp->flags == 1);
    BOOST_TEST(tp->to_string() == valid);
}

BOOST_AUTO_TEST_CASE(invalid_values_are_refused)
{
    std::string const v = valid;
    for(std::string bad : std::initializer_list<std::string>{
            std::string(),
            v.substr(0, 54),                                        // short
            v + "-extra",                                           // version 00 is exactly 55
            "ff" + v.substr(2),                                     // version ff
            "0g" + v.substr(2),                                     // not hex
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", // uppercase
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01", // zero trace id
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", // zero parent id
            "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", // separator
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x", // flags
            " 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        })
        BOOST_TEST(!asioctx::http::parse_traceparent(bad).has_value(), bad);
}

BOOST_AUTO_TEST_CASE(later_versions_may_extend)
{
    std::string const v = std::string("01") + (valid + 2);
    BOOST_TEST(asioctx::http::parse_traceparent(v).has_value());
    BOOST_TEST(asioctx::http::parse_traceparent(v + "-more").has_value());
    BOOST_TEST(!asioctx::http::parse_traceparent(v + "more").has_value());
}

BOOST_AUTO_TEST_CASE(next_hop_keeps_the_trace_and_changes_the_parent)
{
    auto tp = *asioctx::http::parse_traceparent(valid);
    auto next = tp.next_hop();
    BOOST_TEST(next.trace_id_hex() == tp.trace_id_hex());
    BOOST_TEST(next.flags == tp.flags);
    BOOST_TEST((next.parent_id != tp.parent_id));
    BOOST_TEST(asioctx::http::parse_traceparent(next.to_string()).has_value());
}

BOOST_AUTO_TEST_CASE(carried_by_the_context)
{
    auto root = asioctx::background();
    BOOST_TEST(asioctx::http::traceparent(root) == nullptr);
    auto ctx = asioctx::http::with_traceparent(root, *asioctx::http::parse_traceparent(valid));
    BOOST_REQUIRE(asioctx::http::traceparent(ctx) != nullptr);
    BOOST_TEST(asioctx::http::traceparent(ctx)->to_string() == valid);
}

BOOST_AUTO_TEST_SUITE_END()
