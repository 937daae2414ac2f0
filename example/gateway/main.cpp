// The gateway demo: request id, then auth (JWT HS256), then the deadline budget, then a
// handler that calls an upstream with what is left of the budget.
//
//   gateway                      a self-contained demonstration on loopback
//   gateway --listen ADDR:PORT   serve until SIGINT/SIGTERM (graceful shutdown)
//           [--jwt-secret S]     HS256 key (else $ASIOCTX_DEMO_JWT_SECRET, else a demo key)
//           [--upstream URL]     http://host:port of the upstream (else an embedded one)
//
// Routes: GET /healthz (no auth), GET /hello (auth; JSON with request_id and sub),
// GET /slow?ms=N (auth; the upstream waits N ms; 504 when the budget runs out first).
// The budget header is Request-Timeout (grpc-timeout grammar, e.g. 250m).

#include <asioctx.hpp>
#include <asioctx/http/budget.hpp>
#include <asioctx/http/client.hpp>
#include <asioctx/http/middleware.hpp>
#include <asioctx/http/server.hpp>
#include <asioctx/http/traceparent.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>


#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ahttp = asioctx::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using boost::system::error_code;

namespace {

constexpr char const* demo_secret = "asioctx-demo-secret-do-not-use-in-production!";

// ---- a demo token -------------------------------------------------------------------

std::string mint_hs256(std::string const& secret, std::string const& subject)
{
    auto const exp = std::chrono::duration_cast<std::chrono::seconds>(
        std::chrono::system_clock::now().time_since_epoch() + 1h).count();
    return ahttp::jwt_key::hmac(ahttp::jwt_key::algorithm::hs256, secret)
        .sign(R"({"sub":")" + subject + R"(","scope":"demo","exp":)" + std::to_string(exp) + "}");
}


// ---- the services -----------------------------------------------------------------

std::optional<long> query_ms(std::string_view target)
{
    auto const q = target.find("?ms=");
    if(q == target.npos)
        return std::nullopt;
    auto digits = target.substr(q + 4);
    if(digits.empty() || digits.size() > 6 || digits.find_first_not_of("0123456789") != digits.npos)
        return std::nullopt;
    return std::stol(std::string(digits));
}

struct upstream_events
{
    std::atomic<int> closed{0};
    std::string last_budget;
};

// The upstream: waits N ms unless its request's context ends first.
ahttp::handler upstream_service(upstream_events& events)
{
    auto wait = [&events](asioctx::context ctx, ahttp::incoming& in) -> asio::awaitable<ahttp::response> {
        auto ms = query_ms(in.header().target()).value_or(0);
        if(auto it = in.header().find("Request-Timeout"); it != in.header().end())
            events.last_budget = std::string(it->value());
        auto const start = std::chrono::steady_clock::now();
        auto [ec] = co_await asioctx::async_sleep(ctx, std::chrono::milliseconds(ms), asio::as_tuple(asio::use_awaitable));
        auto const took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
        if(ec)
        {
            std::cout << "  upstream: request " << ahttp::request_id(ctx) << " ended after " << took.count()
                      << " ms: " << asioctx::cause(ctx).message() << "\n";
            if(asioctx::cause(ctx) == ahttp::error::client_disconnected)
                ++events.closed;
            throw boost::system::system_error(ec);
        }
        co_return ahttp::make_response(in.header(), bhttp::status::ok, "waited " + std::to_string(ms) + " ms\n");
    };
    return ahttp::chain(ahttp::request_ids(), ahttp::deadline_budget(), wait);
}

// The upstream is called through the library's fetch client with the request's context:
// its id, the next hop of its traceparent and its remaining budget go along, and when the
// context ends (budget spent, client gone) the call stops and its connection closes,
// which the upstream sees.
ahttp::handler gateway_service(std::string const& secret, ahttp::client& upstream_client, std::string upstream, ahttp::log_sink log)
{
    ahttp::jwt_options jwt;
    jwt.keys = {ahttp::jwt_key::hmac(ahttp::jwt_key::algorithm::hs256, secret)};
    ahttp::jwt_verifier verifier(jwt);

    auto routes = [&upstream_client, upstream](asioctx::context ctx, ahttp::incoming& in) -> asio::awaitable<ahttp::response> {
        auto const target = std::string_view(in.header().target());
        if(target == "/hello")
        {
            boost::json::object body{{"request_id", ahttp::request_id(ctx)}, {"sub", ahttp::request_claims(ctx)->subject}};
            auto res = ahttp::make_response(in.header(), bhttp::status::ok, boost::json::serialize(body) + "\n");
            res.set(bhttp::field::content_type, "application/json");
            co_return res;
        }
        if(target.substr(0, 5) == "/slow")
        {
            auto ms = query_ms(target);
            if(!ms)
                co_return ahttp::make_response(in.header(), bhttp::status::bad_request, "ms=N expected\n");
            auto [ec, up] = co_await upstream_client.async_get(
                ctx, upstream + "/wait?ms=" + std::to_string(*ms), asio::as_tuple(asio::use_awaitable));
            if(ec == asioctx::error::deadline_exceeded)
                co_return ahttp::make_response(in.header(), bhttp::status::gateway_timeout, "budget exhausted upstream\n");
            if(ec || up.result() != bhttp::status::ok)
                co_return ahttp::make_response(in.header(), bhttp::status::bad_gateway, "upstream failed\n");
            co_return ahttp::make_response(in.header(), bhttp::status::ok, "upstream: " + up.body());
        }
        co_return ahttp::make_response(in.header(), bhttp::status::not_found, "not found\n");
    };
    auto authed = ahttp::chain(ahttp::bearer_auth(verifier), ahttp::deadline_budget(), routes);
    auto router = [authed](asioctx::context ctx, ahttp::incoming& in) -> asio::awaitable<ahttp::response> {
        if(in.header().target() == "/healthz")
            co_return ahttp::make_response(in.header(), bhttp::status::ok, "ok\n");
        co_return co_await authed(ctx, in);
    };
    return ahttp::chain(ahttp::request_ids(), ahttp::access_log(std::move(log)), router);
}

// ---- the scripted client of the demonstration -----------------------------------------

struct exchange
{
    bhttp::response<bhttp::string_body> res;
    std::chrono::milliseconds took{};
};

asio::awaitable<exchange> request(unsigned short port, std::string target, std::string token,
    std::string id = {}, std::string budget = {})
{
    beast::tcp_stream s(co_await asio::this_coro::executor);
    co_await s.async_connect({asio::ip::address_v4::loopback(), port}, asio::use_awaitable);
    bhttp::request<bhttp::string_body> req(bhttp::verb::get, target, 11);
    req.set(bhttp::field::host, "gateway");
    if(!token.empty())
        req.set(bhttp::field::authorization, "Bearer " + token);
    if(!id.empty())
        req.set("X-Request-ID", id);
    if(!budget.empty())
        req.set("Request-Timeout", budget);
    auto const start = std::chrono::steady_clock::now();
    co_await bhttp::async_write(s, req, asio::use_awaitable);
    beast::flat_buffer buffer;
    exchange e;
    co_await bhttp::async_read(s, buffer, e.res, asio::use_awaitable);
    e.took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    co_return e;
}

asio::awaitable<bool> demonstrate(unsigned short port, std::string secret, upstream_events& events)
{
    auto const token = mint_hs256(secret, "ada");
    bool ok = true;

    auto e1 = co_await request(port, "/hello", token, "demo-1");
    std::cout << "1. GET /hello with a token, X-Request-ID: demo-1 -> " << e1.res.result_int()
              << ", X-Request-ID: " << e1.res["X-Request-ID"] << ", body: " << e1.res.body();
    ok = ok && e1.res.result_int() == 200 && e1.res["X-Request-ID"] == "demo-1";

    auto e2 = co_await request(port, "/hello", "");
    std::cout << "2. GET /hello without a token -> " << e2.res.result_int() << " (WWW-Authenticate: "
              << e2.res[bhttp::field::www_authenticate] << "), X-Request-ID minted: " << e2.res["X-Request-ID"].size()
              << " hex digits\n";
    ok = ok && e2.res.result_int() == 401;

    auto e3 = co_await request(port, "/slow?ms=2000", token, "demo-3", "150m");
    std::cout << "3. GET /slow?ms=2000 with Request-Timeout: 150m -> " << e3.res.result_int() << " " << e3.res.body()
              << "   answered in under a second: " << (e3.took < 1s) << ", the upstream was given less than 150 ms: "
              << (ahttp::parse_budget(events.last_budget).value_or(1s) < 150ms) << "\n";
    ok = ok && e3.res.result_int() == 504 && e3.took < 1s;

    // 4: the client goes away in the middle; the gateway's upstream call stops and its
    // connection closes, which the upstream sees at once.
    int const closed_before = events.closed;
    {
        tcp::socket s(co_await asio::this_coro::executor);
        co_await s.async_connect({asio::ip::address_v4::loopback(), port}, asio::use_awaitable);
        std::string const req = "GET /slow?ms=5000 HTTP/1.1\r\nHost: gateway\r\nX-Request-ID: demo-4\r\n"
                                "Authorization: Bearer " + token + "\r\n\r\n";
        co_await asio::async_write(s, asio::buffer(req), asio::use_awaitable);
        asio::steady_timer t(co_await asio::this_coro::executor, 100ms);
        co_await t.async_wait(asio::use_awaitable);
        std::cout << "4. GET /slow?ms=5000, the client disconnects after 100 ms\n";
    }
    auto const disconnected = std::chrono::steady_clock::now();
    while(events.closed == closed_before && std::chrono::steady_clock::now() - disconnected < 5s)
    {
        asio::steady_timer t(co_await asio::this_coro::executor, 5ms);
        co_await t.async_wait(asio::use_awaitable);
    }
    auto const lag = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - disconnected);
    std::cout << "   the upstream saw its connection closed " << (lag < 1s ? "at once" : "late") << "\n";
    ok = ok && events.closed > closed_before && lag < 1s;
    co_return ok;
}

