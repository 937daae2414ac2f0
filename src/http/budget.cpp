//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#include <asioctx/http/budget.hpp>

#include <cstdint>

namespace asioctx::http {

namespace {

struct unit
{
    char symbol;
    std::int64_t nanoseconds;
};

// Coarsest first, for formatting.
constexpr unit units[] = {
    {'H', 3'600'000'000'000},
    {'M', 60'000'000'000},
    {'S', 1'000'000'000},
    {'m', 1'000'000},
    {'u', 1'000},
    {'n', 1},
};

constexpr std::int64_t max_digits_value = 99'999'999;

} // namespace

std::optional<std::chrono::nanoseconds> parse_budget(std::string_view v) noexcept
{
    if(v.size() < 2 || v.size() > 9)
        return std::nullopt;
    std::int64_t count = 0;
    for(char c : v.substr(0, v.size() - 1))
    {
        if(c < '0' || c > '9')
            return std::nullopt;
        count = count * 10 + (c - '0');
    }
    for(auto const& u : units)
    {
        if(u.symbol != v.back())
            continue;
        // 99999999H does not fit in nanoseconds: saturate (servers clamp anyway).
        if(count > INT64_MAX / u.nanoseconds)
            return std::chrono::nanoseconds::max();
        return std::chrono::nanoseconds(count * u.nanoseconds);
    }
    return std::nullopt;
}

std::string format_budget(std::chrono::nanoseconds budget)
{
    auto const ns = budget.count();
    if(ns <= 0)
        return "0n";
    // The finest unit whose count fits in 8 digits; rounding down never grants more.
    for(auto it = std::rbegin(units); it != std::rend(units); ++it)
    {
        auto const count = ns / it->nanoseconds;
        if(count <= max_digits_value)
            return std::to_string(count) + it->symbol;
    }
    return std::to_string(max_digits_value) + 'H';
}

std::optional<std::chrono::nanoseconds> parse_budget(std::string_view v, budget_format format) noexcept
{
    if(format == budget_format::grpc_timeout)
        return parse_budget(v);
    // Envoy's milliseconds: 1 to 10 digits, nothing else.
    if(v.empty() || v.size() > 10)
        return std::nullopt;
    std::int64_t ms = 0;
    for(char c : v)
    {
        if(c < '0' || c > '9')
            return std::nullopt;
        ms = ms * 10 + (c - '0');
    }
    return std::chrono::milliseconds(ms);
}

std::string format_budget(std::chrono::nanoseconds budget, budget_format format)
{
    if(format == budget_format::grpc_timeout)
        return format_budget(budget);
    auto const ms = std::chrono::duration_cast<std::chrono::milliseconds>(budget).count();
    return std::to_string(ms < 0 ? 0 : ms);
}

} // namespace asioctx::http
