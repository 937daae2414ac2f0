//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//
// Structured concurrency: group, run, mutex and semaphore.

#ifndef ASIOCTX_SYNC_HPP
#define ASIOCTX_SYNC_HPP

#include <asioctx/asio.hpp>
#include <asioctx/sync/group.hpp>
#include <asioctx/sync/mutex.hpp>
#include <asioctx/sync/run.hpp>
#include <asioctx/sync/semaphore.hpp>

#endif
