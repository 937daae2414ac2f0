// Tests for <asioctx/http/middleware.hpp>: request ids, bearer auth (Task 10), scopes,
// deadline budgets, the timeout answer, the access log, header injection attempts.
#include <asioctx/core/cancel.hpp>
#include <asioctx/asio/deadline.hpp>
#include <asioctx/asio/executor.hpp>
#include <asioctx/http/middleware.hpp>
#include <asioctx/http/traceparent.hpp>
#include <asioctx/asio/sleep.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "fake_incoming.hpp"

#include <optional>
#include <string>
#include <vector>

using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using asioctx::http::response;
using test::call;
using test::fake_incoming;

namespace {

// The innermost handler: records what it saw in the context.
struct probe
{
    std::string request_id;
    std::string trace;
    std::string subject;
    std::optional<std::chrono::steady_clock::time_point> deadline;
    int calls = 0;

    asioctx::http::handler handler()
    {
        return [this](asioctx::context ctx, asioctx::http::incoming& in) -> asio::awaitable<response> {
            ++calls;
            request_id = asioctx::http::request_id(ctx);
            if(auto tp = asioctx::http::traceparent(ctx))
                trace = tp->trace_id_hex();
            if(auto c = asioctx::http::request_claims(ctx))
                subject = c->subject;
            deadline = ctx.deadline();
            co_return asioctx::http::make_response(in.header(), bhttp::status::ok, "ok");
        };
    }
};

boost::system::result<asioctx::http::claims> accept_only(std::string_view token)
{
    if(token != "good-token")
        return asioctx::http::make_error_code(asioctx::http::error::bad_signature);
    asioctx::http::claims c;
    c.subject = "ada";
    c.scopes = {"read"};
    return c;
}

} // namespace

BOOST_AUTO_TEST_SUITE(http_middleware)

BOOST_AUTO_TEST_CASE(request_id_is_kept_when_valid_and_echoed)
{
    probe p;
    fake_incoming in;
    in.edit().set("X-Request-ID", "req-42.a:b_c");
    in.edit().set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    auto res = call(asioctx::http::chain(asioctx::http::request_ids(), p.handler()), in);
    BOOST_TEST(p.request_id == "req-42.a:b_c");
    BOOST_TEST(res["X-Request-ID"] == "req-42.a:b_c");
    BOOST_TEST(p.trace == "4bf92f3577b34da6a3ce929d0e0e4736");
}

// Header injection: an id with CR/LF (or anything outside the charset) is replaced,
// never echoed; an invalid traceparent is ignored.
BOOST_AUTO_TEST_CASE(unsafe_request_id_is_replaced)
{
    for(std::string bad : {std::string("a\r\nSet-Cookie: x=1"), std::string(200, 'a'), std::string("<script>"),
            std::string()})
    {
        probe p;
        fake_incoming in;
        in.edit().set("X-Request-ID", "placeholder");
        // Beast's fields accept CR/LF in values: exactly what a hostile peer can produce.
        in.edit().set("X-Request-ID", bad);
        in.edit().set("traceparent", "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01");
        auto res = call(asioctx::http::chain(asioctx::http::request_ids(), p.handler()), in);
        BOOST_TEST(p.request_id.size() == 32u);
        BOOST_TEST(res["X-Request-ID"] == p.request_id);
        BOOST_TEST(p.trace.empty());
    }
}

BOOST_AUTO_TEST_CASE(request_id_on_a_500)
{
    fake_incoming in;
    in.edit().set("X-Request-ID", "abc");
    asioctx::http::handler thrower = [](asioctx::context, asioctx::http::incoming&) -> asio::awaitable<response> {
        throw std::runtime_error("boom");
        co_return response();
    };
    auto res = call(asioctx::http::chain(asioctx::http::request_ids(), thrower), in);
    BOOST_TEST(res.result_int() == 500);
    BOOST_TEST(res["X-Request-ID"] == "abc");
}

BOOST_AUTO_TEST_CASE(bearer_auth_accepts_and_stores_claims)
{
    for(std::string scheme : {"Bearer", "bearer", "BEARER"})
    {
        probe p;
        fake_incoming in;
        in.edit().set(bhttp::field::authorization, scheme + " good-token");
        auto res = call(asioctx::http::chain(asioctx::http::bearer_auth(accept_only), p.handler()), in);
        BOOST_TEST(res.result_int() == 200);
        BOOST_TEST(p.subject == "ada");
    }
}

