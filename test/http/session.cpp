// Tests for <asioctx/http/session.hpp>, over Beast's in-memory `test::stream`: one
// connection served step by step on one thread, with no sockets and no clocks. The same
// session runs under the server: test/http/server.cpp covers it over sockets and TLS.
#include <asioctx/asio/async_wait.hpp>
#include <asioctx/core/cancel.hpp>
#include <asioctx/http/error.hpp>
#include <asioctx/http/jwt.hpp>
#include <asioctx/http/middleware.hpp>
#include <asioctx/http/session.hpp>
#include <asioctx/asio/sleep.hpp>

#include "../support.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/_experimental/test/stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <string>
#include <vector>

using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ahttp = asioctx::http;
using boost::system::error_code;
using http_response = bhttp::response<bhttp::string_body>;

namespace {

// One connection: the session on `server`, a client writing raw bytes on `client`.
struct session_fixture : test::io_fixture
{
    beast::test::stream server{ioc};
    beast::test::stream client{ioc};
    asioctx::cancellable accepting = asioctx::with_cancel(root);
    asioctx::cancellable requests = asioctx::with_cancel(root);
    ahttp::server_options options;
    ahttp::handler h;
    bool finished = false;

    session_fixture()
    {
        server.connect(client);
    }

    void start(ahttp::handler handler)
    {
        h = std::move(handler);
        asio::co_spawn(ioc, ahttp::serve_session(server, accepting.ctx, requests.ctx, h, options, "test-peer"),
            [this](std::exception_ptr e) {
                finished = true;
                if(e)
                    std::rethrow_exception(e);
            });
        settle();
    }

    // Runs what is ready; nothing here waits on a clock.
    void settle()
    {
        ioc.restart();
        ioc.poll();
    }

    void send(std::string_view bytes)
    {
        asio::write(client, asio::buffer(bytes.data(), bytes.size()));
        settle();
    }

    // One answer with `status`, after which the session ended.
    void expect_final_answer(bhttp::status status)
    {
        auto rs = responses();
        BOOST_REQUIRE_EQUAL(rs.size(), 1u);
        BOOST_TEST(rs[0].result() == status);
        BOOST_TEST(finished);
    }

    // The responses the client has received so far, taken off its input.
    std::vector<http_response> responses()
    {
        std::vector<http_response> out;
        std::string bytes(client.str());
        client.clear();
        std::string_view rest = bytes;
        while(!rest.empty())
        {
            bhttp::response_parser<bhttp::string_body> parser;
            parser.eager(true);
            error_code ec;
            while(!parser.is_done() && !rest.empty())
            {
                auto n = parser.put(asio::buffer(rest.data(), rest.size()), ec);
                if(ec)
                    break;
                rest.remove_prefix(n);
            }
            BOOST_REQUIRE_MESSAGE(!ec && parser.is_done(), "an incomplete or malformed response: " << ec.message());
            out.push_back(parser.release());
        }
        return out;
    }
};

ahttp::handler answer_target = [](asioctx::context, ahttp::incoming& in) -> asio::awaitable<ahttp::response> {
    co_return ahttp::make_response(in.header(), bhttp::status::ok, std::string(in.header().target()));
};

std::string get(std::string_view target, std::string_view extra_fields = {})
{
    return "GET " + std::string(target) + " HTTP/1.1\r\nHost: t\r\n" + std::string(extra_fields) + "\r\n";
}

std::string const secret = "session-test-secret-0123456789abcdef";

// A JWS signed with HS256 over the given header and payload JSON.
std::string hs256_token(std::string_view header, std::string_view payload, std::string const& key = secret)
{
    return ahttp::jwt_key::hmac(ahttp::jwt_key::algorithm::hs256, key).sign(payload, header);
}

std::string exp_in(std::chrono::seconds from_now)
{
    auto const t = std::chrono::duration_cast<std::chrono::seconds>(
        (std::chrono::system_clock::now() + from_now).time_since_epoch());
    return std::to_string(t.count());
}

} // namespace

BOOST_AUTO_TEST_SUITE(http_session)

BOOST_FIXTURE_TEST_CASE(answers_requests_and_keeps_the_connection, session_fixture)
{
    start(answer_target);
    send(get("/one"));
    send(get("/two"));
    auto rs = responses();
    BOOST_REQUIRE_EQUAL(rs.size(), 2u);
    BOOST_TEST(rs[0].body() == "/one");
    BOOST_TEST(rs[1].body() == "/two");
    BOOST_TEST(rs[1].keep_alive());
    BOOST_TEST(!finished);
}

