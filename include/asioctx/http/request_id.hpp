//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_HTTP_REQUEST_ID_HPP
#define ASIOCTX_HTTP_REQUEST_ID_HPP

#include <asioctx/core/context.hpp>
#include <asioctx/http/config.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace asioctx::http {

/// Which inbound request ids are accepted (anything else is replaced by a minted one).
struct request_id_options
{
    /// Besides ASCII letters and digits, these characters are allowed.
    std::string punctuation = "._:-";
    std::size_t min_size = 1;
    std::size_t max_size = 128;
};

/// True if `id` has an allowed length and only allowed characters.
ASIOCTX_HTTP_DECL bool is_valid_request_id(std::string_view id, request_id_options const& options = {}) noexcept;

/// A new id: 128 random bits from OpenSSL's generator, as 32 lowercase hex digits.
ASIOCTX_HTTP_DECL std::string mint_request_id();

/// Derives a context carrying `id` as the request id (see `request_id`).
[[nodiscard]] ASIOCTX_HTTP_DECL context with_request_id(context const& parent, std::string id);

/// The request id `ctx` carries, or an empty view when none.
ASIOCTX_HTTP_DECL std::string_view request_id(context const& ctx) noexcept;

} // namespace asioctx::http

#endif
