// Tests for <asioctx/http/debug.hpp>: the /debug/contexts middleware.
#include <asioctx/core/cancel.hpp>
#include <asioctx/diagnostics/registry.hpp>
#include <asioctx/http/debug.hpp>
#include <asioctx/http/middleware.hpp>

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include "fake_incoming.hpp"

#include <string>
#include <vector>

namespace bhttp = boost::beast::http;
namespace json = boost::json;
namespace utf = boost::unit_test;
using asioctx::http::response;
using test::call;
using test::fake_incoming;

namespace {

asioctx::http::handler next_handler(int& calls)
{
    return [&calls](asioctx::context, asioctx::http::incoming& in) -> boost::asio::awaitable<response> {
        ++calls;
        co_return asioctx::http::make_response(in.header(), bhttp::status::ok, "next");
    };
}

response get(std::string target, std::string peer = "127.0.0.1:40000",
    asioctx::http::debug_contexts_options options = {}, int* next_calls = nullptr)
{
    int calls = 0;
    fake_incoming in(std::move(peer));
    in.edit().target(target);
    auto res = call(asioctx::http::chain(asioctx::http::debug_contexts(options), next_handler(calls)), in);
    if(next_calls)
        *next_calls = calls;
    return res;
}

auto const compiled_in = utf::precondition([](utf::test_unit_id) {
    return utf::assertion_result(asioctx::diagnostics_compiled_in);
});

} // namespace

BOOST_AUTO_TEST_SUITE(http_debug)

BOOST_AUTO_TEST_CASE(other_paths_go_to_the_next_handler)
{
    int calls = 0;
    auto res = get("/debug/contexts/more", "127.0.0.1:1", {}, &calls);
    BOOST_TEST(calls == 1);
    BOOST_TEST(res.body() == "next");
    res = get("/hello?x=/debug/contexts", "127.0.0.1:1", {}, &calls);
    BOOST_TEST(calls == 1);
}

BOOST_AUTO_TEST_CASE(loopback_peers_get_the_text_report, *compiled_in)
{
    asioctx::leak_check check;
    auto const line = __LINE__ + 1;
    std::vector<asioctx::cancellable> held(3);
    for(auto& h : held)
        h = asioctx::with_cancel(asioctx::background());
    int calls = 0;
    auto res = get("/debug/contexts", "127.0.0.1:40000", {}, &calls);
    BOOST_TEST(calls == 0);
    BOOST_TEST(res.result_int() == 200);
    BOOST_TEST(res[bhttp::field::content_type] == "text/plain; charset=utf-8");
    BOOST_TEST(res[bhttp::field::cache_control] == "no-store");
    BOOST_TEST(res.body().find("asioctx contexts: ") == 0u);
    BOOST_TEST(res.body().find("(tracking: sites)") != std::string::npos);
    BOOST_TEST(res.body().find("3 @ cancel ") != std::string::npos);
    BOOST_TEST(res.body().find("debug.cpp:" + std::to_string(line + 2)) != std::string::npos);
    BOOST_TEST(res.body().find("\nid ") == std::string::npos); // one line per context only with debug=2

    res = get("/debug/contexts?debug=2", "[::1]:40000");
    BOOST_TEST(res.result_int() == 200);
    BOOST_TEST(res.body().find("\nid ") != std::string::npos);
}

