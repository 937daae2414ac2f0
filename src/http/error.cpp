//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#include <asioctx/http/error.hpp>

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
