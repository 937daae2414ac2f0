// Tests for <asioctx/http/error.hpp>: the category and its messages.
#include <asioctx/http/error.hpp>

#include <boost/test/unit_test.hpp>

#include <set>
#include <sstream>
#include <string>

BOOST_AUTO_TEST_SUITE(http_error)

BOOST_AUTO_TEST_CASE(category_and_messages)
{
    using asioctx::http::error;
    boost::system::error_code ec = error::expired;
    BOOST_TEST(std::string(ec.category().name()) == "asioctx.http");
    BOOST_TEST((ec.category() == asioctx::http::error_category()));
    for(int e = static_cast<int>(error::token_malformed); e <= static_cast<int>(error::unsupported_extension); ++e)
    {
        boost::system::error_code code(e, asioctx::http::error_category());
        BOOST_TEST(code.message() != "unknown asioctx.http error", e);
        BOOST_TEST(code.message().find("token") != std::string::npos, e);
    }
    // Each client error has a message of its own.
    std::set<std::string> messages;
    for(int e = static_cast<int>(error::bad_url); e <= static_cast<int>(error::too_many_redirects); ++e)
    {
        boost::system::error_code code(e, asioctx::http::error_category());
        BOOST_TEST(code.message() != "unknown asioctx.http error", e);
        messages.insert(code.message());
    }
    BOOST_TEST(messages.size() == static_cast<std::size_t>(error::too_many_redirects) - static_cast<std::size_t>(error::bad_url) + 1);
}

BOOST_AUTO_TEST_CASE(errors_print_their_message_and_code)
{
    std::ostringstream os;
    os << asioctx::http::error::token_malformed;
    BOOST_TEST(os.str() == "token malformed [asioctx.http:" + std::to_string(int(asioctx::http::error::token_malformed)) + "]");
    boost::system::error_code const ec = asioctx::http::error::expired;
    BOOST_TEST(ec == asioctx::http::error::expired);
}

BOOST_AUTO_TEST_SUITE_END()
