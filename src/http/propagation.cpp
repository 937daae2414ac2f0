//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#include <asioctx/http/propagation.hpp>
#include <asioctx/http/field_value.hpp>
#include <asioctx/core/value.hpp>

#include <algorithm>
#include <string>
#include <vector>

namespace asioctx::http {

namespace {

using std::chrono::nanoseconds;


// Splits on commas; members are trimmed, empty ones kept (callers decide).
std::vector<std::string_view> split_list(std::string_view s)
{
    std::vector<std::string_view> out;
    for(;;)
    {
        auto const comma = s.find(',');
        out.push_back(trim_ows(s.substr(0, comma)));
        if(comma == std::string_view::npos)
            return out;
        s.remove_prefix(comma + 1);
    }
}

bool is_lcalpha(char c) noexcept
{
    return c >= 'a' && c <= 'z';
}

bool is_digit(char c) noexcept
{
    return c >= '0' && c <= '9';
}

// lcalpha / DIGIT / "_" / "-" / "*" / "/"
bool is_key_char(char c) noexcept
{
    return is_lcalpha(c) || is_digit(c) || c == '_' || c == '-' || c == '*' || c == '/';
}

bool all_key_chars(std::string_view s) noexcept
{
    return std::all_of(s.begin(), s.end(), is_key_char);
}

// simple-key = lcalpha 0*255(key-char); multi-tenant-key = tenant-id "@" system-id,
// tenant-id = (lcalpha / DIGIT) 0*240(key-char), system-id = lcalpha 0*13(key-char).
bool is_tracestate_key(std::string_view k) noexcept
{
    auto const at = k.find('@');
    if(at == std::string_view::npos)
        return !k.empty() && k.size() <= 256 && is_lcalpha(k[0]) && all_key_chars(k.substr(1));
    auto const tenant = k.substr(0, at);
    auto const system = k.substr(at + 1);
    return !tenant.empty() && tenant.size() <= 241 && (is_lcalpha(tenant[0]) || is_digit(tenant[0])) &&
        all_key_chars(tenant.substr(1)) && !system.empty() && system.size() <= 14 && is_lcalpha(system[0]) &&
        all_key_chars(system.substr(1));
}

// value = 0*255(chr) nblk-chr; nblk-chr = %x21-2B / %x2D-3C / %x3E-7E; chr = %x20 / nblk-chr
bool is_tracestate_value(std::string_view v) noexcept
{
    if(v.empty() || v.size() > 256 || v.back() == ' ')
        return false;
    return std::all_of(v.begin(), v.end(), [](char c) { return c >= 0x20 && c <= 0x7e && c != ',' && c != '='; });
}

// RFC 9110 tchar.
bool is_tchar(char c) noexcept
{
    if(is_lcalpha(c) || is_digit(c) || (c >= 'A' && c <= 'Z'))
        return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) noexcept
{
    return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar);
}

// baggage-octet = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E
bool is_baggage_value(std::string_view v) noexcept
{
    return std::all_of(v.begin(), v.end(), [](char c) {
        return c >= 0x21 && c <= 0x7e && c != '"' && c != ',' && c != ';' && c != '\\';
    });
}

// key OWS "=" OWS value, or for a property also a bare key.
bool is_baggage_pair(std::string_view s, bool bare_key_allowed) noexcept
{
    auto const eq = s.find('=');
    if(eq == std::string_view::npos)
        return bare_key_allowed && is_token(trim_ows(s));
    return is_token(trim_ows(s.substr(0, eq))) && is_baggage_value(trim_ows(s.substr(eq + 1)));
}

bool is_baggage_member(std::string_view m) noexcept
{
    auto semi = m.find(';');
    if(!is_baggage_pair(m.substr(0, semi), false))
        return false;
    while(semi != std::string_view::npos)
    {
        m.remove_prefix(semi + 1);
        semi = m.find(';');
        if(!is_baggage_pair(m.substr(0, semi), true))
            return false;
    }
    return true;
}

std::string join(std::vector<std::string_view> const& members)
{
    std::string out;
    for(auto m : members)
    {
        if(!out.empty())
            out += ',';
        out += m;
    }
    return out;
}

std::size_t joined_size(std::vector<std::string_view> const& members) noexcept
{
    std::size_t n = members.empty() ? 0 : members.size() - 1;
    for(auto m : members)
        n += m.size();
    return n;
}

struct trace_fields
{
    std::string tracestate;
    std::string baggage;
};

inline constexpr key<trace_fields> trace_fields_key{"asioctx.http.trace_fields"};

// The one value of `name` in `fields`, its lines joined with commas.
std::string joined_field(boost::beast::http::fields const& fields, std::string_view name)
{
    std::string out;
    auto [first, last] = fields.equal_range(name);
    for(auto it = first; it != last; ++it)
    {
        if(!out.empty())
            out += ',';
        out += it->value();
    }
    return out;
}

} // namespace

