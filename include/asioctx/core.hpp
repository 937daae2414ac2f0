//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//
// The core: the context tree with Go's semantics. Needs no Asio.

#ifndef ASIOCTX_CORE_HPP
#define ASIOCTX_CORE_HPP

#include <asioctx/core/cancel.hpp>
#include <asioctx/core/context.hpp>
#include <asioctx/core/done_callback.hpp>
#include <asioctx/core/error.hpp>
#include <asioctx/core/merge.hpp>
#include <asioctx/core/stop_token.hpp>
#include <asioctx/core/value.hpp>
#include <asioctx/core/without_cancel.hpp>

#endif
