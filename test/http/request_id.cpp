// Tests for <asioctx/http/request_id.hpp>: validation, minting, the context accessor.
#include <asioctx/core/cancel.hpp>
#include <asioctx/http/request_id.hpp>

#include <boost/test/unit_test.hpp>

#include <set>
#include <string>

using namespace std::string_literals;

BOOST_AUTO_TEST_SUITE(request_id)

BOOST_AUTO_TEST_CASE(default_charset_and_length)
{
    using asioctx::http::is_valid_request_id;
    BOOST_TEST(is_valid_request_id("abc-123_x"s.substr(0, 7))); // "abc-123"
    BOOST_TEST(is_valid_request_id("req.7f3a:01-Z"));
    BOOST_TEST(is_valid_request_id(std::string(128, 'a')));
    BOOST_TEST(!is_valid_request_id(std::string(129, 'a')));
    BOOST_TEST(!is_valid_request_id(""));
    for(auto bad : {"a b"s, "a\r\nX: y"s, "a\0b"s, "<script>"s, "a/b"s, "caf\xc3\xa9"s, "a\"b"s})
        BOOST_TEST(!is_valid_request_id(bad), bad);
}

BOOST_AUTO_TEST_CASE(configurable)
{
    asioctx::http::request_id_options o;
    o.punctuation = "_";
    o.min_size = 4;
    o.max_size = 8;
    BOOST_TEST(asioctx::http::is_valid_request_id("ab_cd", o));
    BOOST_TEST(!asioctx::http::is_valid_request_id("ab-cd", o));
    BOOST_TEST(!asioctx::http::is_valid_request_id("abc", o));
    BOOST_TEST(!asioctx::http::is_valid_request_id("abcdefghi", o));
}

BOOST_AUTO_TEST_CASE(minted_ids_are_128_random_bits)
{
    std::set<std::string> seen;
    for(int i = 0; i < 1000; ++i)
    {
        auto id = asioctx::http::mint_request_id();
        BOOST_REQUIRE(id.size() == 32u);
        BOOST_REQUIRE(id.find_first_not_of("0123456789abcdef") == std::string::npos);
        BOOST_REQUIRE(asioctx::http::is_valid_request_id(id));
        seen.insert(id);
    }
    BOOST_TEST(seen.size() == 1000u);
}

BOOST_AUTO_TEST_CASE(carried_by_the_context)
{
    auto root = asioctx::background();
    BOOST_TEST(asioctx::http::request_id(root).empty());
    auto ctx = asioctx::http::with_request_id(root, "req-1");
    auto [child, cancel] = asioctx::with_cancel(ctx);
    BOOST_TEST(asioctx::http::request_id(child) == "req-1");
}

BOOST_AUTO_TEST_SUITE_END()
