// Tests for <asioctx/http/field_value.hpp>: what may be written into a header, and
// what a log line gets.
#include <asioctx/http/field_value.hpp>

#include <boost/test/unit_test.hpp>

#include <string>

using namespace std::string_literals;

BOOST_AUTO_TEST_SUITE(field_value)

BOOST_AUTO_TEST_CASE(visible_ascii_space_and_tab_only)
{
    BOOST_TEST(asioctx::http::is_safe_field_value("abc-123 x\ty=z;q=\"v\""));
    BOOST_TEST(asioctx::http::is_safe_field_value(""));
    for(auto bad : {"a\r\nSet-Cookie: x=1"s, "a\nb"s, "a\rb"s, "a\0b"s, "\x7f"s, "caf\xc3\xa9"s, "\x01"s})
        BOOST_TEST(!asioctx::http::is_safe_field_value(bad));
    BOOST_TEST(asioctx::http::is_safe_field_value(std::string(100, 'a'), 100));
    BOOST_TEST(!asioctx::http::is_safe_field_value(std::string(101, 'a'), 100));
}

BOOST_AUTO_TEST_CASE(log_escaping)
{
    using asioctx::http::escape_for_log;
    BOOST_TEST(escape_for_log("GET /a") == "GET /a");
    BOOST_TEST(escape_for_log("a\r\nb") == "a\\x0d\\x0ab");
    BOOST_TEST(escape_for_log("say \"hi\" \\") == "say \\\"hi\\\" \\\\");
    BOOST_TEST(escape_for_log("\xff\x00"s) == "\\xff\\x00");
    BOOST_TEST(escape_for_log(std::string(10, 'x'), 4) == "xxxx...");
}

BOOST_AUTO_TEST_SUITE_END()
