//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//
// Beast compiled once, inside asioctx_http (BOOST_BEAST_SEPARATE_COMPILATION).

#include <boost/beast/src.hpp>