std::optional<nanoseconds> inbound_budget(boost::beast::http::fields const& fields, propagation_policy const& policy)
{
    std::optional<nanoseconds> best;
    for(auto const& h : policy.inbound_budgets)
    {
        auto [first, last] = fields.equal_range(h.name);
        if(first == last || std::next(first) != last)
            continue; // absent, or sent twice: which one would be meant?
        auto b = parse_budget(first->value(), h.format);
        if(b && (!best || *b < *best))
            best = b;
    }
    if(best)
        best = (std::min)(*best, std::chrono::duration_cast<nanoseconds>(policy.inbound_max));
    return best;
}

std::optional<nanoseconds> outbound_budget(context const& ctx, propagation_policy const& policy)
{
    auto const deadline = ctx.deadline();
    if(!deadline)
        return std::nullopt;
    auto const left = std::chrono::duration_cast<nanoseconds>(*deadline - std::chrono::steady_clock::now());
    // Milliseconds reach further than nanoseconds (292 years): a reserve or a maximum
    // beyond that is taken as that, and the subtraction saturates.
    auto const in_range = std::chrono::duration_cast<std::chrono::milliseconds>(nanoseconds::max());
    auto const reserve = std::chrono::duration_cast<nanoseconds>(
        std::clamp(policy.reserve, std::chrono::milliseconds::zero(), in_range));
    nanoseconds budget = left < nanoseconds::min() + reserve ? nanoseconds::min() : left - reserve;
    // The default maximum (milliseconds::max(), no cap) is out of range: no cap.
    if(policy.outbound_max < in_range)
        budget = (std::min)(budget, std::chrono::duration_cast<nanoseconds>(policy.outbound_max));
    return budget;
}

std::optional<std::string> parse_tracestate(std::string_view value, std::size_t limit)
{
    std::vector<std::string_view> members;
    for(auto m : split_list(value))
    {
        if(m.empty())
            continue;
        auto const eq = m.find('=');
        if(eq == std::string_view::npos || !is_tracestate_key(m.substr(0, eq)) ||
            !is_tracestate_value(m.substr(eq + 1)))
            return std::nullopt;
        for(auto other : members)
            if(other.substr(0, other.find('=')) == m.substr(0, eq))
                return std::nullopt; // a key twice
        members.push_back(m);
        if(members.size() > 32)
            return std::nullopt;
    }
    // Over the limit: members over 128 characters go first, then members from the end.
    while(joined_size(members) > limit)
    {
        auto big = std::find_if(members.begin(), members.end(), [](std::string_view m) { return m.size() > 128; });
        if(big != members.end())
            members.erase(big);
        else
            members.pop_back();
    }
    if(members.empty())
        return std::nullopt;
    return join(members);
}

std::optional<std::string> parse_baggage(std::string_view value, std::size_t limit)
{
    std::vector<std::string_view> members;
    for(auto m : split_list(value))
    {
        if(!is_baggage_member(m))
            return std::nullopt; // an empty member too: the grammar has none
        members.push_back(m);
    }
    while(!members.empty() && (members.size() > 64 || joined_size(members) > limit))
        members.pop_back();
    if(members.empty())
        return std::nullopt;
    return join(members);
}

context with_trace_fields(context const& parent, std::string tracestate, std::string baggage)
{
    // Whatever reaches a header is valid: a value that does not parse is dropped.
    if(!tracestate.empty())
        tracestate = parse_tracestate(tracestate, static_cast<std::size_t>(-1)).value_or(std::string());
    if(!baggage.empty())
        baggage = parse_baggage(baggage, static_cast<std::size_t>(-1)).value_or(std::string());
    return with_value(parent, trace_fields_key, trace_fields{std::move(tracestate), std::move(baggage)});
}

std::string_view tracestate(context const& ctx) noexcept
{
    if(auto f = ctx.value(trace_fields_key))
        return f->tracestate;
    return {};
}

std::string_view baggage(context const& ctx) noexcept
{
    if(auto f = ctx.value(trace_fields_key))
        return f->baggage;
    return {};
}

context with_inbound_trace_fields(
    context const& parent, boost::beast::http::fields const& fields, propagation_policy const& policy)
{
    std::string state, bag;
    if(fields.count("tracestate"))
        if(auto v = parse_tracestate(joined_field(fields, "tracestate"), policy.tracestate_limit))
            state = std::move(*v);
    if(fields.count("baggage"))
        if(auto v = parse_baggage(joined_field(fields, "baggage"), policy.baggage_limit))
            bag = std::move(*v);
    if(state.empty() && bag.empty())
        return parent;
    return with_trace_fields(parent, std::move(state), std::move(bag));
}

} // namespace asioctx::http
