// Tests for <asioctx/http/client.hpp>, against servers on loopback: the library's own
// server, and raw ones that answer slowly, drip, close mid-body or never answer.
#include <asioctx/core/cancel.hpp>
#include <asioctx/asio/deadline.hpp>
#include <asioctx/asio/executor.hpp>
#include <asioctx/http/budget.hpp>
#include <asioctx/http/client.hpp>
#include <asioctx/http/error.hpp>
#include <asioctx/http/request_id.hpp>
#include <asioctx/http/traceparent.hpp>
#include <asioctx/asio/sleep.hpp>

#include "certificate.hpp"
#include "servers.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <boost/test/unit_test.hpp>

#include <dirent.h>

#include <chrono>
#include <condition_variable>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <thread>

using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
namespace ahttp = asioctx::http;
using boost::system::error_code;
using clock_type = std::chrono::steady_clock;

namespace {

// The client side: a client on an io_context run by one background thread.
struct client_fixture
{
    asio::io_context ioc;
    asio::executor_work_guard<asio::io_context::executor_type> work{ioc.get_executor()};
    asioctx::context root = asioctx::with_executor(asioctx::background(), ioc.get_executor());
    std::optional<ahttp::client> c;
    std::jthread thread{[this] { ioc.run(); }};

    explicit client_fixture(ahttp::client_options o = {})
    {
        c.emplace(ioc.get_executor(), std::move(o));
    }

    ~client_fixture()
    {
        c.reset();
        work.reset();
        thread.join();
    }

    // Fetches and waits; returns the error and the response.
    std::pair<error_code, ahttp::fetch_response> fetch(asioctx::context ctx, ahttp::fetch_request req)
    {
        std::promise<std::pair<error_code, ahttp::fetch_response>> p;
        auto f = p.get_future();
        c->async_fetch(std::move(ctx), std::move(req), [&p](error_code ec, ahttp::fetch_response res) {
            p.set_value({ec, std::move(res)});
        });
        return f.get();
    }

    std::pair<error_code, ahttp::fetch_response> get(asioctx::context ctx, std::string url)
    {
        ahttp::fetch_request req;
        req.url = std::move(url);
        return fetch(std::move(ctx), std::move(req));
    }
};

std::string url(unsigned short port, std::string_view target = "/")
{
    return "http://127.0.0.1:" + std::to_string(port) + std::string(target);
}

// Records what the library's server received.
struct seen_request
{
    std::mutex mutex;
    std::map<std::string, std::string> fields;
    std::vector<std::string> peers;
};

ahttp::handler recording(seen_request& seen)
{
    return [&seen](asioctx::context, ahttp::incoming& in) -> asio::awaitable<ahttp::response> {
        {
            std::lock_guard<std::mutex> g(seen.mutex);
            seen.fields.clear();
            for(auto const& f : in.header())
                seen.fields[std::string(f.name_string())] = std::string(f.value());
            seen.peers.push_back(in.peer());
        }
        co_return ahttp::make_response(in.header(), bhttp::status::ok, "seen " + std::string(in.header().target()));
    };
}

// A handler that sleeps `ms` through its context and records how that ended.
ahttp::handler sleeping(std::chrono::milliseconds ms, std::promise<error_code>* ended = nullptr)
{
    return [ms, ended](asioctx::context ctx, ahttp::incoming& in) -> asio::awaitable<ahttp::response> {
        co_await asioctx::async_sleep(ctx, ms, asio::as_tuple(asio::use_awaitable));
        if(ended)
            ended->set_value(asioctx::cause(ctx));
        co_return ahttp::make_response(in.header(), bhttp::status::ok, "slept");
    };
}

std::size_t open_descriptors()
{
    std::size_t n = 0;
    if(DIR* d = opendir("/proc/self/fd"))
    {
        while(readdir(d))
            ++n;
        closedir(d);
    }
    return n;
}

} // namespace

BOOST_AUTO_TEST_SUITE(http_client)

BOOST_AUTO_TEST_CASE(fetches_and_propagates_id_trace_and_budget)
{
    seen_request seen;
    test::test_server server(recording(seen));
    client_fixture f;

    // A context with nothing to propagate adds nothing.
    auto [ec0, r0] = f.get(f.root, url(server.port(), "/plain"));
    BOOST_REQUIRE(!ec0);
    BOOST_TEST(r0.body() == "seen /plain");
    BOOST_TEST(seen.fields.count("X-Request-ID") == 0u);
    BOOST_TEST(seen.fields.count("traceparent") == 0u);
    BOOST_TEST(seen.fields.count("Request-Timeout") == 0u);
    BOOST_TEST(seen.fields["Host"] == "127.0.0.1:" + std::to_string(server.port()));

    auto tp = ahttp::parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    BOOST_REQUIRE(tp);
    auto ctx = ahttp::with_traceparent(ahttp::with_request_id(f.root, "edge-42"), *tp);
    auto [bounded, cancel] = asioctx::with_timeout(ctx, 2s);
    auto [ec, r] = f.get(bounded, url(server.port(), "/with?x=1"));
    BOOST_REQUIRE(!ec);
    BOOST_TEST(r.body() == "seen /with?x=1");
    BOOST_TEST(seen.fields["X-Request-ID"] == "edge-42");
    auto next = ahttp::parse_traceparent(seen.fields["traceparent"]);
    BOOST_REQUIRE(next);
    BOOST_TEST(next->trace_id == tp->trace_id);   // the same trace
    BOOST_TEST(next->parent_id != tp->parent_id); // a new parent
    auto budget = ahttp::parse_budget(seen.fields["Request-Timeout"]);
    BOOST_REQUIRE(budget);
    BOOST_TEST((*budget <= 2s && *budget > 1s)); // what remained when it was sent
}

