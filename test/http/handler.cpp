// Tests for <asioctx/http/handler.hpp>: composing middleware, making responses.
#include <asioctx/http/handler.hpp>

#include <boost/test/unit_test.hpp>

#include "fake_incoming.hpp"

#include <vector>

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using asioctx::http::response;
using test::call;
using test::fake_incoming;

BOOST_AUTO_TEST_SUITE(http_handler)

BOOST_AUTO_TEST_CASE(chain_runs_outermost_first)
{
    std::vector<int> order;
    int calls = 0;
    asioctx::http::handler inner = [&](asioctx::context, asioctx::http::incoming& in) -> asio::awaitable<response> {
        ++calls;
        co_return asioctx::http::make_response(in.header(), bhttp::status::ok);
    };
    auto mark = [&](int n) -> asioctx::http::middleware {
        return [&, n](asioctx::http::handler next) -> asioctx::http::handler {
            return [&, n, next](asioctx::context ctx, asioctx::http::incoming& in) -> asio::awaitable<response> {
                order.push_back(n);
                co_return co_await next(ctx, in);
            };
        };
    };
    fake_incoming in;
    call(asioctx::http::chain(mark(1), mark(2), mark(3), inner), in);
    BOOST_TEST((order == std::vector<int>{1, 2, 3}));
    BOOST_TEST(calls == 1);
}

BOOST_AUTO_TEST_CASE(make_response_fills_the_basics)
{
    asioctx::http::request_header req;
    req.version(10);
    auto res = asioctx::http::make_response(req, bhttp::status::not_found, "nope");
    BOOST_TEST(res.result_int() == 404);
    BOOST_TEST(res.version() == 10);
    BOOST_TEST(res[bhttp::field::content_length] == "4");
    BOOST_TEST(res[bhttp::field::content_type] == "text/plain; charset=utf-8");
}

BOOST_AUTO_TEST_CASE(message_incoming_serves_a_read_request)
{
    bhttp::request<bhttp::string_body> req(bhttp::verb::post, "/echo", 11);
    req.body() = "payload";
    asioctx::http::message_incoming in(req, "10.0.0.1:80");
    asioctx::http::handler echo = [](asioctx::context, asioctx::http::incoming& r) -> asio::awaitable<response> {
        auto body = co_await r.body();
        co_return asioctx::http::make_response(r.header(), bhttp::status::ok, std::string(body) + " from " + r.peer());
    };
    asio::io_context ioc;
    std::optional<response> out;
    asio::co_spawn(ioc, echo(asioctx::background(), in), [&](std::exception_ptr, response r) { out = std::move(r); });
    ioc.run();
    BOOST_REQUIRE(out.has_value());
    BOOST_TEST(out->body() == "payload from 10.0.0.1:80");
}

BOOST_AUTO_TEST_SUITE_END()
