//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#include <asioctx/http/error.hpp>

#include <ostream>

namespace asioctx::http::detail {

namespace {

char const* error_text(int ev) noexcept
{
    switch(static_cast<error>(ev))
    {
    case error::token_malformed:
        return "token malformed";
    case error::token_too_large:
        return "token too large";
    case error::algorithm_mismatch:
        return "token algorithm is not the key's";
    case error::unknown_key:
        return "token names no configured key";
    case error::bad_signature:
        return "token signature does not verify";
    case error::missing_expiry:
        return "token has no expiry";
    case error::expired:
        return "token expired";
    case error::not_yet_valid:
        return "token not yet valid";
    case error::wrong_issuer:
        return "token issuer not accepted";
    case error::wrong_audience:
        return "token audience not accepted";
    case error::unsupported_extension:
        return "token header has critical extensions";
    case error::client_disconnected:
        return "client disconnected";
    case error::server_shutdown:
        return "server shut down";
    case error::bad_url:
        return "not an absolute http or https URL";
    case error::unsafe_field:
        return "request field not safe to send";
    case error::resolve_failed:
        return "host name did not resolve";
    case error::connection_refused:
        return "connection refused";
    case error::connect_failed:
        return "connect failed";
    case error::tls_failed:
        return "TLS handshake failed";
    case error::connection_lost:
        return "connection lost while sending the request";
    case error::closed_before_response:
        return "connection closed before the response";
    case error::closed_mid_body:
        return "connection closed in the middle of the response";
    case error::response_too_large:
        return "response body too large";
    case error::malformed_response:
        return "malformed response";
    case error::too_many_redirects:
        return "too many redirects";
    case error::too_many_interim_responses:
        return "too many interim (1xx) responses";
    case error::missing_host:
        return "HTTP/1.1 request without Host";
    case error::multiple_hosts:
        return "request with more than one Host";
    case error::unsupported_transfer_coding:
        return "request transfer coding not implemented";
    case error::bad_transfer_encoding:
        return "request Transfer-Encoding malformed";
    case error::request_body_too_large:
        return "request body too large";
    case error::malformed_request_body:
        return "request body malformed";
    case error::request_body_timeout:
        return "request body timed out";
    }
    return "unknown asioctx.http error";
}

} // namespace

char const* error_category_impl::name() const noexcept
{
    return "asioctx.http";
}

std::string error_category_impl::message(int ev) const
{
    return error_text(ev);
}

char const* error_category_impl::message(int ev, char*, std::size_t) const noexcept
{
    return error_text(ev);
}

} // namespace asioctx::http::detail

namespace asioctx::http {

std::ostream& operator<<(std::ostream& os, error e)
{
    return os << error_category().message(static_cast<int>(e)) << " [" << error_category().name() << ':'
              << static_cast<int>(e) << ']';
}

} // namespace asioctx::http
