//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_HTTP_FIELD_VALUE_HPP
#define ASIOCTX_HTTP_FIELD_VALUE_HPP

#include <asioctx/http/config.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace asioctx::http {

/** True if `value` may be written as an HTTP header value: visible ASCII, space and
    horizontal tab only (so no CR, LF, NUL or other control), at most `max_size` bytes.

    Beast 1.81's `fields::set` does not check: every value the library writes from
    untrusted input goes through this first.
*/
ASIOCTX_HTTP_DECL bool is_safe_field_value(std::string_view value, std::size_t max_size = 8192) noexcept;

/** `value` made safe for a log line: printable ASCII kept, `"` and `\` escaped, every
    other byte written as `\xNN`; cut at `max_size` input bytes with `...` appended.
*/
ASIOCTX_HTTP_DECL std::string escape_for_log(std::string_view value, std::size_t max_size = 256);

/// `escape_for_log(value, max_size)` appended to `out`, for log lines built in one buffer.
ASIOCTX_HTTP_DECL void append_escaped_for_log(std::string& out, std::string_view value, std::size_t max_size = 256);

/// `s` without the optional whitespace (RFC 9110 `OWS`: spaces and tabs) at either end.
inline std::string_view trim_ows(std::string_view s) noexcept
{
    while(!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while(!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

} // namespace asioctx::http

#endif
