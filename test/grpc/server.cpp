// The gRPC server against clients nobody on this project wrote: grpc-go and Python's
// grpcio, each a child process calling an asioctx server on loopback.
#include "peers.hpp"

#include <asioctx/grpc/server.hpp>

#include <boost/test/unit_test.hpp>
#include <grpcpp/create_channel.h>

#include <string>
#include <vector>

using namespace test::grpc;
using namespace std::chrono_literals;

namespace {

using peer_fn = std::vector<std::string> (*)(std::vector<std::string>);

// One Sleep call by a peer: `call ADDR TIMEOUT_MS SLEEP_MS TAG CANCEL_AFTER_MS ID TP FORWARD_TO`.
std::map<std::string, std::string> peer_call(peer_fn peer, std::string const& address, int timeout_ms,
    int sleep_ms, std::string const& tag, int cancel_after_ms = 0, std::string const& id = "-",
    std::string const& tp = "-", std::string const& forward_to = "-")
{
    process p(peer({"call", address, std::to_string(timeout_ms), std::to_string(sleep_ms), tag,
        std::to_string(cancel_after_ms), id, tp, forward_to}));
    auto line = p.read_line(60s);
    BOOST_TEST_REQUIRE(!line.empty(), "the peer printed nothing");
    return fields(line);
}

bool is_hex_id(std::string const& s)
{
    return s.size() == 32 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

std::string const valid_tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

} // namespace

BOOST_AUTO_TEST_SUITE(grpc_server_suite)

// The Go client's deadline becomes the handler's: the time left at arrival is at most the
// client's timeout and no less than half of it (the transit takes milliseconds, more under
// a sanitizer on a loaded machine: 41 ms was seen), and the bound sleep ends with the
// deadline.
BOOST_AUTO_TEST_CASE(a_go_clients_deadline_becomes_the_handlers_deadline)
{
    asioctx_server s;
    auto const r = peer_call(go_peer, s.address(), 1000, 5000, "d1");
    BOOST_TEST(r.at("code") == "DeadlineExceeded");
    auto const seen = s.ended("d1");
    BOOST_TEST_REQUIRE(seen.has_value());
    BOOST_TEST(seen->ended == "deadline");
    BOOST_TEST(seen->remaining_us <= 1'000'000);
    BOOST_TEST(seen->remaining_us > 500'000);
    // Ended by the context's own timer, at the deadline: not before it.
    BOOST_TEST((seen->finished - seen->started >= std::chrono::microseconds(seen->remaining_us) - 2ms));
}

// A client's deadline and its cancel reach the server the same way and race at the
// deadline: every deadline end reads deadline_exceeded in the handler.
BOOST_AUTO_TEST_CASE(deadline_ends_are_deadlines_20_times_in_a_row, *boost::unit_test::timeout(300))
{
    asioctx_server s;
    for(auto peer : {go_peer, python_peer})
    {
        std::string const tag = peer == go_peer ? "go" : "python";
        process p(peer({"repeat", s.address(), "20", "100", "1000", tag}));
        for(int i = 0; i < 20; ++i)
        {
            auto const r = fields(p.read_line(60s));
            BOOST_TEST(r.at("code") == "DeadlineExceeded");
            auto const name = tag + "-" + std::to_string(i);
            auto const seen = s.ended(name);
            BOOST_TEST_REQUIRE(seen.has_value(), name);
            BOOST_TEST(seen->ended == "deadline", name << " ended " << seen->ended);
        }
    }
}

// A client's cancel ends the handler's context at once, with client_cancelled.
BOOST_AUTO_TEST_CASE(a_client_cancel_ends_the_handlers_context_with_client_cancelled)
{
    asioctx_server s;
    for(auto peer : {go_peer, python_peer})
    {
        std::string const tag = peer == go_peer ? "c-go" : "c-python";
        auto const r = peer_call(peer, s.address(), 10'000, 10'000, tag, 200);
        BOOST_TEST(r.at("code") == "Canceled");
        auto const seen = s.ended(tag);
        BOOST_TEST_REQUIRE(seen.has_value());
        BOOST_TEST(seen->ended == "canceled:client");
        BOOST_TEST((seen->finished - seen->started < 2s));
    }
}

BOOST_AUTO_TEST_CASE(request_id_and_traceparent_become_the_http_layers_values)
{
    asioctx_server s;
    for(auto peer : {go_peer, python_peer})
    {
        auto r = peer_call(peer, s.address(), 5000, 1, "m1", 0, "order-42", valid_tp);
        BOOST_TEST(r.at("code") == "OK");
        BOOST_TEST(r.at("request_id") == "order-42");
        BOOST_TEST(r.at("echoed_id") == "order-42");
        BOOST_TEST(r.at("traceparent") == valid_tp);

        // An id the HTTP layer's rules refuse is replaced by a minted one, which is echoed;
        // a malformed traceparent (uppercase hex) is ignored.
        r = peer_call(peer, s.address(), 5000, 1, "m2", 0, "a;b", "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01");
        BOOST_TEST(r.at("code") == "OK");
        BOOST_TEST(is_hex_id(r.at("request_id")));
        BOOST_TEST(r.at("echoed_id") == r.at("request_id"));
        BOOST_TEST(r.at("traceparent").empty());

        // None sent: one is minted.
        r = peer_call(peer, s.address(), 5000, 1, "m3");
        BOOST_TEST(is_hex_id(r.at("request_id")));
    }
}

// tracestate and baggage metadata become the HTTP layer's values, validated and limited
// by server_options::propagation; repeated values are one list, as HTTP field lines are.
BOOST_AUTO_TEST_CASE(tracestate_and_baggage_become_the_http_layers_values)
{
    asioctx::grpc::server_options options;
    options.propagation.tracestate_limit = 7;
    asioctx_server s(options);
    auto stub = asioctx::test::Peer::NewStub(::grpc::CreateChannel(s.address(), ::grpc::InsecureChannelCredentials()));
    auto call = [&](std::vector<std::pair<std::string, std::string>> const& metadata) {
        ::grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + 5s);
        for(auto const& [k, v] : metadata)
            ctx.AddMetadata(k, v);
        asioctx::test::SleepRequest req;
        req.set_tag("ts");
        req.set_sleep_ms(1);
        asioctx::test::SleepReply reply;
        auto const status = stub->Sleep(&ctx, req, &reply);
        BOOST_TEST(status.ok());
        return reply;
    };
    auto r = call({{"tracestate", "a=1"}, {"tracestate", "b=2"}, {"tracestate", "c=3"}, {"baggage", "k=v"}, {"baggage", "u=1"}});
    BOOST_TEST(r.tracestate() == "a=1,b=2"); // cut to 7 characters from the end
    BOOST_TEST(r.baggage() == "k=v,u=1");
    r = call({{"tracestate", "A=1"}, {"baggage", "bad value"}});
    BOOST_TEST(r.tracestate().empty()); // invalid: dropped
    BOOST_TEST(r.baggage().empty());
}

BOOST_AUTO_TEST_CASE(no_deadline_means_none)
{
    asioctx_server s;
    auto const r = peer_call(go_peer, s.address(), 0, 10, "n1");
    BOOST_TEST(r.at("code") == "OK");
    BOOST_TEST(r.at("remaining_us") == "-1");
    auto const seen = s.ended("n1");
    BOOST_TEST_REQUIRE(seen.has_value());
    BOOST_TEST(seen->ended == "ok");
}

// A deadline further away than the server's maximum is clamped to it.
BOOST_AUTO_TEST_CASE(a_far_deadline_is_clamped_to_the_maximum)
{
    asioctx::grpc::server_options options;
    options.max_deadline = 300ms;
    asioctx_server s(options);
    auto const r = peer_call(go_peer, s.address(), 60'000, 5000, "far");
    BOOST_TEST(r.at("code") == "DeadlineExceeded");
    auto const seen = s.ended("far");
    BOOST_TEST_REQUIRE(seen.has_value());
    BOOST_TEST(seen->remaining_us <= 300'000);
    BOOST_TEST(seen->ended == "deadline");
}

BOOST_AUTO_TEST_CASE(a_handler_that_throws_answers_internal)
{
    asioctx_server s;
    auto const r = peer_call(go_peer, s.address(), 5000, -1, "t1");
    BOOST_TEST(r.at("code") == "Internal");
}

// Shutdown is graceful: the server stops taking calls, and a call that outlives the
// grace period has its context cancelled with server_shutdown.
BOOST_AUTO_TEST_CASE(shutdown_cancels_calls_in_flight_with_server_shutdown)
{
    asioctx::grpc::server_options options;
    options.shutdown_grace = 200ms;
    asioctx_server s(options);
    process client(go_peer({"call", s.address(), "0", "30000", "s1", "0", "-", "-", "-"}));
    BOOST_TEST_REQUIRE(s.arrived("s1"));
    BOOST_TEST(s.server().calls() == 1u);
    auto const start = std::chrono::steady_clock::now();
    s.shut_down();
    BOOST_TEST((std::chrono::steady_clock::now() - start < 5s));
    auto const seen = s.ended("s1", 1s);
    BOOST_TEST_REQUIRE(seen.has_value());
    BOOST_TEST(seen->ended == "canceled:shutdown");
    BOOST_TEST(s.server().calls() == 0u);
    auto const r = fields(client.read_line(30s));
    BOOST_TEST(r.at("code") != "OK");
}

// A call that finishes within the grace period is not cancelled.
BOOST_AUTO_TEST_CASE(shutdown_lets_a_call_finish_within_the_grace_period)
{
    asioctx::grpc::server_options options;
    options.shutdown_grace = 10s;
    asioctx_server s(options);
    process client(go_peer({"call", s.address(), "0", "300", "g1", "0", "-", "-", "-"}));
    BOOST_TEST_REQUIRE(s.arrived("g1"));
    s.shut_down();
    auto const seen = s.ended("g1", 1s);
    BOOST_TEST_REQUIRE(seen.has_value());
    BOOST_TEST(seen->ended == "ok");
    BOOST_TEST(fields(client.read_line(30s)).at("code") == "OK");
}

BOOST_AUTO_TEST_SUITE_END()