std::optional<tcp::endpoint> parse_listen(std::string const& text)
{
    auto colon = text.rfind(':');
    if(colon == text.npos)
        return std::nullopt;
    error_code ec;
    auto address = asio::ip::make_address(text.substr(0, colon), ec);
    auto port = text.substr(colon + 1);
    if(ec || port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != port.npos ||
        std::stoul(port) > 65535)
        return std::nullopt;
    return tcp::endpoint(address, static_cast<unsigned short>(std::stoul(port)));
}

int usage()
{
    std::cerr << "usage: gateway [--listen ADDR:PORT] [--jwt-secret SECRET] [--upstream http://HOST:PORT]\n";
    return 2;
}

} // namespace

int main(int argc, char** argv)
{
    std::optional<tcp::endpoint> listen;
    std::string secret = std::getenv("ASIOCTX_DEMO_JWT_SECRET") ? std::getenv("ASIOCTX_DEMO_JWT_SECRET") : "";
    std::string upstream_url;
    for(int i = 1; i < argc; ++i)
    {
        std::string const arg = argv[i];
        if(i + 1 >= argc)
            return usage();
        if(arg == "--listen" && !(listen = parse_listen(argv[++i])))
            return usage();
        else if(arg == "--jwt-secret")
            secret = argv[++i];
        else if(arg == "--upstream")
            upstream_url = argv[++i];
        else if(arg != "--listen")
            return usage();
    }
    if(secret.empty())
    {
        secret = demo_secret;
        std::cout << "gateway: demo HS256 key (set --jwt-secret or ASIOCTX_DEMO_JWT_SECRET): " << secret << "\n";
    }
    if(secret.size() < 32)
    {
        std::cerr << "gateway: the HS256 key must be at least 32 bytes\n";
        return 2;
    }

    asio::io_context ioc;
    auto root = asioctx::with_executor(asioctx::background(), ioc.get_executor());
    upstream_events events;

    // The upstream: embedded on a loopback port unless --upstream names one.
    std::optional<ahttp::server> upstream;
    std::string upstream_base = upstream_url;
    if(upstream_url.empty())
    {
        upstream.emplace(ioc.get_executor(), root, upstream_service(events));
        upstream->listen({asio::ip::address_v4::loopback(), 0});
        upstream->async_run(asio::detached);
        upstream_base = "http://127.0.0.1:" + std::to_string(upstream->local_endpoint().port());
    }
    else
    {
        auto url = boost::urls::parse_uri(upstream_url);
        if(!url || (url->scheme() != "http" && url->scheme() != "https") || !url->encoded_path().empty())
        {
            std::cerr << "gateway: --upstream must be http://HOST:PORT (or https://)\n";
            return 2;
        }
    }
    ahttp::client upstream_client(ioc.get_executor());

    bool const demonstration = !listen;
    ahttp::server gateway(ioc.get_executor(), root,
        gateway_service(secret, upstream_client, upstream_base,
            ahttp::stream_sink(std::cout)));
    gateway.listen(listen.value_or(tcp::endpoint(asio::ip::address_v4::loopback(), 0)));
    gateway.async_run(asio::detached);
    std::cout << "gateway: listening on " << gateway.local_endpoint() << ", upstream " << upstream_base << "\n";

    asio::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](error_code ec, int) {
        if(ec)
            return;
        std::cout << "gateway: shutting down\n";
        gateway.stop();
        if(upstream)
            upstream->stop();
    });

    bool ok = true;
    if(demonstration)
    {
        asio::co_spawn(ioc, demonstrate(gateway.local_endpoint().port(), secret, events),
            [&](std::exception_ptr e, bool r) {
                ok = !e && r;
                signals.cancel();
                gateway.stop();
                if(upstream)
                    upstream->stop();
            });
    }
    ioc.run();
    if(demonstration)
        std::cout << (ok ? "gateway: ok" : "gateway: FAILED") << "\n";
    return ok ? 0 : 1;
}
