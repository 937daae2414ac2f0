//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#include <asioctx/http/request_id.hpp>
#include <asioctx/core/value.hpp>

#include <openssl/rand.h>

#include <stdexcept>

namespace asioctx::http {

namespace {
constinit key<std::string> const request_id_key{"asioctx.http.request_id"};
}

bool is_valid_request_id(std::string_view id, request_id_options const& options) noexcept
{
    if(id.size() < options.min_size || id.size() > options.max_size)
        return false;
    for(char c : id)
    {
        bool const alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if(!alnum && (c == '\0' || options.punctuation.find(c) == std::string::npos))
            return false;
    }
    return true;
}

std::string mint_request_id()
{
    static constexpr char hex[] = "0123456789abcdef";
    unsigned char bits[16];
    if(RAND_bytes(bits, sizeof(bits)) != 1)
        throw std::runtime_error("asioctx::http::mint_request_id: OpenSSL's generator failed");
    std::string id(32, '0');
    for(std::size_t i = 0; i < sizeof(bits); ++i)
    {
        id[2 * i] = hex[bits[i] >> 4];
        id[2 * i + 1] = hex[bits[i] & 0xf];
    }
    return id;
}

context with_request_id(context const& parent, std::string id)
{
    return with_value(parent, request_id_key, std::move(id));
}

std::string_view request_id(context const& ctx) noexcept
{
    auto id = ctx.value(request_id_key);
    return id ? std::string_view(*id) : std::string_view();
}

} // namespace asioctx::http
