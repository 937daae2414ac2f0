// The middleware chain in process, without sockets: what each layer costs a request,
// beside the bare handler in the same run. wrk figures on loopback (bench/http_bench.sh)
// move by 20% between runs on this machine; these are steadier and say where the time goes.
// Run: build/release/bench/asioctx_http_bench

#include "alloc_counter.hpp"
#include "minimal_chain.hpp"

#include <asioctx.hpp>
#include <asioctx/http/jwt.hpp>
#include <asioctx/http/middleware.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <benchmark/benchmark.h>

#include <chrono>
#include <string>

namespace asio = boost::asio;
namespace ahttp = asioctx::http;
namespace bhttp = boost::beast::http;

namespace {

using bench::secret;

// The token wrk sends in bench/http_bench.sh: {"sub":"bench","exp":...}, HS256.
std::string bench_token()
{
    auto const exp = std::chrono::duration_cast<std::chrono::seconds>(
        (std::chrono::system_clock::now() + std::chrono::hours(1)).time_since_epoch()).count();
    return ahttp::jwt_key::hmac(ahttp::jwt_key::algorithm::hs256, secret)
        .sign(R"({"sub":"bench","exp":)" + std::to_string(exp) + "}");
}

ahttp::jwt_verifier bench_verifier()
{
    ahttp::jwt_options o;
    o.keys = {ahttp::jwt_key::hmac(ahttp::jwt_key::algorithm::hs256, secret)};
    return ahttp::jwt_verifier(std::move(o));
}

ahttp::handler const hello = [](asioctx::context, ahttp::incoming& in) -> asio::awaitable<ahttp::response> {
    co_return ahttp::make_response(in.header(), bhttp::status::ok, "hello\n");
};

ahttp::handler chain_of(std::string_view layers)
{
    auto const log = ahttp::access_log([](std::string_view line) { benchmark::DoNotOptimize(line.data()); });
    auto const auth = ahttp::bearer_auth(bench_verifier());
    if(layers == "ids")
        return ahttp::chain(ahttp::request_ids(), hello);
    if(layers == "ids+log")
        return ahttp::chain(ahttp::request_ids(), log, hello);
    if(layers == "ids+log+auth")
        return ahttp::chain(ahttp::request_ids(), log, auth, hello);
    if(layers == "go") // the chain of the reference Go net/http figure
        return ahttp::chain(ahttp::request_ids(), auth, ahttp::timeout(std::chrono::seconds(5)), hello);
    return ahttp::chain(ahttp::request_ids(), log, auth, ahttp::deadline_budget(), hello);
}

// One request through `h` per iteration, as the server calls it: a coroutine on the
// io_context with the request's own cancellable context.
void run_requests(benchmark::State& state, ahttp::handler const& h)
{
    asio::io_context ioc(1);
    auto root = asioctx::with_executor(asioctx::background(), ioc.get_executor());
    bhttp::request<bhttp::string_body> req(bhttp::verb::get, "/hello", 11);
    req.set(bhttp::field::host, "bench");
    req.set(bhttp::field::authorization, "Bearer " + bench_token());
    req.set("X-Request-ID", "bench-1");
    ahttp::message_incoming in(req, "127.0.0.1:1");
    unsigned status = 0;
    // A busy server's io_context never runs out of work: neither does this one.
    auto busy = asio::make_work_guard(ioc);
    bench::alloc_scope allocs(state);
    for(auto _ : state)
    {
        bool answered = false;
        auto [ctx, cancel] = asioctx::with_cancel(root);
        asio::co_spawn(ioc, h(ctx, in), [&](std::exception_ptr, ahttp::response res) {
            status = res.result_int();
            answered = true;
        });
        while(!answered)
            ioc.run_one();
    }
    if(status != 200)
        state.SkipWithError("the chain did not answer 200");
}

void baseline_bare_handler(benchmark::State& state)
{
    run_requests(state, hello);
}
BENCHMARK(baseline_bare_handler);

void chain(benchmark::State& state, std::string_view layers)
{
    run_requests(state, chain_of(layers));
}
BENCHMARK_CAPTURE(chain, ids, "ids");
BENCHMARK_CAPTURE(chain, ids_log, "ids+log");
BENCHMARK_CAPTURE(chain, ids_log_auth, "ids+log+auth");
BENCHMARK_CAPTURE(chain, full, "full");
BENCHMARK_CAPTURE(chain, go, "go");

// ---- token verification alone ----------------------------------------------------

void jwt_verify_hs256(benchmark::State& state)
{
    auto const verifier = bench_verifier();
    auto const token = bench_token();
    bench::alloc_scope allocs(state);
    for(auto _ : state)
    {
        auto c = verifier(token);
        if(!c)
            state.SkipWithError("rejected");
        benchmark::DoNotOptimize(c);
    }
}
BENCHMARK(jwt_verify_hs256);

// The least a hand-written check does (measured.md's "minimal chain"): HMAC-SHA256 of the
// signing input with a keyed context, constant-time compare, Boost.JSON claims, exp.
void baseline_minimal_hs256_check(benchmark::State& state)
{
    auto const token = bench_token();
    bench::minimal_chain check(secret);
    std::string subject;
    bench::alloc_scope allocs(state);
    for(auto _ : state)
    {
        if(!check.verify(token, subject))
            state.SkipWithError("rejected");
        benchmark::DoNotOptimize(subject);
    }
}
BENCHMARK(baseline_minimal_hs256_check);

} // namespace

BENCHMARK_MAIN();
