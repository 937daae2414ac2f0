#define BOOST_TEST_MODULE asioctx
#include <boost/test/unit_test.hpp>
