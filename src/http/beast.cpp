//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//
// Beast and Asio's SSL support compiled once, inside asioctx_http, when the build asks for
// it (ASIOCTX_SEPARATE_ASIO; Asio's own sources are then compiled in asioctx).

#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
