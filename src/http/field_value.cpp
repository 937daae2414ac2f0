//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#include <asioctx/http/field_value.hpp>

namespace asioctx::http {

bool is_safe_field_value(std::string_view value, std::size_t max_size) noexcept
{
    if(value.size() > max_size)
        return false;
    for(unsigned char c : value)
    {
        // RFC 9110 field-vchar, SP, HTAB; obs-text (0x80-0xFF) is refused too.
        if(c == '\t')
            continue;
        if(c < 0x20 || c > 0x7e)
            return false;
    }
    return true;
}

void append_escaped_for_log(std::string& out, std::string_view value, std::size_t max_size)
{
    static constexpr char hex[] = "0123456789abcdef";
    bool const cut = value.size() > max_size;
    if(cut)
        value = value.substr(0, max_size);
    out.reserve(out.size() + value.size() + 8);
    for(unsigned char c : value)
    {
        if(c == '"' || c == '\\')
        {
            out.push_back('\\');
            out.push_back(static_cast<char>(c));
        }
        else if(c >= 0x20 && c <= 0x7e)
            out.push_back(static_cast<char>(c));
        else
        {
            out += "\\x";
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 0xf]);
        }
    }
    if(cut)
        out += "...";
}

std::string escape_for_log(std::string_view value, std::size_t max_size)
{
    std::string out;
    append_escaped_for_log(out, value, max_size);
    return out;
}

} // namespace asioctx::http
