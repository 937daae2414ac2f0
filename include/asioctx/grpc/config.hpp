//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_GRPC_CONFIG_HPP
#define ASIOCTX_GRPC_CONFIG_HPP

#include <asioctx/detail/config.hpp>

// Symbols of the compiled gRPC library. Shared builds export them.
#if defined(ASIOCTX_SHARED_LIBRARY) && defined(ASIOCTX_GRPC_SOURCE)
#define ASIOCTX_GRPC_DECL BOOST_SYMBOL_EXPORT
#elif defined(ASIOCTX_SHARED_LIBRARY)
#define ASIOCTX_GRPC_DECL BOOST_SYMBOL_IMPORT
#else
#define ASIOCTX_GRPC_DECL
#endif

#endif
