// The gRPC client against a server nobody on this project wrote (grpc-go), and a chain
// Python -> asioctx -> Go.
#include "peers.hpp"

#include <asioctx/asio/deadline.hpp>
#include <asioctx/core/cancel.hpp>
#include <asioctx/core/error.hpp>
#include <asioctx/grpc/client.hpp>
#include <asioctx/http/budget.hpp>
#include <asioctx/http/request_id.hpp>
#include <asioctx/http/propagation.hpp>
#include <asioctx/http/traceparent.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/test/unit_test.hpp>

#include <optional>
#include <string>

using namespace test::grpc;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using boost::system::error_code;
using asioctx::test::Peer;
using asioctx::test::SleepReply;
using asioctx::test::SleepRequest;

namespace {

SleepRequest sleep_request(std::string const& tag, int sleep_ms)
{
    SleepRequest r;
    r.set_tag(tag);
    r.set_sleep_ms(sleep_ms);
    return r;
}

struct outcome
{
    std::optional<error_code> ec;
    SleepReply reply;
    std::chrono::steady_clock::time_point when;
};

// Runs `ioc` until the call has completed.
void run_until(asio::io_context& ioc, outcome const& o)
{
    auto const until = std::chrono::steady_clock::now() + 60s;
    while(!o.ec && std::chrono::steady_clock::now() < until)
    {
        ioc.run_for(10ms);
        ioc.restart();
    }
    BOOST_TEST_REQUIRE(o.ec.has_value(), "the call did not complete");
}

auto recorder(outcome& o)
{
    return [&o](error_code ec, SleepReply reply) {
        o.ec = ec;
        o.reply = std::move(reply);
        o.when = std::chrono::steady_clock::now();
    };
}

struct fixture
{
    asio::io_context ioc{1};
    asioctx::context root = asioctx::with_executor(asioctx::background(), ioc.get_executor());
    go_server go;
    std::unique_ptr<Peer::Stub> stub = go.stub();
};

} // namespace

BOOST_AUTO_TEST_SUITE(grpc_client)

BOOST_FIXTURE_TEST_CASE(a_call_completes_with_the_response, fixture)
{
    outcome o;
    auto ctx = asioctx::http::with_request_id(root, "id-7");
    asioctx::grpc::async_unary(ctx, stub->async(), &Peer::Stub::async::Sleep, sleep_request("ok1", 1), recorder(o));
    BOOST_TEST(!o.ec.has_value()); // never inside the initiating function
    run_until(ioc, o);
    BOOST_TEST(!*o.ec);
    BOOST_TEST(o.reply.tag() == "ok1");
    BOOST_TEST(o.reply.remaining_us() == -1); // no deadline sent
    BOOST_TEST(go.ended("ok1").ended() == "ok");
}

