// Tests for <asioctx/diagnostics/registry.hpp>: a file compiled with ASIOCTX_NO_DIAGNOSTICS links
// with the library however it was built. The headers do not depend on the setting, so a
// context derived here in inline code (with_value) is the library's own node, and the
// library's registry, when it has one, records it with this file as its site.
#ifndef ASIOCTX_NO_DIAGNOSTICS
#define ASIOCTX_NO_DIAGNOSTICS
#endif
#include <asioctx/core/cancel.hpp>
#include <asioctx/diagnostics/registry.hpp>
#include <asioctx/core/value.hpp>

#include <boost/test/unit_test.hpp>

#include <string>
#include <string_view>

BOOST_AUTO_TEST_SUITE(diagnostics_mixed)

BOOST_AUTO_TEST_CASE(a_file_compiled_without_diagnostics_shares_the_library_s_layout)
{
    static asioctx::key<std::string> const payload{"mixed"};
    asioctx::leak_check check(asioctx::tracking::sites);
    {
        auto c = asioctx::with_cancel(asioctx::background());
        auto v = asioctx::with_value(c.ctx, payload, std::string(64, 'x'));
        BOOST_TEST(*v.value(payload) == std::string(64, 'x'));
        auto const leaked = check.leaked();
        if(asioctx::diagnostics_compiled_in)
        {
            BOOST_TEST(leaked.size() == 2u);
            int here = 0;
            for(auto const& l : leaked)
                here += std::string_view(l.site.file_name()).ends_with("diagnostics/mixed.cpp");
            BOOST_TEST(here == 2);
        }
        else
            BOOST_TEST(leaked.empty());
    }
    BOOST_TEST(check.leaked().empty());
}

BOOST_AUTO_TEST_SUITE_END()
