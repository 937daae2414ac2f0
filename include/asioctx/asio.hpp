//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//
// Asio integration: executors, deadlines, waiting, after_func, binding operations, coroutines.

#ifndef ASIOCTX_ASIO_HPP
#define ASIOCTX_ASIO_HPP

#include <asioctx/core.hpp>
#include <asioctx/asio/after_func.hpp>
#include <asioctx/asio/async_wait.hpp>
#include <asioctx/asio/bind.hpp>
#include <asioctx/asio/bound_stream.hpp>
#include <asioctx/asio/coroutine.hpp>
#include <asioctx/asio/deadline.hpp>
#include <asioctx/asio/executor.hpp>
#include <asioctx/asio/sleep.hpp>

#endif
