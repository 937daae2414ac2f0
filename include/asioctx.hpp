//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//
// Every layer but HTTP (<asioctx/http/...>, a library of its own).

#ifndef ASIOCTX_HPP
#define ASIOCTX_HPP

#include <asioctx/core.hpp>
#include <asioctx/asio.hpp>
#include <asioctx/sync.hpp>
#include <asioctx/diagnostics.hpp>

#endif
