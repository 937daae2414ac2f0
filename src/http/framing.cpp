//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#include <asioctx/http/framing.hpp>
#include <asioctx/http/field_value.hpp>

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/system/system_error.hpp>

#include <string_view>

namespace asioctx::http {

namespace bhttp = boost::beast::http;
using request_header = bhttp::request_header<>;

namespace {

boost::system::error_code fail(error e) noexcept
{
    static constexpr auto loc = BOOST_CURRENT_LOCATION;
    return make_error_code(e, &loc);
}


// Every coding of every Transfer-Encoding field, in order: exactly one, `chunked`, is
// accepted. Go's net/http and nginx accept nothing else either (501 for an unknown
// coding).
boost::system::error_code check_transfer_encoding(request_header const& header)
{
    int codings = 0;
    bool chunked = false;
    bool other = false;
    bool empty_member = false;
    for(auto it = header.find(bhttp::field::transfer_encoding);
        it != header.end() && it->name() == bhttp::field::transfer_encoding; ++it)
    {
        std::string_view list = it->value();
        for(;;)
        {
            auto const comma = list.find(',');
            auto const member = trim_ows(list.substr(0, comma));
            if(member.empty())
                empty_member = true;
            else
            {
                ++codings;
                if(boost::beast::iequals(member, "chunked"))
                    chunked = true;
                else
                    other = true;
            }
            if(comma == std::string_view::npos)
                break;
            list.remove_prefix(comma + 1);
        }
    }
    if(codings == 0 && !empty_member)
        return {};
    if(other)
        return fail(error::unsupported_transfer_coding);
    if(codings != 1 || empty_member || !chunked)
        return fail(error::bad_transfer_encoding);
    if(header.count(bhttp::field::content_length) != 0)
        return fail(error::bad_transfer_encoding);
    return {};
}

} // namespace

boost::system::error_code check_framing(request_header const& header)
{
    auto const hosts = header.count(bhttp::field::host);
    if(hosts > 1)
        return fail(error::multiple_hosts);
    if(hosts == 0 && header.version() >= 11)
        return fail(error::missing_host);
    return check_transfer_encoding(header);
}

bhttp::status status_for(boost::system::error_code const& ec) noexcept
{
    if(ec.category() != error_category())
        return bhttp::status::internal_server_error;
    switch(static_cast<error>(ec.value()))
    {
    case error::missing_host:
    case error::multiple_hosts:
    case error::bad_transfer_encoding:
    case error::malformed_request_body:
        return bhttp::status::bad_request;
    case error::request_body_timeout:
        return bhttp::status::request_timeout;
    case error::request_body_too_large:
        return bhttp::status::payload_too_large;
    case error::unsupported_transfer_coding:
        return bhttp::status::not_implemented;
    default:
        return bhttp::status::internal_server_error;
    }
}

bhttp::status status_for(std::exception_ptr const& e) noexcept
{
    if(!e)
        return bhttp::status::internal_server_error;
    try
    {
        std::rethrow_exception(e);
    }
    catch(boost::system::system_error const& se)
    {
        return status_for(se.code());
    }
    catch(...)
    {
    }
    return bhttp::status::internal_server_error;
}

} // namespace asioctx::http
