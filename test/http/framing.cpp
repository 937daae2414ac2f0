// Tests for <asioctx/http/framing.hpp>: which request headers are refused, and the
// status each request error is answered with.
#include <asioctx/http/error.hpp>
#include <asioctx/http/framing.hpp>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/system/system_error.hpp>
#include <boost/test/unit_test.hpp>

#include <string>

namespace bhttp = boost::beast::http;
namespace ahttp = asioctx::http;
using boost::system::error_code;

namespace {

// The header as Beast parses it from the wire.
error_code framing_of(std::string const& head)
{
    bhttp::request_parser<bhttp::empty_body> parser;
    parser.eager(false);
    error_code ec;
    std::string const text = head + "\r\n";
    parser.put(boost::asio::buffer(text), ec);
    if(ec && ec != bhttp::error::need_more)
        return ec;
    return ahttp::check_framing(parser.get().base());
}

} // namespace

BOOST_AUTO_TEST_SUITE(http_framing)

BOOST_AUTO_TEST_CASE(host_exactly_once_in_http_1_1)
{
    BOOST_TEST(!framing_of("GET / HTTP/1.1\r\nHost: a\r\n"));
    BOOST_TEST((framing_of("GET / HTTP/1.1\r\n") == ahttp::error::missing_host));
    BOOST_TEST((framing_of("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n") == ahttp::error::multiple_hosts));
    BOOST_TEST((framing_of("GET / HTTP/1.1\r\nHost: a\r\nX: y\r\nhost: a\r\n") == ahttp::error::multiple_hosts));
    BOOST_TEST(!framing_of("GET / HTTP/1.0\r\n")); // HTTP/1.0 needs none
    BOOST_TEST((framing_of("GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n") == ahttp::error::multiple_hosts));
}

BOOST_AUTO_TEST_CASE(only_chunked_alone_is_a_transfer_encoding)
{
    auto te = [](std::string const& fields) { return framing_of("POST / HTTP/1.1\r\nHost: a\r\n" + fields); };
    BOOST_TEST(!te("Transfer-Encoding: chunked\r\n"));
    BOOST_TEST(!te("Transfer-Encoding: Chunked \r\n"));
    BOOST_TEST((te("Transfer-Encoding: gzip\r\n") == ahttp::error::unsupported_transfer_coding));
    BOOST_TEST((te("Transfer-Encoding: identity\r\n") == ahttp::error::unsupported_transfer_coding));
    BOOST_TEST((te("Transfer-Encoding: chunked, gzip\r\n") == ahttp::error::unsupported_transfer_coding));
    BOOST_TEST((te("Transfer-Encoding: gzip, chunked\r\n") == ahttp::error::unsupported_transfer_coding));
    BOOST_TEST((te("Transfer-Encoding: xchunked\r\n") == ahttp::error::unsupported_transfer_coding));
    BOOST_TEST((te("Transfer-Encoding: chunked,\r\n") == ahttp::error::bad_transfer_encoding));
    BOOST_TEST(!te("Content-Length: 5\r\n"));
    // Beast's parser refuses these itself; a header made by other means is checked too.
    BOOST_TEST(te("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"));
    BOOST_TEST(te("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"));
    bhttp::request<bhttp::empty_body> twice(bhttp::verb::post, "/", 11);
    twice.set(bhttp::field::host, "a");
    twice.insert(bhttp::field::transfer_encoding, "chunked");
    twice.insert(bhttp::field::transfer_encoding, "chunked");
    BOOST_TEST((ahttp::check_framing(twice.base()) == ahttp::error::bad_transfer_encoding));
    bhttp::request<bhttp::empty_body> with_length(bhttp::verb::post, "/", 11);
    with_length.set(bhttp::field::host, "a");
    with_length.set(bhttp::field::transfer_encoding, "chunked");
    with_length.set(bhttp::field::content_length, "5");
    BOOST_TEST((ahttp::check_framing(with_length.base()) == ahttp::error::bad_transfer_encoding));
}

BOOST_AUTO_TEST_CASE(each_request_error_has_its_status)
{
    using s = bhttp::status;
    BOOST_TEST((ahttp::status_for(ahttp::error::missing_host) == s::bad_request));
    BOOST_TEST((ahttp::status_for(ahttp::error::multiple_hosts) == s::bad_request));
    BOOST_TEST((ahttp::status_for(ahttp::error::bad_transfer_encoding) == s::bad_request));
    BOOST_TEST((ahttp::status_for(ahttp::error::malformed_request_body) == s::bad_request));
    BOOST_TEST((ahttp::status_for(ahttp::error::request_body_timeout) == s::request_timeout));
    BOOST_TEST((ahttp::status_for(ahttp::error::request_body_too_large) == s::payload_too_large));
    BOOST_TEST((ahttp::status_for(ahttp::error::unsupported_transfer_coding) == s::not_implemented));
    BOOST_TEST((ahttp::status_for(ahttp::error::expired) == s::internal_server_error));
    BOOST_TEST((ahttp::status_for(error_code()) == s::internal_server_error));
    auto thrown = [](auto e) {
        try
        {
            throw e;
        }
        catch(...)
        {
            return std::current_exception();
        }
    };
    BOOST_TEST((ahttp::status_for(thrown(boost::system::system_error(ahttp::error::request_body_too_large))) ==
        s::payload_too_large));
    BOOST_TEST((ahttp::status_for(thrown(std::runtime_error("x"))) == s::internal_server_error));
    BOOST_TEST((ahttp::status_for(std::exception_ptr()) == s::internal_server_error));
}

BOOST_AUTO_TEST_SUITE_END()