// The propagation policy, applied as the request leaves: tracestate beside the
// traceparent, baggage, the budget less the reserve and at most the maximum, in the
// header and format the policy names; a reserve that leaves nothing fails unsent.
BOOST_AUTO_TEST_CASE(the_propagation_policy_shapes_what_the_next_hop_gets)
{
    seen_request seen;
    test::test_server server(recording(seen));
    ahttp::client_options o;
    o.propagation.reserve = 500ms;
    o.propagation.outbound_max = 1200ms;
    o.propagation.outbound_budget = {"x-envoy-expected-rq-timeout-ms", ahttp::budget_format::milliseconds};
    client_fixture f(o);

    auto tp = ahttp::parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    BOOST_REQUIRE(tp);
    auto ctx = ahttp::with_trace_fields(ahttp::with_traceparent(f.root, *tp), "vendor=abc,other@sys=1", "user=alice;p=1");
    {
        auto [bounded, cancel] = asioctx::with_timeout(ctx, 10s);
        auto [ec, r] = f.get(bounded, url(server.port(), "/x"));
        BOOST_REQUIRE(!ec);
        BOOST_TEST(seen.fields["tracestate"] == "vendor=abc,other@sys=1");
        BOOST_TEST(seen.fields["baggage"] == "user=alice;p=1");
        BOOST_TEST(seen.fields.count("Request-Timeout") == 0u);
        BOOST_TEST(seen.fields["x-envoy-expected-rq-timeout-ms"] == "1200"); // the maximum
    }
    {
        auto [bounded, cancel] = asioctx::with_timeout(ctx, 1s);
        auto [ec, r] = f.get(bounded, url(server.port(), "/y"));
        BOOST_REQUIRE(!ec);
        auto const told = std::stoi(seen.fields["x-envoy-expected-rq-timeout-ms"]);
        BOOST_TEST((told <= 500 && told > 0)); // 1 s less the 500 ms reserve
    }
    {
        seen.fields.clear();
        auto [bounded, cancel] = asioctx::with_timeout(ctx, 400ms);
        auto [ec, r] = f.get(bounded, url(server.port(), "/z"));
        BOOST_TEST((ec == asioctx::error::deadline_exceeded)); // the reserve leaves nothing
    }
    // Without a traceparent, tracestate has nothing to qualify: only baggage goes.
    seen.fields.clear();
    auto [ec, r] = f.get(ahttp::with_trace_fields(f.root, "vendor=abc", "k=v"), url(server.port(), "/w"));
    BOOST_REQUIRE(!ec);
    BOOST_TEST(seen.fields.count("tracestate") == 0u);
    BOOST_TEST(seen.fields["baggage"] == "k=v");
}

BOOST_AUTO_TEST_CASE(a_slow_server_ends_with_the_deadline_and_sees_the_close)
{
    std::promise<error_code> handler_ended;
    test::test_server server(sleeping(10s, &handler_ended));
    client_fixture f;
    auto [ctx, cancel] = asioctx::with_timeout(f.root, 200ms);
    auto const start = clock_type::now();
    auto [ec, r] = f.get(ctx, url(server.port()));
    auto const took = clock_type::now() - start;
    BOOST_TEST((ec == asioctx::error::deadline_exceeded));
    BOOST_TEST((took >= 190ms && took < 2s));
    // The server's handler was cancelled because the client closed the connection.
    auto ended = handler_ended.get_future();
    BOOST_REQUIRE((ended.wait_for(5s) == std::future_status::ready));
    BOOST_TEST((ended.get() == ahttp::error::client_disconnected));
    BOOST_TEST(f.c->idle_connections() == 0u);
}

