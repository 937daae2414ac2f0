// Tests for <asioctx/core/error.hpp>.
#include <asioctx/core/error.hpp>

#include <boost/asio/error.hpp>
#include <boost/system/errc.hpp>
#include <boost/test/unit_test.hpp>

#include <sstream>

namespace asio = boost::asio;
using boost::system::error_code;

BOOST_AUTO_TEST_SUITE(error)

BOOST_AUTO_TEST_CASE(category_has_name_and_fixed_id)
{
    error_code ec = asioctx::error::canceled;
    BOOST_TEST(std::string(ec.category().name()) == "asioctx");
    BOOST_TEST(ec.message() == "context canceled");
    BOOST_TEST(error_code(asioctx::error::deadline_exceeded).message() == "context deadline exceeded");
    BOOST_TEST(!error_code(asioctx::error::no_executor).message().empty());
    for(auto e : {asioctx::error::not_locked, asioctx::error::exceeds_capacity, asioctx::error::over_released,
            asioctx::error::group_busy, asioctx::error::task_exception})
    {
        error_code code = e;
        BOOST_TEST(code.message() != "unknown asioctx error");
        BOOST_TEST((code != asioctx::condition::canceled)); // failures, not cancellations
    }
    // Equality of categories goes through the fixed id, not the address.
    BOOST_TEST((ec.category() == asioctx::error_category()));
    BOOST_TEST((ec.category() != boost::system::generic_category()));
}

BOOST_AUTO_TEST_CASE(canceled_matches_operation_aborted)
{
    error_code ours = asioctx::error::canceled;
    error_code asios = asio::error::operation_aborted;
    BOOST_TEST((ours == asioctx::condition::canceled));
    BOOST_TEST((asios == asioctx::condition::canceled));
    BOOST_TEST((ours != asioctx::condition::deadline_exceeded));
    BOOST_TEST((ours == boost::system::errc::operation_canceled));
    BOOST_TEST((asios == boost::system::errc::operation_canceled));
    // The codes themselves stay distinct, so callers can tell who cancelled.
    BOOST_TEST((ours != asios));
}

BOOST_AUTO_TEST_CASE(deadline_exceeded_matches_timed_out)
{
    error_code ours = asioctx::error::deadline_exceeded;
    error_code asios = asio::error::timed_out;
    BOOST_TEST((ours == asioctx::condition::deadline_exceeded));
    BOOST_TEST((asios == asioctx::condition::deadline_exceeded));
    BOOST_TEST((ours != asioctx::condition::canceled));
    BOOST_TEST((ours == boost::system::errc::timed_out));
    BOOST_TEST((asios != asioctx::condition::canceled));
}

BOOST_AUTO_TEST_CASE(unrelated_errors_match_no_condition)
{
    error_code eof = asio::error::eof;
    BOOST_TEST((eof != asioctx::condition::canceled));
    BOOST_TEST((eof != asioctx::condition::deadline_exceeded));
    error_code none;
    BOOST_TEST((none != asioctx::condition::canceled));
    BOOST_TEST(std::string(asioctx::condition_category().name()) == "asioctx.condition");
}

BOOST_AUTO_TEST_CASE(made_codes_carry_their_location)
{
    static constexpr auto loc = BOOST_CURRENT_LOCATION;
    auto ec = asioctx::make_error_code(asioctx::error::no_executor, &loc);
    BOOST_TEST(ec.has_location());
    BOOST_TEST(ec.location().line() == loc.line());
}

// The enums print, so a test framework can show them and compare them directly.
BOOST_AUTO_TEST_CASE(errors_and_conditions_print_their_message_and_code)
{
    std::ostringstream os;
    os << asioctx::error::canceled << '|' << asioctx::condition::deadline_exceeded;
    BOOST_TEST(os.str() == "context canceled [asioctx:1]|deadline exceeded [asioctx.condition:2]");
    boost::system::error_code const ec = asioctx::error::canceled;
    BOOST_TEST(ec == asioctx::error::canceled);
    BOOST_TEST(ec == asioctx::condition::canceled);
    BOOST_TEST(asioctx::error::deadline_exceeded != asioctx::error::canceled);
}

BOOST_AUTO_TEST_SUITE_END()
