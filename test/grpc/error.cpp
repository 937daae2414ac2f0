#include <asioctx/grpc/error.hpp>

#include <asioctx/core/error.hpp>

#include <boost/test/unit_test.hpp>

#include <set>
#include <sstream>
#include <string>

namespace grpcx = asioctx::grpc;

BOOST_AUTO_TEST_SUITE(grpc_error)

BOOST_AUTO_TEST_CASE(the_category_has_a_name_and_a_message_for_every_code)
{
    BOOST_TEST(std::string(grpcx::error_category().name()) == "asioctx.grpc");
    std::set<std::string> messages;
    for(int code = 1; code <= 16; ++code)
    {
        auto const ec = make_error_code(static_cast<grpcx::error>(code));
        BOOST_TEST(ec.message() != "unknown asioctx.grpc error");
        messages.insert(ec.message());
    }
    BOOST_TEST(messages.size() == 16u);
    BOOST_TEST(make_error_code(grpcx::error::client_cancelled).message() == "client cancelled the call");
    BOOST_TEST(make_error_code(grpcx::error::server_shutdown).message() == "server shut down");
    BOOST_TEST(grpcx::error_category().message(99) == "unknown asioctx.grpc error");
}

BOOST_AUTO_TEST_CASE(the_codes_keep_grpcs_numbers)
{
    BOOST_TEST(static_cast<int>(grpcx::error::cancelled) == 1);
    BOOST_TEST(static_cast<int>(grpcx::error::deadline_exceeded) == 4);
    BOOST_TEST(static_cast<int>(grpcx::error::unavailable) == 14);
    BOOST_TEST(static_cast<int>(grpcx::error::unauthenticated) == 16);
}

BOOST_AUTO_TEST_CASE(cancelled_and_deadline_exceeded_equal_the_librarys_conditions)
{
    boost::system::error_code ec = grpcx::error::deadline_exceeded;
    BOOST_TEST((ec == asioctx::condition::deadline_exceeded));
    BOOST_TEST((ec != asioctx::condition::canceled));
    for(auto e : {grpcx::error::cancelled, grpcx::error::client_cancelled, grpcx::error::server_shutdown})
    {
        ec = e;
        BOOST_TEST((ec == asioctx::condition::canceled));
        BOOST_TEST((ec != asioctx::condition::deadline_exceeded));
    }
    ec = grpcx::error::unavailable;
    BOOST_TEST((ec != asioctx::condition::canceled));
    BOOST_TEST((ec != asioctx::condition::deadline_exceeded));
    // Distinct from the core's own codes.
    BOOST_TEST((boost::system::error_code(grpcx::error::cancelled) != asioctx::error::canceled));
}

BOOST_AUTO_TEST_CASE(writes_message_and_code)
{
    std::ostringstream os;
    os << grpcx::error::unavailable;
    BOOST_TEST(os.str() == "unavailable [asioctx.grpc:14]");
}

BOOST_AUTO_TEST_SUITE_END()
