//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_CORE_DETAIL_SITE_HPP
#define ASIOCTX_CORE_DETAIL_SITE_HPP

#include <asioctx/detail/config.hpp>

#include <cstdint>
#include <version>

#if defined(__cpp_lib_source_location) && __cpp_lib_source_location >= 201907L
#include <source_location>
#endif

namespace asioctx {

#if defined(__cpp_lib_source_location) && __cpp_lib_source_location >= 201907L

/** Where a context was derived: `std::source_location` where the standard library
    has it. Every derivation function takes one as its last parameter, defaulted to
    the caller's location, so a helper that derives on behalf of its own callers can
    forward the site it was given.
*/
using source_location = std::source_location;

#else

// The same interface from the compiler's built-ins, for standard libraries that lack
// std::source_location with this compiler (libstdc++ 12 with clang 14).
class source_location
{
public:
    static constexpr source_location current(char const* file = __builtin_FILE(),
        char const* function = __builtin_FUNCTION(), std::uint_least32_t line = __builtin_LINE(),
        std::uint_least32_t column = __builtin_COLUMN()) noexcept
    {
        source_location s;
        s.file_ = file;
        s.function_ = function;
        s.line_ = line;
        s.column_ = column;
        return s;
    }

    constexpr source_location() noexcept = default;

    constexpr char const* file_name() const noexcept
    {
        return file_;
    }
    constexpr char const* function_name() const noexcept
    {
        return function_;
    }
    constexpr std::uint_least32_t line() const noexcept
    {
        return line_;
    }
    constexpr std::uint_least32_t column() const noexcept
    {
        return column_;
    }

private:
    char const* file_ = "";
    char const* function_ = "";
    std::uint_least32_t line_ = 0;
    std::uint_least32_t column_ = 0;
};

#endif

} // namespace asioctx

// Every derivation passes its site to the compiled library, whatever the build: a program
// compiled with a different ASIOCTX_NO_DIAGNOSTICS setting from the library sees the same
// signatures and the same node layout.
#define ASIOCTX_SITE_PARAM , ::asioctx::source_location const& site
#define ASIOCTX_SITE_ARG(s) , s

// Whether the library's own sources compile the registry in. Used by src/ only: headers
// never depend on it, so it cannot split a program's definitions.
#ifndef ASIOCTX_NO_DIAGNOSTICS
#define ASIOCTX_DIAGNOSTICS_COMPILED_IN 1
#else
#define ASIOCTX_DIAGNOSTICS_COMPILED_IN 0
#endif

#endif