BOOST_AUTO_TEST_CASE(a_server_that_never_answers_or_drips_is_cut_off_at_the_deadline)
{
    std::optional<test::raw_server> silent;
    silent.emplace([&](test::raw_server::socket_type& s) {
        test::raw_server::read_request(s);
        silent->wait_for_close(s);
    });
    std::optional<test::raw_server> dripping;
    dripping.emplace([&](test::raw_server::socket_type& s) {
        test::raw_server::read_request(s);
        std::string const response = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + std::string(1000, 'x');
        error_code ec;
        for(char c : response)
        {
            asio::write(s, asio::buffer(&c, 1), ec);
            if(ec)
                break;
            std::this_thread::sleep_for(20ms); // a byte every 20 ms: never idle for long
        }
        dripping->wait_for_close(s);
    });
    client_fixture f;
    for(auto* server : {&*silent, &*dripping})
    {
        auto [ctx, cancel] = asioctx::with_timeout(f.root, 300ms);
        auto const start = clock_type::now();
        auto [ec, r] = f.get(ctx, url(server->port()));
        auto const took = clock_type::now() - start;
        BOOST_TEST((ec == asioctx::error::deadline_exceeded));
        BOOST_TEST((took >= 290ms && took < 2s)); // the deadline holds for the whole exchange
    }
    silent.reset(); // joins: each connection saw the client close it
    dripping.reset();
}