// Missing: 401 with a bare challenge. Anything wrong: 401 invalid_token, the same for
// every reason, and the next handler never runs.
BOOST_AUTO_TEST_CASE(bearer_auth_rejects)
{
    {
        probe p;
        fake_incoming in;
        auto res = call(asioctx::http::chain(asioctx::http::request_ids(), asioctx::http::bearer_auth(accept_only), p.handler()), in);
        BOOST_TEST(res.result_int() == 401);
        BOOST_TEST(res[bhttp::field::www_authenticate] == "Bearer");
        BOOST_TEST(!res["X-Request-ID"].empty()); // echoed on a 401 too
        BOOST_TEST(p.calls == 0);
    }
    for(std::string value : {"Bearer bad-token", "Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "Bearer good token",
            "Bearertoken", "Bearer good-token\r\nX: y", "Bearer =abc"})
    {
        probe p;
        fake_incoming in;
        in.edit().set(bhttp::field::authorization, value);
        auto res = call(asioctx::http::chain(asioctx::http::bearer_auth(accept_only), p.handler()), in);
        BOOST_TEST(res.result_int() == 401, value);
        BOOST_TEST(res[bhttp::field::www_authenticate] == "Bearer error=\"invalid_token\"", value);
        BOOST_TEST(p.calls == 0);
    }
}

BOOST_AUTO_TEST_CASE(bearer_token_syntax)
{
    using asioctx::http::bearer_token;
    BOOST_TEST((bearer_token("Bearer abc.DEF-_~+/==") == std::string_view("abc.DEF-_~+/==")));
    BOOST_TEST((bearer_token("bEaReR   t") == std::string_view("t")));
    for(std::string_view bad : {"", "Bearer", "Bearer ", "Bearer a b", "Bearer =a", "Bearer a=b", "Basic abc",
            "Bearer\tabc", "Bearerabc", "Bearer a\r\n"})
        BOOST_TEST(!bearer_token(bad).has_value(), bad);
}

