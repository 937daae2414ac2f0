//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#include <asioctx/http/traceparent.hpp>
#include <asioctx/core/value.hpp>

#include <openssl/rand.h>

#include <algorithm>
#include <stdexcept>

namespace asioctx::http {

namespace {

constinit key<trace_parent> const traceparent_key{"asioctx.http.traceparent"};
constexpr char hex_digits[] = "0123456789abcdef";

// Lowercase hex only: W3C forbids uppercase in traceparent.
int lower_hex(char c) noexcept
{
    if(c >= '0' && c <= '9')
        return c - '0';
    if(c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

template<std::size_t N>
bool decode(std::string_view in, std::array<std::uint8_t, N>& out) noexcept
{
    if(in.size() != 2 * N)
        return false;
    for(std::size_t i = 0; i < N; ++i)
    {
        int hi = lower_hex(in[2 * i]), lo = lower_hex(in[2 * i + 1]);
        if(hi < 0 || lo < 0)
            return false;
        out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
    }
    return std::any_of(out.begin(), out.end(), [](std::uint8_t b) { return b != 0; });
}

template<std::size_t N>
void encode(std::array<std::uint8_t, N> const& in, std::string& out)
{
    for(auto b : in)
    {
        out.push_back(hex_digits[b >> 4]);
        out.push_back(hex_digits[b & 0xf]);
    }
}

} // namespace

std::optional<trace_parent> parse_traceparent(std::string_view v) noexcept
{
    // version "-" trace-id "-" parent-id "-" flags: 2 + 1 + 32 + 1 + 16 + 1 + 2 = 55.
    if(v.size() < 55 || v[2] != '-' || v[35] != '-' || v[52] != '-')
        return std::nullopt;
    int const v_hi = lower_hex(v[0]), v_lo = lower_hex(v[1]);
    if(v_hi < 0 || v_lo < 0)
        return std::nullopt;
    int const version = v_hi << 4 | v_lo;
    if(version == 0xff)
        return std::nullopt;
    // Version 00 is exactly 55 characters; a later version may carry more after a '-'.
    if(version == 0 ? v.size() != 55 : (v.size() > 55 && v[55] != '-'))
        return std::nullopt;
    trace_parent tp;
    if(!decode(v.substr(3, 32), tp.trace_id) || !decode(v.substr(36, 16), tp.parent_id))
        return std::nullopt;
    int const f_hi = lower_hex(v[53]), f_lo = lower_hex(v[54]);
    if(f_hi < 0 || f_lo < 0)
        return std::nullopt;
    tp.flags = static_cast<std::uint8_t>(f_hi << 4 | f_lo);
    return tp;
}

std::string trace_parent::trace_id_hex() const
{
    std::string out;
    out.reserve(32);
    encode(trace_id, out);
    return out;
}

std::string trace_parent::to_string() const
{
    std::string out = "00-";
    out.reserve(55);
    encode(trace_id, out);
    out.push_back('-');
    encode(parent_id, out);
    out.push_back('-');
    out.push_back(hex_digits[flags >> 4]);
    out.push_back(hex_digits[flags & 0xf]);
    return out;
}

trace_parent trace_parent::next_hop() const
{
    trace_parent next = *this;
    do
    {
        if(RAND_bytes(next.parent_id.data(), static_cast<int>(next.parent_id.size())) != 1)
            throw std::runtime_error("asioctx::http::trace_parent::next_hop: OpenSSL's generator failed");
    } while(std::all_of(next.parent_id.begin(), next.parent_id.end(), [](std::uint8_t b) { return b == 0; }));
    return next;
}

context with_traceparent(context const& parent, trace_parent const& tp)
{
    return with_value(parent, traceparent_key, tp);
}

trace_parent const* traceparent(context const& ctx) noexcept
{
    return ctx.value(traceparent_key);
}

} // namespace asioctx::http
