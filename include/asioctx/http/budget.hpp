//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_HTTP_BUDGET_HPP
#define ASIOCTX_HTTP_BUDGET_HPP

#include <asioctx/http/config.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace asioctx::http {

/// How a budget header writes its time.
enum class budget_format : std::uint8_t
{
    grpc_timeout, ///< 1 to 8 digits and a unit, `250m` (`Request-Timeout`, `grpc-timeout`)
    milliseconds, ///< 1 to 10 digits of milliseconds, `250` (`x-envoy-expected-rq-timeout-ms`)
};


/** Parses a deadline budget in the `grpc-timeout` grammar: 1 to 8 digits and a unit,
    `H` hours, `M` minutes, `S` seconds, `m` milliseconds, `u` microseconds,
    `n` nanoseconds (`250m` is a quarter of a second). Anything else, including spaces,
    signs and a missing unit, is nullopt: a malformed budget counts as absent.
*/
ASIOCTX_HTTP_DECL std::optional<std::chrono::nanoseconds> parse_budget(std::string_view value) noexcept;

/** Formats `budget` in the same grammar, rounding down to the finest unit that fits
    in 8 digits, so the next hop never gets more time than is left; a budget of zero or
    less is `0n`.
*/
ASIOCTX_HTTP_DECL std::string format_budget(std::chrono::nanoseconds budget);

/** Parses one budget value in `format`; nullopt when malformed (signs, spaces, too many
    digits, a missing or unknown unit).
*/
ASIOCTX_HTTP_DECL std::optional<std::chrono::nanoseconds> parse_budget(
    std::string_view value, budget_format format) noexcept;

/// Formats `budget` in `format`, rounding down: the next hop is never told more.
ASIOCTX_HTTP_DECL std::string format_budget(std::chrono::nanoseconds budget, budget_format format);

} // namespace asioctx::http

#endif
