//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//
// The Authorization header's Bearer syntax (RFC 6750), apart from the middleware so that
// the fuzz target can build it without coroutines.

#include <asioctx/http/middleware.hpp>

#include <boost/beast/core/string.hpp>

#include <array>

namespace asioctx::http {

namespace {

// RFC 6750's b64token: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
bool is_b64token(std::string_view t) noexcept
{
    static constexpr auto allowed = [] {
        std::array<bool, 256> table{};
        for(unsigned char c : std::string_view("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/"))
            table[c] = true;
        return table;
    }();
    std::size_t i = 0;
    while(i < t.size() && allowed[static_cast<unsigned char>(t[i])])
        ++i;
    if(i == 0)
        return false;
    for(; i < t.size(); ++i)
        if(t[i] != '=')
            return false;
    return true;
}

} // namespace

std::optional<std::string_view> bearer_token(std::string_view value) noexcept
{
    auto const space = value.find(' ');
    if(space == value.npos || !boost::beast::iequals(value.substr(0, space), "Bearer"))
        return std::nullopt;
    auto token = value.substr(space);
    while(!token.empty() && token.front() == ' ')
        token.remove_prefix(1);
    if(!is_b64token(token))
        return std::nullopt;
    return token;
}

} // namespace asioctx::http