// A done context held alive says where it was cancelled, in text and JSON.
BOOST_AUTO_TEST_CASE(a_done_context_shows_its_cancel_site, *compiled_in)
{
    asioctx::leak_check check;
    auto held = asioctx::with_cancel(asioctx::background());
    auto const line = __LINE__ + 1;
    held.cancel();
    auto res = get("/debug/contexts?debug=2");
    BOOST_TEST(res.body().find("cancelled at ") != std::string::npos);
    BOOST_TEST(res.body().find("debug.cpp:" + std::to_string(line)) != std::string::npos);
    res = get("/debug/contexts?format=json&debug=2");
    BOOST_TEST(res.body().find("cancelled at ") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(other_peers_are_refused_unless_allowed)
{
    int calls = 0;
    auto res = get("/debug/contexts", "10.1.2.3:5555", {}, &calls);
    BOOST_TEST(res.result_int() == 403);
    BOOST_TEST(res.body().find("asioctx") == std::string::npos);
    BOOST_TEST(calls == 0);
    res = get("/debug/contexts", "unknown");
    BOOST_TEST(res.result_int() == 403);
    res = get("/debug/contexts", "10.1.2.3:5555", {.loopback_only = false});
    BOOST_TEST(res.result_int() == 200);
}

BOOST_AUTO_TEST_CASE(behind_bearer_auth_a_missing_token_gets_401)
{
    int calls = 0;
    fake_incoming in("10.1.2.3:5555");
    in.edit().target("/debug/contexts");
    auto reject_all = [](std::string_view) -> boost::system::result<asioctx::http::claims> {
        return asioctx::http::make_error_code(asioctx::http::error::bad_signature);
    };
    auto res = call(asioctx::http::chain(asioctx::http::bearer_auth(reject_all),
                        asioctx::http::debug_contexts({.loopback_only = false}), next_handler(calls)),
        in);
    BOOST_TEST(res.result_int() == 401);
    BOOST_TEST(res.body().find("asioctx") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(json_has_the_sites_and_with_debug_2_every_context, *compiled_in)
{
    asioctx::leak_check check;
    auto [ctx, cancel] = asioctx::with_cancel(asioctx::background());
    auto res = get("/debug/contexts?format=json");
    BOOST_TEST(res.result_int() == 200);
    BOOST_TEST(res[bhttp::field::content_type] == "application/json");
    auto doc = json::parse(res.body()).as_object();
    BOOST_TEST(doc.at("tracking").as_string() == "sites");
    BOOST_TEST(doc.at("compiled_in").as_bool());
    BOOST_TEST(doc.at("live").to_number<std::size_t>() >= 1u);
    bool mine = false;
    for(auto const& s : doc.at("sites").as_array())
        mine = mine || (std::string_view(s.at("file").as_string()).ends_with("debug.cpp") && s.at("kind").as_string() == "cancel");
    BOOST_TEST(mine);
    BOOST_TEST(!doc.contains("contexts"));

    doc = json::parse(get("/debug/contexts?format=json&debug=2").body()).as_object();
    BOOST_REQUIRE(doc.contains("contexts"));
    BOOST_TEST(doc.at("contexts").as_array().size() == doc.at("live").to_number<std::size_t>());
}

BOOST_AUTO_TEST_CASE(tracking_off_says_so)
{
    auto const previous = asioctx::set_tracking(asioctx::tracking::off);
    auto res = get("/debug/contexts");
    asioctx::set_tracking(previous);
    BOOST_TEST(res.result_int() == 200);
    BOOST_TEST(res.body().find("tracking is off") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(only_get_is_answered)
{
    fake_incoming in;
    in.edit().target("/debug/contexts");
    in.edit().method(bhttp::verb::post);
    int calls = 0;
    auto res = call(asioctx::http::chain(asioctx::http::debug_contexts(), next_handler(calls)), in);
    BOOST_TEST(res.result_int() == 405);
    BOOST_TEST(res[bhttp::field::allow] == "GET");
}

BOOST_AUTO_TEST_CASE(loopback_peers_are_recognised)
{
    using asioctx::http::is_loopback_peer;
    BOOST_TEST(is_loopback_peer("127.0.0.1:80"));
    BOOST_TEST(is_loopback_peer("127.9.8.7:1"));
    BOOST_TEST(is_loopback_peer("[::1]:5"));
    BOOST_TEST(is_loopback_peer("[::ffff:127.0.0.1]:9"));
    BOOST_TEST(is_loopback_peer("::1"));
    BOOST_TEST(!is_loopback_peer("10.0.0.1:80"));
    BOOST_TEST(!is_loopback_peer("[::2]:1"));
    BOOST_TEST(!is_loopback_peer("[::ffff:10.0.0.1]:9"));
    BOOST_TEST(!is_loopback_peer("[::1"));
    BOOST_TEST(!is_loopback_peer("unknown"));
    BOOST_TEST(!is_loopback_peer(""));
    BOOST_TEST(!is_loopback_peer("localhost:80")); // names are not resolved
    BOOST_TEST(!is_loopback_peer(std::string_view("127.0.0.1\0:80", 13)));
}

BOOST_AUTO_TEST_SUITE_END()