BOOST_FIXTURE_TEST_CASE(pipelined_requests_are_answered_in_order_and_cancel_nothing, session_fixture)
{
    std::vector<bool> cancelled;
    start([&](asioctx::context ctx, ahttp::incoming& in) -> asio::awaitable<ahttp::response> {
        // Yielding lets the disconnect watch start while the next requests are queued.
        co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
        cancelled.push_back(ctx.done());
        co_return ahttp::make_response(in.header(), bhttp::status::ok, std::string(in.header().target()));
    });
    send(get("/a") + get("/b") + get("/c"));
    auto rs = responses();
    BOOST_REQUIRE_EQUAL(rs.size(), 3u);
    BOOST_TEST(rs[0].body() == "/a");
    BOOST_TEST(rs[1].body() == "/b");
    BOOST_TEST(rs[2].body() == "/c");
    BOOST_TEST(cancelled == std::vector<bool>({false, false, false}), boost::test_tools::per_element());
}

BOOST_FIXTURE_TEST_CASE(client_leaving_cancels_the_handler_with_its_cause, session_fixture)
{
    bool entered = false;
    error_code slept, why;
    start([&](asioctx::context ctx, ahttp::incoming&) -> asio::awaitable<ahttp::response> {
        entered = true;
        auto [ec] = co_await asioctx::async_sleep(ctx, 1h, asio::as_tuple(asio::use_awaitable));
        slept = ec;
        why = asioctx::cause(ctx);
        co_return ahttp::response{};
    });
    send(get("/slow"));
    BOOST_REQUIRE(entered);
    BOOST_TEST(!slept);
    client.close(); // the server's background read sees end of stream
    settle();
    BOOST_TEST((slept == asioctx::error::canceled));
    BOOST_TEST((why == ahttp::error::client_disconnected));
    BOOST_TEST(finished);
    // An orderly end of stream may be a half-close: the handler's answer is still
    // written, as Go's net/http writes it, and the connection then closes.
    auto rs = responses();
    BOOST_REQUIRE(rs.size() == 1u);
    BOOST_TEST(!rs[0].keep_alive());
}

// Beast 1.81's test::stream has no per-operation cancellation: the background read of a
// request whose handler waited stays pending and reads the next request. (Closing idle
// connections when `accepting` ends needs that cancellation: tested over sockets.)
BOOST_FIXTURE_TEST_CASE(a_watch_read_the_stream_cannot_cancel_reads_the_next_request, session_fixture)
{
    int yielded = 0;
    start([&](asioctx::context, ahttp::incoming& in) -> asio::awaitable<ahttp::response> {
        co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
        ++yielded;
        co_return ahttp::make_response(in.header(), bhttp::status::ok, std::string(in.header().target()));
    });
    send(get("/one"));
    BOOST_TEST(responses().size() == 1u);
    send(get("/two"));
    auto rs = responses();
    BOOST_REQUIRE_EQUAL(rs.size(), 1u);
    BOOST_TEST(rs[0].body() == "/two");
    BOOST_TEST(yielded == 2);
    client.close();
    settle();
    BOOST_TEST(finished);
}

BOOST_FIXTURE_TEST_CASE(ending_accepting_lets_the_request_in_progress_finish, session_fixture)
{
    asioctx::cancellable release = asioctx::with_cancel(root);
    error_code handler_ctx_err;
    start([&](asioctx::context ctx, ahttp::incoming& in) -> asio::awaitable<ahttp::response> {
        co_await asioctx::async_wait(release.ctx, asio::as_tuple(asio::use_awaitable));
        handler_ctx_err = ctx.err();
        co_return ahttp::make_response(in.header(), bhttp::status::ok, "drained");
    });
    send(get("/work"));
    accepting.cancel();
    settle();
    BOOST_TEST(!finished);
    release.cancel();
    settle();
    auto rs = responses();
    BOOST_REQUIRE_EQUAL(rs.size(), 1u);
    BOOST_TEST(rs[0].body() == "drained");
    BOOST_TEST(!rs[0].keep_alive()); // Connection: close
    BOOST_TEST(!handler_ctx_err);
    BOOST_TEST(finished);
}

BOOST_FIXTURE_TEST_CASE(ending_the_requests_context_cancels_the_handler, session_fixture)
{
    error_code slept, why;
    start([&](asioctx::context ctx, ahttp::incoming& in) -> asio::awaitable<ahttp::response> {
        auto [ec] = co_await asioctx::async_sleep(ctx, 1h, asio::as_tuple(asio::use_awaitable));
        slept = ec;
        why = asioctx::cause(ctx);
        co_return ahttp::make_response(in.header(), bhttp::status::service_unavailable, "stopping");
    });
    send(get("/work"));
    requests.cancel(ahttp::make_error_code(ahttp::error::server_shutdown));
    settle();
    BOOST_TEST((slept == asioctx::error::canceled));
    BOOST_TEST((why == ahttp::error::server_shutdown));
    auto rs = responses();
    BOOST_REQUIRE_EQUAL(rs.size(), 1u);
    BOOST_TEST(rs[0].result() == bhttp::status::service_unavailable);
}

BOOST_FIXTURE_TEST_CASE(an_oversized_header_gets_431_and_the_end, session_fixture)
{
    options.header_limit = 256;
    start(answer_target);
    send(get("/", "X-Big: " + std::string(400, 'a') + "\r\n"));
    expect_final_answer(bhttp::status::request_header_fields_too_large);
}