// The context's deadline becomes the call's: gRPC ends it there and the caller sees
// deadline_exceeded, every time. The Go server is told the deadline and its handler ends
// at it; whether Go reports that end as its deadline or as the client's reset, which
// arrive together, is Go's race (see doc/grpc.md), so both are accepted there.
BOOST_FIXTURE_TEST_CASE(the_contexts_deadline_reaches_a_go_server, fixture)
{
    int go_saw_deadline = 0;
    for(int i = 0; i < 5; ++i)
    {
        auto const tag = "d" + std::to_string(i);
        auto [ctx, cancel] = asioctx::with_timeout(root, 300ms);
        outcome o;
        asioctx::grpc::async_unary(ctx, stub->async(), &Peer::Stub::async::Sleep, sleep_request(tag, 10'000), recorder(o));
        run_until(ioc, o);
        BOOST_TEST((*o.ec == asioctx::error::deadline_exceeded));
        BOOST_TEST(o.ec->has_location());
        auto const seen = go.ended(tag);
        BOOST_TEST((seen.ended() == "deadline" || seen.ended() == "canceled"), seen.ended());
        go_saw_deadline += seen.ended() == "deadline";
        BOOST_TEST(seen.remaining_us() <= 300'000);
        BOOST_TEST(seen.remaining_us() > 150'000); // at least half: transit is slow under a sanitizer
    }
    BOOST_TEST_MESSAGE("the Go server reported its deadline " << go_saw_deadline << " times of 5");
}

// A cancel of the context cancels the call: the Go server's context is cancelled, and
// the caller gets the context's error with its cause kept.
BOOST_FIXTURE_TEST_CASE(a_cancel_of_the_context_reaches_a_go_server, fixture)
{
    auto [ctx, cancel] = asioctx::with_cancel(root);
    outcome o;
    asioctx::grpc::async_unary(ctx, stub->async(), &Peer::Stub::async::Sleep, sleep_request("c1", 10'000), recorder(o));
    asio::steady_timer t(ioc, 200ms);
    t.async_wait([&, &cancel = cancel](error_code) { cancel(asio::error::connection_reset); });
    run_until(ioc, o);
    BOOST_TEST((*o.ec == asioctx::error::canceled));
    BOOST_TEST((asioctx::cause(ctx) == asio::error::connection_reset));
    BOOST_TEST(go.ended("c1").ended() == "canceled");
}

BOOST_FIXTURE_TEST_CASE(a_context_already_done_sends_nothing, fixture)
{
    auto [ctx, cancel] = asioctx::with_cancel(root);
    cancel();
    outcome o;
    asioctx::grpc::async_unary(ctx, stub->async(), &Peer::Stub::async::Sleep, sleep_request("never", 1), recorder(o));
    BOOST_TEST(!o.ec.has_value());
    run_until(ioc, o);
    BOOST_TEST((*o.ec == asioctx::error::canceled));
    BOOST_TEST(go.ended("never", 300ms).ended().empty());
}

// The request id goes out as is; the traceparent as its next hop: same trace, new parent.
BOOST_FIXTURE_TEST_CASE(id_and_traceparent_reach_a_go_server, fixture)
{
    auto const tp = asioctx::http::parse_traceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    auto ctx = asioctx::http::with_traceparent(asioctx::http::with_request_id(root, "order-9"), *tp);
    outcome o;
    asioctx::grpc::async_unary(ctx, stub->async(), &Peer::Stub::async::Sleep, sleep_request("t1", 1), recorder(o));
    run_until(ioc, o);
    BOOST_TEST(!*o.ec);
    BOOST_TEST(o.reply.request_id() == "order-9");
    auto const sent = asioctx::http::parse_traceparent(o.reply.traceparent());
    BOOST_TEST_REQUIRE(sent.has_value());
    BOOST_TEST(sent->trace_id_hex() == tp->trace_id_hex());
    BOOST_TEST((sent->parent_id != tp->parent_id));
    BOOST_TEST(sent->flags == tp->flags);
}

// The propagation policy, as the HTTP client applies it: tracestate beside the
// traceparent, baggage, the reserve kept back, the maximum, and a reserve that leaves
// nothing sends nothing.
BOOST_FIXTURE_TEST_CASE(the_propagation_policy_reaches_a_go_server, fixture)
{
    auto const tp = asioctx::http::parse_traceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    auto traced = asioctx::http::with_trace_fields(asioctx::http::with_traceparent(root, *tp), "congo=t61rcWkgMzE", "user=alice");
    asioctx::grpc::call_options options;
    options.propagation.reserve = 500ms;
    options.propagation.outbound_max = 5s;
    {
        auto [ctx, cancel] = asioctx::with_timeout(traced, 2s);
        outcome o;
        asioctx::grpc::async_unary(ctx, stub->async(), &Peer::Stub::async::Sleep, sleep_request("pp1", 1), options, recorder(o));
        run_until(ioc, o);
        BOOST_TEST_REQUIRE(!*o.ec);
        BOOST_TEST(o.reply.tracestate() == "congo=t61rcWkgMzE");
        BOOST_TEST(o.reply.baggage() == "user=alice");
        BOOST_TEST(o.reply.remaining_us() <= 1'500'000); // 2 s less the reserve
        BOOST_TEST(o.reply.remaining_us() > 1'000'000);
    }
    {
        auto [ctx, cancel] = asioctx::with_timeout(traced, 60s);
        outcome o;
        asioctx::grpc::async_unary(ctx, stub->async(), &Peer::Stub::async::Sleep, sleep_request("pp2", 1), options, recorder(o));
        run_until(ioc, o);
        BOOST_TEST_REQUIRE(!*o.ec);
        BOOST_TEST(o.reply.remaining_us() <= 5'000'000); // the maximum
    }
    {
        auto [ctx, cancel] = asioctx::with_timeout(traced, 300ms);
        outcome o;
        asioctx::grpc::async_unary(ctx, stub->async(), &Peer::Stub::async::Sleep, sleep_request("pp3", 1), options, recorder(o));
        run_until(ioc, o);
        BOOST_TEST((*o.ec == asioctx::error::deadline_exceeded));
        BOOST_TEST(go.ended("pp3", 300ms).ended().empty()); // never sent
    }
}

// Per-operation cancellation cancels the call; the context stays live.
BOOST_FIXTURE_TEST_CASE(per_operation_cancellation_cancels_the_call, fixture)
{
    asio::cancellation_signal signal;
    outcome o;
    asioctx::grpc::async_unary(root, stub->async(), &Peer::Stub::async::Sleep, sleep_request("p1", 10'000),
        asio::bind_cancellation_slot(signal.slot(), recorder(o)));
    asio::steady_timer t(ioc, 200ms);
    t.async_wait([&](error_code) { signal.emit(asio::cancellation_type::terminal); });
    run_until(ioc, o);
    BOOST_TEST((*o.ec == asio::error::operation_aborted));
    BOOST_TEST(!root.done());
    BOOST_TEST(go.ended("p1").ended() == "canceled");
}

// Any other status maps to the asioctx.grpc category with gRPC's number: the asioctx
// test server does not implement Ended.
BOOST_AUTO_TEST_CASE(another_status_maps_to_the_grpc_category)
{
    asioctx_server s;
    asio::io_context ioc{1};
    auto stub = Peer::NewStub(::grpc::CreateChannel(s.address(), ::grpc::InsecureChannelCredentials()));
    std::optional<error_code> result;
    asioctx::grpc::async_unary(asioctx::with_executor(asioctx::background(), ioc.get_executor()), stub->async(),
        &Peer::Stub::async::Ended, asioctx::test::EndedRequest{},
        [&](error_code ec, asioctx::test::EndedReply) { result = ec; });
    for(int i = 0; i < 6000 && !result; ++i)
    {
        ioc.run_for(10ms);
        ioc.restart();
    }
    BOOST_TEST_REQUIRE(result.has_value());
    BOOST_TEST((*result == asioctx::grpc::error::unimplemented));
    BOOST_TEST(result->has_location());
}

// gRPC rounds a timeout up (to three significant digits from a second on); what
// outgoing_timeout gives it never comes out larger than the time left.
BOOST_AUTO_TEST_CASE(the_outgoing_timeout_never_grows_under_grpcs_rounding)
{
    // gRPC's encoding of a timeout read to the millisecond, rounded up once more by
    // its clock reading.
    auto const on_the_wire = [](std::chrono::nanoseconds t) {
        auto ms = std::chrono::ceil<std::chrono::milliseconds>(t).count() + 1;
        long long step = 1;
        while(ms >= 1000 * step)
            step *= 10;
        return std::chrono::milliseconds((ms + step - 1) / step * step);
    };
    for(auto remaining : {3ms, 50ms, 999ms, 1000ms, 1009ms, 1010ms, 5555ms, 9999ms, 10'000ms, 65'432ms,
            std::chrono::milliseconds(3'600'000)})
    {
        for(auto reserve : {0ms, 5ms, 100ms})
        {
            auto const sent = asioctx::grpc::outgoing_timeout(remaining, reserve);
            BOOST_TEST(sent.count() >= 0);
            if(sent.count() > 0)
                BOOST_TEST((on_the_wire(sent) <= remaining - reserve), remaining.count() << " ms, reserve " << reserve.count());
            // Not much less: at most 1% and a few milliseconds.
            if(remaining - reserve > 10ms)
                BOOST_TEST((sent >= (remaining - reserve) * 99 / 100 - 5ms));
        }
    }
    BOOST_TEST(asioctx::grpc::outgoing_timeout(-5ms).count() == 0);
    BOOST_TEST(asioctx::grpc::outgoing_timeout(1s, 2s).count() == 0);
}

// Python -> asioctx -> Go: the first hop's deadline reaches the last hop (never
// larger), and so does a cancel, through the asioctx handler's context.
BOOST_AUTO_TEST_CASE(a_three_hop_chain_carries_deadline_and_cancel, *boost::unit_test::timeout(120))
{
    go_server go;
    asioctx_server middle;
    {
        process p(python_peer({"call", middle.address(), "500", "10000", "chain-d", "0", "chain-1", "-", go.address()}));
        auto const r = fields(p.read_line(60s));
        BOOST_TEST(r.at("code") == "DeadlineExceeded");
        auto const last = go.ended("chain-d");
        BOOST_TEST((last.ended() == "deadline" || last.ended() == "canceled"), last.ended());
        auto const middle_seen = middle.ended("chain-d");
        BOOST_TEST_REQUIRE(middle_seen.has_value());
        BOOST_TEST(middle_seen->remaining_us <= 500'000);
        BOOST_TEST(last.remaining_us() > 0);
        BOOST_TEST(last.remaining_us() <= middle_seen->remaining_us);
        BOOST_TEST(last.request_id() == "chain-1");
    }
    {
        process p(python_peer({"call", middle.address(), "10000", "10000", "chain-c", "300", "-", "-", go.address()}));
        auto const r = fields(p.read_line(60s));
        BOOST_TEST(r.at("code") == "Canceled");
        auto const middle_seen = middle.ended("chain-c");
        BOOST_TEST_REQUIRE(middle_seen.has_value());
        BOOST_TEST(middle_seen->ended == "canceled:client");
        BOOST_TEST(go.ended("chain-c").ended() == "canceled");
    }
}

// An HTTP request's budget (Request-Timeout, the grpc-timeout grammar) becomes the
// outgoing gRPC deadline without growing, through the parser and the rounding both.
BOOST_FIXTURE_TEST_CASE(an_http_budget_becomes_an_outgoing_deadline_without_growing, fixture)
{
    for(auto const* header : {"1010m", "249936u", "2S"})
    {
        auto const budget = asioctx::http::parse_budget(header);
        BOOST_TEST_REQUIRE(budget.has_value());
        auto [ctx, cancel] = asioctx::with_timeout(root, *budget);
        outcome o;
        asioctx::grpc::async_unary(ctx, stub->async(), &Peer::Stub::async::Sleep,
            sleep_request(std::string("b-") + header, 1), recorder(o));
        run_until(ioc, o);
        BOOST_TEST(!*o.ec);
        BOOST_TEST(o.reply.remaining_us() > 0);
        BOOST_TEST((std::chrono::microseconds(o.reply.remaining_us()) <= *budget), header);
    }
}

// Runs `io` one handler at a time until `done`; false if it ran out of work first (a
// completion that was queued with no work counted).
bool run_until_done(asio::io_context& io, bool const& done)
{
    while(!done)
        if(io.run_one() == 0)
            return false;
    return true;
}

// Calls one after another on an io_context run by this thread alone: while a call is
// pending the io_context has work, so run_one() never returns for want of it, and every
// completion arrives.
BOOST_FIXTURE_TEST_CASE(a_pending_call_keeps_its_io_context_running, fixture, *boost::unit_test::timeout(300))
{
    int const calls = 2000;
    int completed = 0;
    int ran_out_of_work = 0;
    for(int i = 0; i < calls && ran_out_of_work == 0; ++i)
    {
        auto [ctx, cancel] = asioctx::with_timeout(root, 10s);
        bool done = false;
        asioctx::grpc::async_unary(ctx, stub->async(), &Peer::Stub::async::Sleep, sleep_request("loop-" + std::to_string(i), 0),
            [&](error_code ec, SleepReply) {
                BOOST_TEST(!ec, ec.message());
                done = true;
            });
        ioc.restart();
        ran_out_of_work += !run_until_done(ioc, done);
        completed += done;
    }
    BOOST_TEST(ran_out_of_work == 0);
    BOOST_TEST(completed == calls);
}

// A caller may destroy its io_context as soon as its last call has completed: once the
// completion is queued, gRPC's thread touches nothing of the executor. (The next
// io_context is often built at the same address: a late touch of the old one would take
// work from it.)
BOOST_FIXTURE_TEST_CASE(an_io_context_may_go_once_its_call_has_completed, fixture, *boost::unit_test::timeout(300))
{
    int completed = 0;
    int ran_out_of_work = 0;
    for(int i = 0; i < 1000; ++i)
    {
        asio::io_context own{1};
        auto const base = asioctx::with_executor(asioctx::background(), own.get_executor());
        auto [ctx, cancel] = asioctx::with_timeout(base, 10s);
        bool done = false;
        asioctx::grpc::async_unary(ctx, stub->async(), &Peer::Stub::async::Sleep,
            sleep_request("own-" + std::to_string(i), 0), [&](error_code, SleepReply) { done = true; });
        ran_out_of_work += !run_until_done(own, done);
        completed += done;
    }
    BOOST_TEST(ran_out_of_work == 0);
    BOOST_TEST(completed == 1000);
}

BOOST_AUTO_TEST_SUITE_END()
