// Tests for <asioctx/http/budget.hpp>: the grpc-timeout grammar, both ways.
#include <asioctx/http/budget.hpp>

#include <boost/test/unit_test.hpp>

#include <string>

using namespace std::chrono_literals;
using asioctx::http::format_budget;
using asioctx::http::parse_budget;

BOOST_AUTO_TEST_SUITE(budget)

BOOST_AUTO_TEST_CASE(every_unit)
{
    BOOST_TEST((parse_budget("2H") == std::chrono::nanoseconds(2h)));
    BOOST_TEST((parse_budget("3M") == std::chrono::nanoseconds(3min)));
    BOOST_TEST((parse_budget("4S") == std::chrono::nanoseconds(4s)));
    BOOST_TEST((parse_budget("250m") == std::chrono::nanoseconds(250ms)));
    BOOST_TEST((parse_budget("7u") == std::chrono::nanoseconds(7us)));
    BOOST_TEST((parse_budget("9n") == std::chrono::nanoseconds(9)));
    BOOST_TEST((parse_budget("0m") == std::chrono::nanoseconds(0)));
    BOOST_TEST((parse_budget("99999999S") == std::chrono::nanoseconds(99999999s)));
}

BOOST_AUTO_TEST_CASE(malformed_counts_as_absent)
{
    for(std::string bad : std::initializer_list<std::string>{"", "m", "250", "250ms", "250 m", " 250m", "-1m", "+1m", "1.5S", "123456789m", "1h", "1s",
            "1x", "0x10m", std::string("1\0m", 3)})
        BOOST_TEST(!parse_budget(bad).has_value(), bad);
}

BOOST_AUTO_TEST_CASE(huge_values_saturate)
{
    BOOST_TEST((parse_budget("99999999H") == std::chrono::nanoseconds::max()));
}

BOOST_AUTO_TEST_CASE(formatting_rounds_down_and_round_trips)
{
    BOOST_TEST(format_budget(250ms) == "250000u"); // 250000000n would be 9 digits
    BOOST_TEST(format_budget(99ms) == "99000000n");
    BOOST_TEST(format_budget(0ns) == "0n");
    BOOST_TEST(format_budget(-5ms) == "0n");
    BOOST_TEST(format_budget(1h) == "3600000m");
    BOOST_TEST(format_budget(std::chrono::nanoseconds(123456789012)) == "123456m"); // rounded down
    for(std::chrono::nanoseconds d : std::initializer_list<std::chrono::nanoseconds>{1ns, 999ns, 1500us, 250ms, 90s, 26h})
    {
        auto text = format_budget(d);
        auto back = parse_budget(text);
        BOOST_REQUIRE(back.has_value());
        BOOST_TEST((*back <= std::chrono::nanoseconds(d)), text);
        BOOST_TEST((std::chrono::nanoseconds(d) - *back < std::chrono::nanoseconds(d) / 1000 + 1ns), text);
    }
}

// What real peers send: Go (to the microsecond), gRPC's C++ core (milliseconds rounded
// up to three significant digits, seconds, hours) and long budgets in milliseconds.
BOOST_AUTO_TEST_CASE(accepts_what_grpc_peers_send)
{
    BOOST_TEST((parse_budget("249936u") == std::chrono::nanoseconds(249'936'000)));
    BOOST_TEST((parse_budget("51m") == std::chrono::nanoseconds(51ms)));
    BOOST_TEST((parse_budget("1010m") == std::chrono::nanoseconds(1010ms)));
    BOOST_TEST((parse_budget("101S") == std::chrono::nanoseconds(101s)));
    BOOST_TEST((parse_budget("1H") == std::chrono::nanoseconds(1h)));
    BOOST_TEST((parse_budget("10800000m") == std::chrono::nanoseconds(3h)));
}

BOOST_AUTO_TEST_SUITE_END()