BOOST_AUTO_TEST_CASE(require_scope_gives_403)
{
    probe p;
    fake_incoming in;
    in.edit().set(bhttp::field::authorization, "Bearer good-token");
    auto ok = call(asioctx::http::chain(asioctx::http::bearer_auth(accept_only), asioctx::http::require_scope("read"),
                       p.handler()),
        in);
    BOOST_TEST(ok.result_int() == 200);
    auto denied = call(asioctx::http::chain(asioctx::http::bearer_auth(accept_only),
                           asioctx::http::require_scope("admin"), p.handler()),
        in);
    BOOST_TEST(denied.result_int() == 403);
    BOOST_TEST(denied[bhttp::field::www_authenticate] == "Bearer error=\"insufficient_scope\", scope=\"admin\"");
    fake_incoming anonymous;
    BOOST_TEST(call(asioctx::http::chain(asioctx::http::require_scope("read"), p.handler()), anonymous).result_int() == 401);
    BOOST_CHECK_THROW(asioctx::http::require_scope("a\"b"), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(deadline_budget_sets_and_clamps)
{
    asioctx::http::propagation_policy o;
    o.inbound_max = 2s;
    auto const before = std::chrono::steady_clock::now();
    {
        probe p;
        fake_incoming in;
        in.edit().set("Request-Timeout", "250m");
        call(asioctx::http::chain(asioctx::http::deadline_budget(o), p.handler()), in);
        BOOST_REQUIRE(p.deadline.has_value());
        BOOST_TEST((*p.deadline - before <= 250ms + 1s));
        BOOST_TEST((*p.deadline - before >= 250ms));
    }
    {
        probe p;
        fake_incoming in;
        in.edit().set("Request-Timeout", "99H");
        call(asioctx::http::chain(asioctx::http::deadline_budget(o), p.handler()), in);
        BOOST_REQUIRE(p.deadline.has_value());
        BOOST_TEST((*p.deadline - before <= 2s + 1s)); // clamped
    }
    for(std::string bad : {"250", "-5m", "1.5S", "250 m"})
    {
        probe p;
        fake_incoming in;
        in.edit().set("Request-Timeout", bad);
        call(asioctx::http::chain(asioctx::http::deadline_budget(o), p.handler()), in);
        BOOST_TEST(!p.deadline.has_value(), bad); // malformed counts as absent
    }
}

BOOST_AUTO_TEST_CASE(timeout_answers_504)
{
    fake_incoming in;
    asioctx::http::handler slow = [](asioctx::context ctx, asioctx::http::incoming& req) -> asio::awaitable<response> {
        co_await asioctx::async_sleep(ctx, 10s, asio::use_awaitable); // throws at the deadline
        co_return asioctx::http::make_response(req.header(), bhttp::status::ok);
    };
    auto res = call(asioctx::http::chain(asioctx::http::timeout(20ms), slow), in);
    BOOST_TEST(res.result_int() == 504);
    auto res503 = call(asioctx::http::chain(asioctx::http::timeout(20ms, bhttp::status::service_unavailable), slow), in);
    BOOST_TEST(res503.result_int() == 503);
    // Other failures pass through.
    asioctx::http::handler thrower = [](asioctx::context, asioctx::http::incoming&) -> asio::awaitable<response> {
        throw std::logic_error("not a timeout");
        co_return response();
    };
    BOOST_CHECK_THROW(call(asioctx::http::chain(asioctx::http::timeout(1s), thrower), in), std::logic_error);
}

BOOST_AUTO_TEST_CASE(access_log_escapes_untrusted_values)
{
    std::vector<std::string> lines;
    probe p;
    fake_incoming in;
    in.edit().target("/a\"b\x01");
    in.edit().set("X-Request-ID", "id-1");
    call(asioctx::http::chain(asioctx::http::request_ids(),
             asioctx::http::access_log([&](std::string_view l) { lines.emplace_back(l); }), p.handler()),
        in);
    BOOST_REQUIRE(lines.size() == 1u);
    BOOST_TEST(lines[0].find("id=id-1 method=GET target=\"/a\\\"b\\x01\" status=200 duration_ms=") == 0u, lines[0]);
}

// A log written to a file is readable while the server runs: each line is flushed.
BOOST_AUTO_TEST_CASE(stream_sink_flushes_each_line)
{
    std::string const path = "access_log_" + std::to_string(::getpid()) + ".txt";
    {
        std::ofstream file(path);
        probe p;
        fake_incoming in;
        in.edit().set("X-Request-ID", "id-flushed");
        call(asioctx::http::chain(asioctx::http::request_ids(), asioctx::http::access_log(asioctx::http::stream_sink(file)),
                 p.handler()),
            in);
        std::ifstream reader(path); // while `file` is still open
        std::string line;
        BOOST_TEST(static_cast<bool>(std::getline(reader, line)));
        BOOST_TEST(line.find("id=id-flushed ") == 0u, line);
    }
    std::remove(path.c_str());
}

// A body the handler could not read is answered, and logged, as what went wrong, even
// through request_ids' catch-all.
BOOST_AUTO_TEST_CASE(body_errors_are_answered_and_logged_with_their_status)
{
    std::vector<std::string> lines;
    for(auto [e, status] : {std::pair{asioctx::http::error::request_body_too_large, 413},
            std::pair{asioctx::http::error::malformed_request_body, 400},
            std::pair{asioctx::http::error::request_body_timeout, 408}})
    {
        asioctx::http::handler reader = [e = e](asioctx::context, asioctx::http::incoming&) -> asio::awaitable<response> {
            throw boost::system::system_error(e);
            co_return response();
        };
        fake_incoming in;
        auto res = call(asioctx::http::chain(asioctx::http::request_ids(),
                            asioctx::http::access_log([&](std::string_view l) { lines.emplace_back(l); }), reader),
            in);
        BOOST_TEST(res.result_int() == status);
        BOOST_TEST(res.count("X-Request-ID") == 1u);
        BOOST_REQUIRE(!lines.empty());
        BOOST_TEST(lines.back().find(" status=" + std::to_string(status) + " ") != std::string::npos, lines.back());
    }
}

BOOST_AUTO_TEST_SUITE_END()
