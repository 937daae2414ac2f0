//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//
// Asio's separately compiled sources, built once here when the build asks for it
// (ASIOCTX_SEPARATE_ASIO: BOOST_ASIO_SEPARATE_COMPILATION is then a public definition of
// the library; see doc/building.md).

#include <boost/asio/impl/src.hpp>
