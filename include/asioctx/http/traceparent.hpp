//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_HTTP_TRACEPARENT_HPP
#define ASIOCTX_HTTP_TRACEPARENT_HPP

#include <asioctx/core/context.hpp>
#include <asioctx/http/config.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace asioctx::http {

/** A W3C Trace Context `traceparent`: trace id, parent id and flags.

    Parsed strictly: `00-<32 lowercase hex>-<16 lowercase hex>-<2 hex>` (55 characters for
    version 00; a later version may append `-...`, which is ignored); version `ff`,
    uppercase hex, and all-zero ids are invalid. An invalid header is to be ignored.
*/
struct trace_parent
{
    std::array<std::uint8_t, 16> trace_id{};
    std::array<std::uint8_t, 8> parent_id{};
    std::uint8_t flags = 0;

    /// The trace id as 32 lowercase hex digits.
    ASIOCTX_HTTP_DECL std::string trace_id_hex() const;

    /// The header value, version 00.
    ASIOCTX_HTTP_DECL std::string to_string() const;

    /// The same trace and flags with a new random parent id: what a hop sends onwards.
    ASIOCTX_HTTP_DECL trace_parent next_hop() const;
};

/// Parses a `traceparent` value; nullopt when it is invalid in any way.
ASIOCTX_HTTP_DECL std::optional<trace_parent> parse_traceparent(std::string_view value) noexcept;

/// Derives a context carrying `tp` (see `traceparent`).
[[nodiscard]] ASIOCTX_HTTP_DECL context with_traceparent(context const& parent, trace_parent const& tp);

/// The trace context `ctx` carries, or nullptr when none.
ASIOCTX_HTTP_DECL trace_parent const* traceparent(context const& ctx) noexcept;

} // namespace asioctx::http

#endif
