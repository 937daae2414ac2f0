//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//
// The Authorization header's Bearer syntax (RFC 6750), apart from the middleware so that
// the fuzz target can build it without coroutines.

#include <asioctx/http/middleware.hpp>

namespace asioctx::http {

namespace {

bool iequals(std::string_view a, std::string_view b) noexcept
{
    if(a.size() != b.size())
        return false;
    for(std::size_t i = 0; i < a.size(); ++i)
    {
        auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
        if(lower(a[i]) != lower(b[i]))
            return false;
    }
    return true;
}

// b64token: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
bool is_b64token(std::string_view t) noexcept
{
    std::size_t i = 0;
    for(; i < t.size(); ++i)
    {
        char c = t[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
            c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
        if(!ok)
            break;
    }
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
    if(space == value.npos || !iequals(value.substr(0, space), "Bearer"))
        return std::nullopt;
    auto token = value.substr(space);
    while(!token.empty() && token.front() == ' ')
        token.remove_prefix(1);
    if(!is_b64token(token))
        return std::nullopt;
    return token;
}

} // namespace asioctx::http
