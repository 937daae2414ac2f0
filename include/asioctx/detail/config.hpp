//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_DETAIL_CONFIG_HPP
#define ASIOCTX_DETAIL_CONFIG_HPP

#include <boost/config.hpp>

#if __cplusplus < 202002L && !defined(_MSVC_LANG)
#error "asioctx requires C++20"
#endif

// Symbols of the compiled library. Shared builds export them.
#if defined(ASIOCTX_SHARED_LIBRARY) && defined(ASIOCTX_SOURCE)
#define ASIOCTX_DECL BOOST_SYMBOL_EXPORT
#elif defined(ASIOCTX_SHARED_LIBRARY)
#define ASIOCTX_DECL BOOST_SYMBOL_IMPORT
#else
#define ASIOCTX_DECL
#endif

#endif
