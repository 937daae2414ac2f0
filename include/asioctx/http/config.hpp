//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_HTTP_CONFIG_HPP
#define ASIOCTX_HTTP_CONFIG_HPP

#include <asioctx/detail/config.hpp>

// Symbols of the compiled HTTP library. Shared builds export them.
#if defined(ASIOCTX_SHARED_LIBRARY) && defined(ASIOCTX_HTTP_SOURCE)
#define ASIOCTX_HTTP_DECL BOOST_SYMBOL_EXPORT
#elif defined(ASIOCTX_SHARED_LIBRARY)
#define ASIOCTX_HTTP_DECL BOOST_SYMBOL_IMPORT
#else
#define ASIOCTX_HTTP_DECL
#endif

#endif