BOOST_FIXTURE_TEST_CASE(an_oversized_body_gets_413_and_the_end, session_fixture)
{
    options.body_limit = 10;
    start(answer_target);
    send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\nhello world");
    expect_final_answer(bhttp::status::payload_too_large);
}

BOOST_FIXTURE_TEST_CASE(a_malformed_request_gets_400_and_the_end, session_fixture)
{
    start(answer_target);
    send("GET / HTTP/1.1\r\nHost t\r\n\r\n");
    expect_final_answer(bhttp::status::bad_request);
}

BOOST_FIXTURE_TEST_CASE(a_throwing_handler_gets_500_and_the_session_goes_on, session_fixture)
{
    start([](asioctx::context, ahttp::incoming& in) -> asio::awaitable<ahttp::response> {
        if(in.header().target() == "/throw")
            throw std::runtime_error("handler bug");
        co_return ahttp::make_response(in.header(), bhttp::status::ok, "fine");
    });
    send(get("/throw"));
    send(get("/next"));
    auto rs = responses();
    BOOST_REQUIRE_EQUAL(rs.size(), 2u);
    BOOST_TEST(rs[0].result() == bhttp::status::internal_server_error);
    BOOST_TEST(rs[1].body() == "fine");
    BOOST_TEST(!finished);
}

BOOST_FIXTURE_TEST_CASE(unsafe_request_ids_are_replaced_never_echoed, session_fixture)
{
    start(ahttp::chain(ahttp::request_ids(), answer_target));
    send(get("/", "X-Request-ID: <script>alert(1)</script>\r\n"));
    send(get("/", "X-Request-ID: good-id.1\r\n"));
    auto rs = responses();
    BOOST_REQUIRE_EQUAL(rs.size(), 2u);
    auto minted = std::string(rs[0]["X-Request-ID"]);
    BOOST_TEST(minted.size() == 32u);
    BOOST_TEST(minted.find_first_not_of("0123456789abcdef") == std::string::npos);
    BOOST_TEST(rs[1]["X-Request-ID"] == "good-id.1");
}

BOOST_FIXTURE_TEST_CASE(jwt_attacks_get_401_before_the_handler_runs, session_fixture)
{
    ahttp::jwt_options jwt;
    jwt.keys = {ahttp::jwt_key::hmac(ahttp::jwt_key::algorithm::hs256, secret)};
    int handled = 0;
    start(ahttp::chain(ahttp::bearer_auth(ahttp::jwt_verifier(jwt)),
        [&](asioctx::context ctx, ahttp::incoming& in) -> asio::awaitable<ahttp::response> {
            ++handled;
            co_return ahttp::make_response(in.header(), bhttp::status::ok, ahttp::request_claims(ctx)->subject);
        }));
    std::string const header = R"({"alg":"HS256","typ":"JWT"})";
    std::string const payload = R"({"sub":"alice","exp":)" + exp_in(1h) + "}";
    std::string const valid = hs256_token(header, payload);
    std::vector<std::string> const attacks = {
        ahttp::base64url_encode(R"({"alg":"none"})") + "." + ahttp::base64url_encode(payload) + ".",                   // alg none, no signature
        ahttp::base64url_encode(R"({"alg":"none"})") + "." + ahttp::base64url_encode(payload) + "." + ahttp::base64url_encode("x"), // alg none, junk signature
        hs256_token(header, payload, "another-secret-0123456789abcdefgh"),                // wrong key
        hs256_token(header, R"({"sub":"alice","exp":)" + exp_in(-1h) + "}"),               // expired
        hs256_token(header, R"({"sub":"alice"})"),                                       // no exp
        valid.substr(0, valid.find('.') + 1) + ahttp::base64url_encode(R"({"sub":"admin","exp":)" + exp_in(1h) + "}") +
            valid.substr(valid.rfind('.')),                                              // payload swapped
        hs256_token(R"({"alg":"HS256","crit":["x"]})", payload),                         // unknown critical header
        "not-a-token",
    };
    for(auto const& token : attacks)
        send(get("/", "Authorization: Bearer " + token + "\r\n"));
    send(get("/", "Authorization: bEaReR " + valid + "\r\n"));
    auto rs = responses();
    BOOST_REQUIRE_EQUAL(rs.size(), attacks.size() + 1);
    for(std::size_t i = 0; i < attacks.size(); ++i)
    {
        BOOST_TEST_CONTEXT("attack " << i)
        {
            BOOST_TEST(rs[i].result() == bhttp::status::unauthorized);
            BOOST_TEST(rs[i][bhttp::field::www_authenticate] == "Bearer error=\"invalid_token\"");
        }
    }
    BOOST_TEST(rs.back().result() == bhttp::status::ok);
    BOOST_TEST(rs.back().body() == "alice");
    BOOST_TEST(handled == 1);
}

BOOST_AUTO_TEST_SUITE_END()
