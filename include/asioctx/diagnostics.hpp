//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//
// Diagnostics: the live-context registry, leak checks and derivation chains.

#ifndef ASIOCTX_DIAGNOSTICS_HPP
#define ASIOCTX_DIAGNOSTICS_HPP

#include <asioctx/diagnostics/registry.hpp>

#endif
