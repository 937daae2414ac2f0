// libFuzzer target for the parsers that see untrusted header values: request ids,
// traceparent, Authorization, the budget header, the JWT verifier behind them, and the
// framing checks a server makes on a request header (Host, Transfer-Encoding).
// The first byte chooses the parser; the rest is the value. Crashes, sanitizer reports
// and broken round trips are findings.
#include <asioctx/http/budget.hpp>
#include <asioctx/http/field_value.hpp>
#include <asioctx/http/framing.hpp>
#include <asioctx/http/jwt.hpp>
#include <asioctx/http/middleware.hpp>
#include <asioctx/http/request_id.hpp>
#include <asioctx/http/traceparent.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

asioctx::http::jwt_verifier const& verifier()
{
    static asioctx::http::jwt_verifier const v = [] {
        asioctx::http::jwt_options o;
        o.keys = {asioctx::http::jwt_key::hmac(asioctx::http::jwt_key::algorithm::hs256, std::string(32, 'k'))};
        return asioctx::http::jwt_verifier(o);
    }();
    return v;
}

void check(bool ok)
{
    if(!ok)
        std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size)
{
    if(size == 0)
        return 0;
    std::string_view const value(reinterpret_cast<char const*>(data) + 1, size - 1);
    switch(data[0] % 6)
    {
    case 0:
        if(asioctx::http::is_valid_request_id(value))
            check(asioctx::http::is_safe_field_value(value)); // an accepted id is safe to echo
        break;
    case 1:
        if(auto tp = asioctx::http::parse_traceparent(value))
        {
            auto again = asioctx::http::parse_traceparent(tp->to_string());
            check(again && again->trace_id == tp->trace_id && again->parent_id == tp->parent_id);
        }
        break;
    case 2:
        if(auto token = asioctx::http::bearer_token(value))
        {
            check(!token->empty() && asioctx::http::is_safe_field_value(*token));
            (void)verifier()(*token);
        }
        break;
    case 3:
        if(auto budget = asioctx::http::parse_budget(value))
        {
            check(budget->count() >= 0);
            auto back = asioctx::http::parse_budget(asioctx::http::format_budget(*budget));
            check(back && *back <= *budget);
        }
        break;
    case 4:
        (void)verifier()(value);
        (void)asioctx::http::escape_for_log(value);
        break;
    case 5:
    {
        // A request header as Beast parses it off the wire, then the server's checks.
        namespace bhttp = boost::beast::http;
        bhttp::request_parser<bhttp::empty_body> parser;
        parser.eager(false);
        parser.header_limit(8 * 1024);
        boost::system::error_code ec;
        parser.put(boost::asio::buffer(value.data(), value.size()), ec);
        if(!parser.is_header_done())
            break;
        auto const& h = parser.get().base();
        auto const framing = asioctx::http::check_framing(h);
        if(!framing)
        {
            // Accepted: one Host at most (exactly one in HTTP/1.1), and a body framed by
            // Content-Length or by chunked alone.
            check(h.count(bhttp::field::host) <= 1);
            check(h.version() < 11 || h.count(bhttp::field::host) == 1);
            check(h.count(bhttp::field::transfer_encoding) == 0 || h.count(bhttp::field::content_length) == 0);
        }
        else
            check(asioctx::http::status_for(framing) != bhttp::status::internal_server_error);
        break;
    }
    }
    return 0;
}
