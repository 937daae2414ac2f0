// The fetch client over one kept-alive loopback connection, beside a plain Beast client
// doing the same exchange (write a GET, read the response) on one socket, in the same run.
// The server is plain Beast on a thread of its own.
// Run: build/release/bench/asioctx_http_bench --benchmark_filter=client

#include "alloc_counter.hpp"

#include <asioctx.hpp>
#include <asioctx/http/client.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <benchmark/benchmark.h>

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <thread>

namespace asio = boost::asio;
namespace ahttp = asioctx::http;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

// Client and server on a core each: otherwise the figures move with the scheduler.
void pin_to_core(std::thread::native_handle_type t, int core)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(core % static_cast<int>(std::max(1u, std::thread::hardware_concurrency())), &set);
    pthread_setaffinity_np(t, sizeof(set), &set);
}

// Plain Beast answering "ok" on keep-alive connections, on its own thread.
class plain_server
{
public:
    plain_server()
    {
        asio::co_spawn(ioc_, listen(), asio::detached);
        thread_ = std::thread([this] { ioc_.run(); });
        pin_to_core(thread_.native_handle(), 1);
        pin_to_core(pthread_self(), 0);
    }

    ~plain_server()
    {
        asio::post(ioc_, [this] { acceptor_.close(); });
        ioc_.stop();
        thread_.join();
    }

    unsigned short port() const
    {
        return acceptor_.local_endpoint().port();
    }

private:
    asio::awaitable<void> listen()
    {
        for(;;)
        {
            auto [ec, s] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
            if(ec)
                co_return;
            asio::co_spawn(ioc_, serve(std::move(s)), asio::detached);
        }
    }

    static asio::awaitable<void> serve(tcp::socket s)
    {
        boost::beast::flat_buffer buffer;
        for(;;)
        {
            bhttp::request<bhttp::string_body> req;
            auto [ec, n] = co_await bhttp::async_read(s, buffer, req, asio::as_tuple(asio::use_awaitable));
            if(ec)
                co_return;
            bhttp::response<bhttp::string_body> res(bhttp::status::ok, 11);
            res.body() = "ok";
            res.keep_alive(true);
            res.prepare_payload();
            auto [wec, wn] = co_await bhttp::async_write(s, res, asio::as_tuple(asio::use_awaitable));
            if(wec)
                co_return;
        }
    }

    asio::io_context ioc_;
    tcp::acceptor acceptor_{ioc_, {asio::ip::address_v4::loopback(), 0}};
    std::thread thread_;
};

void baseline_beast_client_keepalive(benchmark::State& state)
{
    plain_server server;
    asio::io_context ioc;
    auto busy = asio::make_work_guard(ioc);
    tcp::socket socket(ioc);
    socket.connect({asio::ip::address_v4::loopback(), server.port()});
    boost::beast::flat_buffer buffer;
    bhttp::request<bhttp::string_body> req(bhttp::verb::get, "/", 11);
    req.set(bhttp::field::host, "127.0.0.1");
    bhttp::response<bhttp::string_body> res;
    std::size_t handlers = 0;
    bench::alloc_scope allocs(state);
    for(auto _ : state)
    {
        res = {};
        bool done = false;
        bhttp::async_write(socket, req, [&](error_code ec, std::size_t) {
            if(ec)
                done = true;
            else
                bhttp::async_read(socket, buffer, res, [&](error_code, std::size_t) { done = true; });
        });
        while(!done)
            handlers += ioc.run_one();
        if(res.body() != "ok")
            state.SkipWithError("no answer");
    }
    state.counters["handlers/op"] = benchmark::Counter(static_cast<double>(handlers), benchmark::Counter::kAvgIterations);
}
BENCHMARK(baseline_beast_client_keepalive)->UseRealTime();

// with_deadline: a 10 s deadline per fetch; parsed_origin: the URL's origin parsed once
// (fetch_request::at), as a service calling one upstream would.
void fetch_keepalive(benchmark::State& state, bool with_deadline, bool parsed_origin = false)
{
    plain_server server;
    asio::io_context ioc;
    auto busy = asio::make_work_guard(ioc); // as in a service: run_one never finds it idle
    ahttp::client client(ioc.get_executor());
    auto root = asioctx::with_executor(asioctx::background(), ioc.get_executor());
    std::string const url = "http://127.0.0.1:" + std::to_string(server.port()) + "/";
    auto const upstream = ahttp::origin::parse("http://127.0.0.1:" + std::to_string(server.port())).value();
    ahttp::fetch_response res;
    std::size_t handlers = 0;
    bench::alloc_scope allocs(state);
    for(auto _ : state)
    {
        auto ctx = root;
        asioctx::cancellable deadline;
        if(with_deadline)
        {
            deadline = asioctx::with_timeout(root, std::chrono::seconds(10));
            ctx = deadline.ctx;
        }
        bool done = false;
        auto on_response = [&](error_code, ahttp::fetch_response r) {
            res = std::move(r);
            done = true;
        };
        if(parsed_origin)
        {
            ahttp::fetch_request req;
            req.at = upstream;
            req.target = "/";
            client.async_fetch(ctx, std::move(req), on_response);
        }
        else
            client.async_get(ctx, url, on_response);
        // Until the answer (a pending deadline would keep run() busy for its 10 s).
        while(!done)
            handlers += ioc.run_one();
        if(res.body() != "ok")
            state.SkipWithError("no answer");
    }
    state.counters["handlers/op"] = benchmark::Counter(static_cast<double>(handlers), benchmark::Counter::kAvgIterations);
    if(client.idle_connections() != 1)
        state.SkipWithError("the connection was not kept");
}
BENCHMARK_CAPTURE(fetch_keepalive, background, false)->UseRealTime();
BENCHMARK_CAPTURE(fetch_keepalive, deadline, true)->UseRealTime();
BENCHMARK_CAPTURE(fetch_keepalive, parsed_origin, false, true)->UseRealTime();

} // namespace