BOOST_AUTO_TEST_CASE(distinct_errors)
{
    client_fixture f;
    // Refused: a port with no listener.
    unsigned short closed_port;
    {
        asio::io_context tmp;
        asio::ip::tcp::acceptor a(tmp, {asio::ip::address_v4::loopback(), 0});
        closed_port = a.local_endpoint().port();
    }
    BOOST_TEST((f.get(f.root, url(closed_port)).first == ahttp::error::connection_refused));

    // Closed in the middle of the body.
    test::raw_server mid_body([](test::raw_server::socket_type& s) {
        test::raw_server::read_request(s);
        asio::write(s, asio::buffer(std::string("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten..")));
    });
    BOOST_TEST((f.get(f.root, url(mid_body.port())).first == ahttp::error::closed_mid_body));

    // Closed before any response.
    test::raw_server hang_up([](test::raw_server::socket_type& s) { test::raw_server::read_request(s); });
    BOOST_TEST((f.get(f.root, url(hang_up.port())).first == ahttp::error::closed_before_response));

    // Not HTTP.
    test::raw_server garbage([](test::raw_server::socket_type& s) {
        test::raw_server::read_request(s);
        asio::write(s, asio::buffer(std::string("SMTP ready\r\n\r\n")));
    });
    BOOST_TEST((f.get(f.root, url(garbage.port())).first == ahttp::error::malformed_response));

    // A body over the limit.
    test::test_server big([](asioctx::context, ahttp::incoming& in) -> asio::awaitable<ahttp::response> {
        co_return ahttp::make_response(in.header(), bhttp::status::ok, std::string(10'000, 'b'));
    });
    ahttp::client_options small;
    small.body_limit = 1000;
    client_fixture limited(small);
    BOOST_TEST((limited.get(limited.root, url(big.port())).first == ahttp::error::response_too_large));

    // Bad URLs and fields, before any connection.
    for(std::string bad : {"ftp://127.0.0.1/", "http:///nohost", "http://user:pw@127.0.0.1/", "not a url"})
        BOOST_TEST((f.get(f.root, bad).first == ahttp::error::bad_url), bad);
    ahttp::fetch_request injected;
    injected.url = url(big.port());
    injected.fields.set("X-Note", "a\r\nX-Injected: 1");
    BOOST_TEST((f.fetch(f.root, injected).first == ahttp::error::unsafe_field));
}

BOOST_AUTO_TEST_CASE(resolution_that_outlives_the_fetch_leaks_nothing)
{
    auto lookups_done = std::make_shared<std::atomic<int>>(0);
    std::vector<std::jthread> lookups;
    std::mutex lookups_mutex;
    ahttp::client_options o;
    o.resolve = [&](std::string const& host, std::string const& service, auto done) {
        std::lock_guard<std::mutex> g(lookups_mutex);
        lookups.emplace_back([host, service, done, lookups_done] {
            std::this_thread::sleep_for(1s); // a lookup that cannot be interrupted
            if(host == "fails.test")
            {
                done(asio::error::host_not_found, {});
            }
            else
                done({}, asio::ip::tcp::resolver::results_type::create(
                             {asio::ip::address_v4::loopback(), static_cast<unsigned short>(std::stoi(service))}, host, service));
            ++*lookups_done;
        });
    };
    {
        client_fixture f(o);
        auto [ctx, cancel] = asioctx::with_timeout(f.root, 100ms);
        auto const start = clock_type::now();
        auto [ec, r] = f.get(ctx, "http://slow-dns.test:1/");
        BOOST_TEST((ec == asioctx::error::deadline_exceeded));
        BOOST_TEST((clock_type::now() - start < 800ms)); // on time, not when the lookup ends
        BOOST_TEST((f.get(f.root, "http://fails.test/").first == ahttp::error::resolve_failed));
    }
    for(auto& t : lookups)
        t.join(); // the late completion found nothing to touch (ASan)
    BOOST_TEST(*lookups_done == 2);
}

BOOST_AUTO_TEST_CASE(tls_verifies_the_peer)
{
    auto [cert, key] = test::self_signed_localhost();
    asio::ssl::context server_tls(asio::ssl::context::tls_server);
    server_tls.use_certificate_chain(asio::buffer(cert));
    server_tls.use_private_key(asio::buffer(key), asio::ssl::context::pem);
    seen_request seen;
    asio::io_context sio;
    ahttp::server srv(sio.get_executor(), asioctx::background(), recording(seen), server_tls);
    srv.listen({asio::ip::address_v4::loopback(), 0});
    srv.async_run([](std::exception_ptr) {});
    test::io_thread runner(sio);
    std::string const https = "https://localhost:" + std::to_string(srv.local_endpoint().port()) + "/secure";
    {
        client_fixture by_default; // system roots: a self-signed certificate is refused
        BOOST_TEST((by_default.get(by_default.root, https).first == ahttp::error::tls_failed));
    }
    {
        asio::ssl::context trusting(asio::ssl::context::tls_client);
        trusting.add_certificate_authority(asio::buffer(cert));
        ahttp::client_options o;
        o.tls = &trusting;
        client_fixture f(o);
        auto [ec, r] = f.get(f.root, https);
        BOOST_REQUIRE(!ec);
        BOOST_TEST(r.body() == "seen /secure");
        BOOST_TEST(f.c->idle_connections() == 1u);
        auto [ec2, r2] = f.get(f.root, https); // on the pooled TLS connection
        BOOST_REQUIRE(!ec2);
        BOOST_TEST(r2.body() == "seen /secure");
        BOOST_TEST(f.c->idle_connections() == 1u);
        // The name must match too: the certificate is for "localhost", not 127.0.0.1.
        auto by_ip = "https://127.0.0.1:" + std::to_string(srv.local_endpoint().port()) + "/";
        BOOST_TEST((f.get(f.root, by_ip).first == ahttp::error::tls_failed));
    }
    srv.stop();
    runner.join();
}

BOOST_AUTO_TEST_CASE(connections_are_reused_but_never_after_a_cancel)
{
    seen_request seen;
    test::test_server server([&](asioctx::context ctx, ahttp::incoming& in) -> asio::awaitable<ahttp::response> {
        {
            std::lock_guard<std::mutex> g(seen.mutex);
            seen.peers.push_back(in.peer());
        }
        if(in.header().target() == "/slow")
            co_await asioctx::async_sleep(ctx, 10s, asio::as_tuple(asio::use_awaitable));
        co_return ahttp::make_response(in.header(), bhttp::status::ok, "ok");
    });
    client_fixture f;
    BOOST_TEST(!f.get(f.root, url(server.port(), "/a")).first);
    BOOST_TEST(f.c->idle_connections() == 1u);
    BOOST_TEST(!f.get(f.root, url(server.port(), "/b")).first);
    BOOST_TEST(seen.peers.at(0) == seen.peers.at(1)); // the same connection

    auto [ctx, cancel] = asioctx::with_timeout(f.root, 100ms);
    BOOST_TEST((f.get(ctx, url(server.port(), "/slow")).first == asioctx::error::deadline_exceeded));
    BOOST_TEST(f.c->idle_connections() == 0u); // the pooled one was used, then dropped
    BOOST_TEST(!f.get(f.root, url(server.port(), "/c")).first);
    BOOST_TEST(seen.peers.at(3) != seen.peers.at(1)); // a new connection
    f.c->close_idle_connections();
    BOOST_TEST(f.c->idle_connections() == 0u);
}

BOOST_AUTO_TEST_CASE(cancellation_from_another_thread_and_per_operation)
{
    test::test_server server(sleeping(10s));
    client_fixture f;
    {
        auto [ctx, cancel] = asioctx::with_cancel(f.root);
        std::jthread canceller([&cancel = cancel] {
            std::this_thread::sleep_for(100ms);
            cancel();
        });
        auto const start = clock_type::now();
        auto [ec, r] = f.get(ctx, url(server.port()));
        BOOST_TEST((ec == asioctx::error::canceled));
        BOOST_TEST((clock_type::now() - start < 2s));
        canceller.join();
    }
    {
        asio::cancellation_signal signal;
        std::promise<error_code> done;
        ahttp::fetch_request req;
        req.url = url(server.port());
        f.c->async_fetch(f.root, req,
            asio::bind_cancellation_slot(signal.slot(), [&done](error_code ec, ahttp::fetch_response) { done.set_value(ec); }));
        std::this_thread::sleep_for(100ms);
        asio::post(f.ioc, [&] { signal.emit(asio::cancellation_type::terminal); });
        auto result = done.get_future();
        BOOST_REQUIRE((result.wait_for(5s) == std::future_status::ready));
        BOOST_TEST((result.get() == asioctx::error::canceled));
    }
}

// The exchange on a pooled connection has a path of its own: per-operation cancellation
// and the close of the connection must hold there too.
BOOST_AUTO_TEST_CASE(per_operation_cancellation_of_a_fetch_on_a_pooled_connection)
{
    std::promise<error_code> handler_ended;
    test::test_server server([&](asioctx::context ctx, ahttp::incoming& in) -> asio::awaitable<ahttp::response> {
        if(in.header().target() == "/slow")
        {
            co_await asioctx::async_sleep(ctx, 10s, asio::as_tuple(asio::use_awaitable));
            handler_ended.set_value(asioctx::cause(ctx));
        }
        co_return ahttp::make_response(in.header(), bhttp::status::ok, "ok");
    });
    client_fixture f;
    BOOST_TEST(!f.get(f.root, url(server.port(), "/warm")).first);
    BOOST_REQUIRE(f.c->idle_connections() == 1u);

    asio::cancellation_signal signal;
    std::promise<error_code> done;
    ahttp::fetch_request req;
    req.url = url(server.port(), "/slow");
    f.c->async_fetch(f.root, req,
        asio::bind_cancellation_slot(signal.slot(), [&done](error_code ec, ahttp::fetch_response) { done.set_value(ec); }));
    BOOST_TEST(f.c->idle_connections() == 0u); // taken by the fetch
    std::this_thread::sleep_for(100ms);
    asio::post(f.ioc, [&] { signal.emit(asio::cancellation_type::partial); });
    auto result = done.get_future();
    BOOST_REQUIRE((result.wait_for(5s) == std::future_status::ready));
    BOOST_TEST((result.get() == asioctx::error::canceled));
    BOOST_TEST(f.c->idle_connections() == 0u); // never pooled again
    // The server saw the connection close: its request's context ended with the client.
    auto ended = handler_ended.get_future();
    BOOST_REQUIRE((ended.wait_for(5s) == std::future_status::ready));
    BOOST_TEST((ended.get() == ahttp::error::client_disconnected));
}

// A server that answers once, then closes its keep-alive connection as it idles.
// A server that answers the first request on each connection and closes the connection
// when the second arrives, without answering: the race a pool cannot see coming (the
// close crosses the request on the wire).
BOOST_AUTO_TEST_CASE(a_request_that_crosses_the_servers_close_is_retried_once_for_get_only)
{
    test::raw_server server([](test::raw_server::socket_type& s) {
        if(!test::raw_server::read_request(s))
            return;
        boost::system::error_code ec;
        asio::write(s, asio::buffer(std::string_view("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")), ec);
        test::raw_server::read_request(s);
        s.close(ec);
    });
    client_fixture f;
    BOOST_TEST(!f.get(f.root, url(server.port(), "/1")).first);
    BOOST_REQUIRE(f.c->idle_connections() == 1u);
    auto [ec, res] = f.get(f.root, url(server.port(), "/2"));
    BOOST_TEST(!ec);
    BOOST_TEST(res.body() == "ok");
    BOOST_TEST(server.accepted == 2); // the retry's connection

    ahttp::fetch_request post;
    post.method = bhttp::verb::post;
    post.url = url(server.port(), "/3");
    post.body = "payload";
    BOOST_REQUIRE(f.c->idle_connections() == 1u);
    auto [pec, pres] = f.fetch(f.root, post);
    BOOST_TEST((pec == ahttp::error::closed_before_response)); // not idempotent: never sent twice
    BOOST_TEST(server.accepted == 2);
}

// Whatever arrived on a connection while it idled in the pool (an unsolicited response,
// the server's close) means it is not taken again: its bytes would be read as the answer
// to the next request, and every later fetch on it would be one answer behind.
BOOST_AUTO_TEST_CASE(a_connection_that_became_readable_while_idle_is_never_reused)
{
    std::atomic<int> answered{0};
    test::raw_server server([&](test::raw_server::socket_type& s) {
        boost::system::error_code ec;
        while(!ec && test::raw_server::read_request(s))
        {
            auto const n = std::to_string(++answered);
            asio::write(s, asio::buffer("HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(n.size() + 1) + "\r\n\r\nr" + n), ec);
            // Then, unasked, a second response.
            asio::write(s, asio::buffer(std::string_view("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale")), ec);
        }
    });
    client_fixture f;
    for(int i = 1; i <= 3; ++i)
    {
        auto [ec, res] = f.get(f.root, url(server.port(), "/"));
        BOOST_TEST(!ec);
        BOOST_TEST(res.body() == "r" + std::to_string(i));
        std::this_thread::sleep_for(50ms); // the unsolicited bytes arrive while it idles
    }
    BOOST_TEST(server.accepted == 3);

    // A server that closes an idle connection: seen before the next request is sent, so
    // even a POST goes out once, on a new connection.
    test::raw_server closing([](test::raw_server::socket_type& s) {
        if(!test::raw_server::read_request(s))
            return;
        boost::system::error_code ec;
        asio::write(s, asio::buffer(std::string_view("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")), ec);
        s.close(ec);
    });
    BOOST_TEST(!f.get(f.root, url(closing.port(), "/1")).first);
    std::this_thread::sleep_for(100ms); // the close arrives
    ahttp::fetch_request post;
    post.method = bhttp::verb::post;
    post.url = url(closing.port(), "/2");
    post.body = "payload";
    auto [pec, pres] = f.fetch(f.root, post);
    BOOST_TEST(!pec);
    BOOST_TEST(pres.body() == "ok");
    BOOST_TEST(closing.accepted == 2);
}

// 1xx responses before the final one are skipped (a bounded number), on a new connection
// and on a pooled one.
BOOST_AUTO_TEST_CASE(interim_responses_are_skipped)
{
    auto interim_then_final = [](int interim) {
        return [interim](test::raw_server::socket_type& s) {
            boost::system::error_code ec;
            while(!ec && test::raw_server::read_request(s))
            {
                std::string out;
                for(int i = 0; i < interim; ++i)
                    out += i % 2 ? "HTTP/1.1 100 Continue\r\n\r\n" : "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n";
                out += "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal";
                asio::write(s, asio::buffer(out), ec);
            }
        };
    };
    test::raw_server hints(interim_then_final(2));
    client_fixture f;
    for(int i = 0; i < 2; ++i) // the second on the pooled connection
    {
        auto [ec, res] = f.get(f.root, url(hints.port(), "/"));
        BOOST_TEST(!ec);
        BOOST_TEST(res.result_int() == 200);
        BOOST_TEST(res.body() == "final");
    }
    BOOST_TEST(hints.accepted == 1);

    test::raw_server flood(interim_then_final(6));
    BOOST_TEST((f.get(f.root, url(flood.port(), "/")).first == ahttp::error::too_many_interim_responses));
}

// Peak resident memory of this process, in KiB.
std::size_t peak_rss_kib()
{
    std::ifstream status("/proc/self/status");
    std::string line;
    while(std::getline(status, line))
        if(line.rfind("VmHWM:", 0) == 0)
            return std::stoul(line.substr(6));
    return 0;
}

// A server that sends a chunk extension, or trailers, without end, as fast as it can:
// the client holds a bounded number of bytes and fails the fetch as malformed; one that
// drips them is ended by the deadline.
BOOST_AUTO_TEST_CASE(endless_chunk_extensions_and_trailers_are_bounded)
{
    auto endless = [](std::string start, std::string repeat, std::chrono::microseconds pause) {
        return [start, repeat, pause](test::raw_server::socket_type& s) {
            if(!test::raw_server::read_request(s))
                return;
            boost::system::error_code ec;
            asio::write(s, asio::buffer("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + start), ec);
            std::string block;
            while(block.size() < 64 * 1024 && pause.count() == 0)
                block += repeat;
            if(block.empty())
                block = repeat;
            while(!ec)
            {
                asio::write(s, asio::buffer(block), ec);
                if(pause.count())
                    std::this_thread::sleep_for(pause);
            }
        };
    };
    test::raw_server extension(endless("5;name=", "a", {}));
    test::raw_server trailers(endless("1\r\nx\r\n0\r\n", "X-Trailer: aaaaaaaaaaaaaaaaaaaaaaaa\r\n", {}));
    test::raw_server dripping(endless("5;name=", "a", 1ms));
    client_fixture f;
    auto const before = peak_rss_kib();
    for(auto* server : {&extension, &trailers})
    {
        auto [ctx, cancel] = asioctx::with_timeout(f.root, 1000ms);
        auto const start = clock_type::now();
        auto [ec, r] = f.get(ctx, url(server->port()));
        BOOST_TEST((ec == ahttp::error::malformed_response), ec.message());
        BOOST_TEST((clock_type::now() - start < 900ms));
    }
    auto const growth_kib = peak_rss_kib() - before;
    BOOST_TEST_MESSAGE("peak resident memory against endless extensions and trailers: " << before << " KiB before, "
                                                                                          << before + growth_kib
                                                                                          << " KiB after");
    BOOST_TEST(growth_kib < 32u * 1024); // unbounded, it grew by about 300 MiB a second
    {
        auto [ctx, cancel] = asioctx::with_timeout(f.root, 300ms);
        auto const start = clock_type::now();
        auto [ec, r] = f.get(ctx, url(dripping.port()));
        auto const took = clock_type::now() - start;
        BOOST_TEST((ec == asioctx::error::deadline_exceeded));
        BOOST_TEST((took >= 290ms && took < 1s));
    }
}

// A fast server sending 16 MB: a 2 ms deadline, or a cancel from another thread 1 ms
// in, ends every fetch on time. Before the stream-level binding, most completed with the
// whole body 76-112 ms later.
BOOST_AUTO_TEST_CASE(a_fetch_from_a_fast_server_ends_on_time_every_time)
{
    constexpr std::size_t big = 16 * 1024 * 1024;
    static std::string const body(big, 'x');
    test::raw_server fast([](test::raw_server::socket_type& s) {
        if(!test::raw_server::read_request(s))
            return;
        boost::system::error_code ec;
        asio::write(s, asio::buffer("HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(big) + "\r\n\r\n"), ec);
        if(!ec)
            asio::write(s, asio::buffer(body), ec);
    });
    ahttp::client_options o;
    o.body_limit = 2 * big;
    o.max_idle_per_host = 0;
    client_fixture f(o);
    int on_time = 0, by_context = 0;
    constexpr int tries = 200;
    for(int i = 0; i < 2 * tries; ++i)
    {
        bool const from_thread = i % 2 == 1;
        auto const start = clock_type::now();
        auto const after = from_thread ? 1ms : 2ms;
        auto c = from_thread ? asioctx::with_cancel(f.root) : asioctx::with_timeout(f.root, after);
        auto done_at = start + after; // or when the other thread really cancelled
        std::optional<std::jthread> canceller;
        if(from_thread)
            canceller.emplace([&c, &done_at, after] {
                std::this_thread::sleep_for(after);
                done_at = clock_type::now();
                c.cancel();
            });
        auto [ec, r] = f.get(c.ctx, url(fast.port()));
        auto const ended = clock_type::now();
        canceller.reset(); // joins: `done_at` is read after
        auto const expected = from_thread ? make_error_code(asioctx::error::canceled)
                                          : make_error_code(asioctx::error::deadline_exceeded);
        bool const ours = ec == expected;
        by_context += ours;
        // The context's error (a generous bound for a loaded machine), or success that
        // raced the end by at most one step.
        on_time += ours ? ended < done_at + 1s : (!ec && ended <= done_at + 20ms);
    }
    BOOST_TEST_MESSAGE(on_time << " of " << 2 * tries << " fetches on time, " << by_context << " by the context");
    BOOST_TEST(on_time == 2 * tries);
    BOOST_TEST(by_context >= 2 * tries * 9 / 10);
}

BOOST_AUTO_TEST_CASE(an_origin_parsed_once_serves_many_targets)
{
    seen_request seen;
    test::test_server server(recording(seen));
    client_fixture f;
    auto up = ahttp::origin::parse("http://127.0.0.1:" + std::to_string(server.port()));
    BOOST_REQUIRE(up.has_value());
    BOOST_TEST(up->text() == "http://127.0.0.1:" + std::to_string(server.port()));
    for(std::string target : {"/a", "/b?x=1", "/a"})
    {
        ahttp::fetch_request req;
        req.at = *up;
        req.target = target;
        auto [ec, res] = f.fetch(f.root, std::move(req));
        BOOST_TEST(!ec);
        BOOST_TEST(res.body() == "seen " + target);
    }
    BOOST_TEST(f.c->idle_connections() == 1u);

    for(std::string bad : {"", "a", "/a b", "/a\r\nX-Evil: 1", "/a#frag", "http://x/"})
    {
        ahttp::fetch_request req;
        req.at = *up;
        req.target = bad;
        BOOST_TEST((f.fetch(f.root, std::move(req)).first == ahttp::error::bad_url), bad);
    }
    for(std::string bad : {"ftp://h", "http://u:p@h", "http://h/path", "http://h/?q", "http://h/#f", "h:80", ""})
        BOOST_TEST((ahttp::origin::parse(bad).error() == ahttp::error::bad_url), bad);
    BOOST_TEST(ahttp::origin::parse("https://example.com/")->text() == "https://example.com:443");
    BOOST_TEST(ahttp::origin::parse("http://[::1]:8080")->text() == "http://[::1]:8080");
}

BOOST_AUTO_TEST_CASE(redirects_are_off_by_default_and_keep_credentials_home)
{
    seen_request target_seen;
    test::test_server other_origin(recording(target_seen));
    auto redirect_to = url(other_origin.port(), "/landed");
    int hops = 0;
    test::test_server redirecting([&](asioctx::context, ahttp::incoming& in) -> asio::awaitable<ahttp::response> {
        ++hops;
        auto res = ahttp::make_response(in.header(), bhttp::status::found, "");
        if(in.header().target() == "/loop")
            res.set(bhttp::field::location, "/loop");
        else
            res.set(bhttp::field::location, redirect_to);
        co_return res;
    });
    client_fixture plain;
    auto [ec0, r0] = plain.get(plain.root, url(redirecting.port(), "/go"));
    BOOST_TEST(!ec0);
    BOOST_TEST(r0.result_int() == 302); // not followed

    ahttp::client_options o;
    o.max_redirects = 3;
    client_fixture following(o);
    ahttp::fetch_request req;
    req.url = url(redirecting.port(), "/go");
    req.fields.set(bhttp::field::authorization, "Bearer secret");
    req.fields.set(bhttp::field::proxy_authorization, "Basic c2VjcmV0");
    req.fields.set(bhttp::field::cookie, "session=secret");
    req.fields.set("Cookie2", "$Version=1");
    req.fields.set("X-Kept", "yes");
    auto [ec, r] = following.fetch(following.root, req);
    BOOST_REQUIRE(!ec);
    BOOST_TEST(r.body() == "seen /landed");
    // Another origin: nothing that carries a credential follows the redirect.
    BOOST_TEST(target_seen.fields.count("Authorization") == 0u);
    BOOST_TEST(target_seen.fields.count("Proxy-Authorization") == 0u);
    BOOST_TEST(target_seen.fields.count("Cookie") == 0u);
    BOOST_TEST(target_seen.fields.count("Cookie2") == 0u);
    BOOST_TEST(target_seen.fields.count("X-Kept") == 1u);

    hops = 0;
    BOOST_TEST((following.get(following.root, url(redirecting.port(), "/loop")).first == ahttp::error::too_many_redirects));
    BOOST_TEST(hops == 4); // the first request and three redirects
}

// Many fetches, some cancelled, some with deadlines, some plain: afterwards nothing is
// left open but the pool's idle connections, and closing those returns to the start.
BOOST_AUTO_TEST_CASE(soak_returns_descriptors_to_the_baseline)
{
    test::test_server server([](asioctx::context ctx, ahttp::incoming& in) -> asio::awaitable<ahttp::response> {
        if(in.header().target() == "/slow")
            co_await asioctx::async_sleep(ctx, 5ms, asio::as_tuple(asio::use_awaitable));
        co_return ahttp::make_response(in.header(), bhttp::status::ok, "ok");
    });
    std::size_t baseline = 0;
    int ok = 0, cancelled = 0, timed_out = 0, other = 0;
    {
        // Declared before the client, so that they outlive its thread's last handler.
        std::mt19937 random(42);
        int const total = 10'000, at_once = 16;
        std::atomic<int> started{0};
        std::mutex m;
        std::condition_variable cv;
        int finished = 0;
        std::function<void()> launch;
        client_fixture f;
        // The client's io_context opens its reactor's descriptors (epoll, eventfd,
        // timerfd) with its first socket: warm up before counting.
        BOOST_REQUIRE(!f.get(f.root, url(server.port(), "/fast")).first);
        f.c->close_idle_connections();
        std::this_thread::sleep_for(200ms); // the server closes its side
        baseline = open_descriptors();
        // Each finished fetch starts the next: `at_once` in flight until `total` ran.
        launch = [&] {
            int const n = started++;
            if(n >= total)
                return;
            int const kind = static_cast<int>(random() % 3);
            ahttp::fetch_request req;
            req.url = url(server.port(), n % 2 ? "/slow" : "/fast");
            auto ctx = f.root;
            std::shared_ptr<asioctx::cancel_handle> cancel;
            if(kind == 1) // a deadline of 0 to 4 ms
            {
                auto [c, h] = asioctx::with_timeout(f.root, std::chrono::microseconds(random() % 4000));
                ctx = c;
                cancel = std::make_shared<asioctx::cancel_handle>(std::move(h));
            }
            else if(kind == 2) // cancelled at some step
            {
                auto [c, h] = asioctx::with_cancel(f.root);
                ctx = c;
                cancel = std::make_shared<asioctx::cancel_handle>(std::move(h));
                asio::post(f.ioc, [cancel] { (*cancel)(); });
            }
            f.c->async_fetch(ctx, std::move(req), [&, cancel](error_code ec, ahttp::fetch_response) {
                {
                    std::lock_guard<std::mutex> g(m);
                    if(!ec)
                        ++ok;
                    else if(ec == asioctx::error::canceled)
                        ++cancelled;
                    else if(ec == asioctx::error::deadline_exceeded)
                        ++timed_out;
                    else
                        ++other;
                    ++finished;
                }
                cv.notify_one();
                launch();
            });
        };
        asio::post(f.ioc, [&] {
            for(int i = 0; i < at_once; ++i)
                launch();
        });
        std::unique_lock<std::mutex> lock(m);
        BOOST_REQUIRE(cv.wait_for(lock, 300s, [&] { return finished == total; }));
        lock.unlock();
        BOOST_TEST(f.c->idle_connections() <= 8u);
        f.c->close_idle_connections();
        // The server closes its side as it notices; give it a moment.
        for(int i = 0; i < 100 && open_descriptors() > baseline; ++i)
            std::this_thread::sleep_for(20ms);
        BOOST_TEST(open_descriptors() == baseline);
    }
    BOOST_TEST_MESSAGE("soak: " << ok << " ok, " << cancelled << " cancelled, " << timed_out << " timed out, " << other << " other");
    BOOST_TEST(ok + cancelled + timed_out + other == 10'000);
    BOOST_TEST(ok > 0);
    BOOST_TEST(cancelled > 0);
    BOOST_TEST(timed_out > 0);
    BOOST_TEST(other == 0);
}

BOOST_AUTO_TEST_SUITE_END()
