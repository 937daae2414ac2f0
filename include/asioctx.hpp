//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_HPP
#define ASIOCTX_HPP

#include <asioctx/after_func.hpp>
#include <asioctx/bind.hpp>
#include <asioctx/bound_stream.hpp>
#include <asioctx/cancel.hpp>
#include <asioctx/context.hpp>
#include <asioctx/coroutine.hpp>
#include <asioctx/deadline.hpp>
#include <asioctx/diagnostics.hpp>
#include <asioctx/error.hpp>
#include <asioctx/executor.hpp>
#include <asioctx/group.hpp>
#include <asioctx/mutex.hpp>
#include <asioctx/run.hpp>
#include <asioctx/semaphore.hpp>
#include <asioctx/sleep.hpp>
#include <asioctx/value.hpp>
#include <asioctx/without_cancel.hpp>

#endif
