// A unary call's round trip on loopback through asioctx's gRPC client and server,
// beside gRPC's own callback client and server doing the same call, in the same binary
// and run. The crossed pairs tell which side costs what.
//
// Each iteration is one call, waited for by the benchmark's thread: gRPC's callback
// wakes it through a condition variable (gRPC alone) or through the io_context the
// asioctx client's completion is posted to (asioctx). A second baseline server hands each
// call to an io_context and finishes it there, as any server whose handlers run on an
// Asio executor does: the nearest baseline of asioctx's server.

#include "alloc_counter.hpp"

#include <asioctx.hpp>
#include <asioctx/grpc/client.hpp>
#include <asioctx/grpc/server.hpp>
#include <asioctx/http/request_id.hpp>

#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <grpcpp/grpcpp.h>

#include "grpc_echo.grpc.pb.h"

#include <benchmark/benchmark.h>

#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <thread>

using namespace std::chrono_literals;
namespace asio = boost::asio;
using asioctx::bench::Echo;
using asioctx::bench::EchoMessage;

namespace {

// gRPC's own callback server: answers inline on gRPC's thread.
class plain_echo final : public Echo::CallbackService
{
    ::grpc::ServerUnaryReactor* Echo(
        ::grpc::CallbackServerContext* call, EchoMessage const* request, EchoMessage* reply) override
    {
        reply->set_text(request->text());
        auto* reactor = call->DefaultReactor();
        reactor->Finish(::grpc::Status::OK);
        return reactor;
    }
};

// gRPC's callback server handing each call to an io_context and finishing it there: what
// any server whose handlers run on an Asio executor pays, without asioctx.
class handed_over_echo final : public Echo::CallbackService
{
public:
    explicit handed_over_echo(asio::io_context& ioc)
        : ioc_(ioc)
    {
    }

    ::grpc::ServerUnaryReactor* Echo(
        ::grpc::CallbackServerContext* call, EchoMessage const* request, EchoMessage* reply) override
    {
        auto* reactor = call->DefaultReactor();
        asio::post(ioc_, [reactor, request, reply] {
            reply->set_text(request->text());
            reactor->Finish(::grpc::Status::OK);
        });
        return reactor;
    }

private:
    asio::io_context& ioc_;
};

// asioctx's server: the handler is a coroutine on the server's io_context, with a context.
class asioctx_echo final : public Echo::CallbackService
{
public:
    explicit asioctx_echo(asioctx::grpc::server& server)
        : server_(server)
    {
    }

    ::grpc::ServerUnaryReactor* Echo(
        ::grpc::CallbackServerContext* call, EchoMessage const* request, EchoMessage* reply) override
    {
        return server_.unary(call, request, reply,
            [](asioctx::context, EchoMessage const& req, EchoMessage& rep) -> asio::awaitable<::grpc::Status> {
                rep.set_text(req.text());
                co_return ::grpc::Status::OK;
            });
    }

private:
    asioctx::grpc::server& server_;
};

// Both servers, started once for the whole run.
struct servers
{
    asio::io_context ioc{1};
    asioctx::grpc::server_options options; // named: g++ 12 -O3 misreads a defaulted temporary
    asioctx::grpc::server asioctx_server{ioc.get_executor(), asioctx::background(), options};
    plain_echo plain;
    handed_over_echo handed_over{ioc};
    asioctx_echo wrapped{asioctx_server};
    std::unique_ptr<::grpc::Server> plain_server;
    std::unique_ptr<::grpc::Server> handed_over_server;
    std::unique_ptr<::grpc::Server> wrapped_server;
    int plain_port = 0;
    int handed_over_port = 0;
    int wrapped_port = 0;
    std::thread thread;

    servers()
    {
        plain_server = start(plain, plain_port);
        handed_over_server = start(handed_over, handed_over_port);
        wrapped_server = start(wrapped, wrapped_port);
        asioctx_server.async_run(*wrapped_server, asio::detached);
        thread = std::thread([this] { ioc.run(); });
    }

    ~servers()
    {
        asioctx_server.stop();
        handed_over_server->Shutdown();
        thread.join();
        plain_server->Shutdown();
    }

    static std::unique_ptr<::grpc::Server> start(::grpc::Service& service, int& port)
    {
        ::grpc::ServerBuilder builder;
        builder.AddListeningPort("127.0.0.1:0", ::grpc::InsecureServerCredentials(), &port);
        builder.RegisterService(&service);
        return builder.BuildAndStart();
    }

    static servers& get()
    {
        static servers s;
        return s;
    }
};

std::unique_ptr<Echo::Stub> stub_for(int port)
{
    return Echo::NewStub(
        ::grpc::CreateChannel("127.0.0.1:" + std::to_string(port), ::grpc::InsecureChannelCredentials()));
}

EchoMessage message()
{
    EchoMessage m;
    m.set_text("hello");
    return m;
}

// gRPC's callback client: a deadline 10 s away, like the asioctx call's context.
void plain_calls(benchmark::State& state, int port, bool with_deadline = true)
{
    auto stub = stub_for(port);
    std::mutex mutex;
    std::condition_variable cv;
    auto const request = message();
    bench::alloc_scope allocs(state);
    for(auto _ : state)
    {
        ::grpc::ClientContext call;
        if(with_deadline)
            call.set_deadline(std::chrono::system_clock::now() + 10s);
        EchoMessage reply;
        bool done = false;
        bool ok = false;
        stub->async()->Echo(&call, &request, &reply, [&](::grpc::Status status) {
            std::lock_guard lock(mutex);
            ok = status.ok();
            done = true;
            cv.notify_one();
        });
        std::unique_lock lock(mutex);
        cv.wait(lock, [&] { return done; });
        if(!ok)
            state.SkipWithError("call failed");
    }
}

// asioctx's client: a context with a deadline 10 s away and a request id.
void asioctx_calls(benchmark::State& state, int port)
{
    auto stub = stub_for(port);
    asio::io_context ioc{1};
    auto root = asioctx::http::with_request_id(
        asioctx::with_executor(asioctx::background(), ioc.get_executor()), "bench-request-1");
    bench::alloc_scope allocs(state);
    for(auto _ : state)
    {
        auto [ctx, cancel] = asioctx::with_timeout(root, 10s);
        bool done = false;
        bool ok = false;
        asioctx::grpc::async_unary(ctx, stub->async(), &Echo::Stub::async::Echo, message(),
            [&](boost::system::error_code ec, EchoMessage) {
                ok = !ec;
                done = true;
            });
        // run_one: the context's pending deadline is work of the io_context too.
        ioc.restart();
        while(!done)
            ioc.run_one();
        if(!ok)
            state.SkipWithError("call failed");
    }
}

void baseline_grpc_client_grpc_server(benchmark::State& state)
{
    plain_calls(state, servers::get().plain_port);
}
BENCHMARK(baseline_grpc_client_grpc_server)->UseRealTime();

void asioctx_client_asioctx_server(benchmark::State& state)
{
    asioctx_calls(state, servers::get().wrapped_port);
}
BENCHMARK(asioctx_client_asioctx_server)->UseRealTime();

void asioctx_client_grpc_server(benchmark::State& state)
{
    asioctx_calls(state, servers::get().plain_port);
}
BENCHMARK(asioctx_client_grpc_server)->UseRealTime();

void baseline_grpc_client_grpc_server_on_io_context(benchmark::State& state)
{
    plain_calls(state, servers::get().handed_over_port);
}
BENCHMARK(baseline_grpc_client_grpc_server_on_io_context)->UseRealTime();

void grpc_client_asioctx_server(benchmark::State& state)
{
    plain_calls(state, servers::get().wrapped_port);
}
BENCHMARK(grpc_client_asioctx_server)->UseRealTime();

// The same without a deadline: the call context then has no deadline node.
void grpc_client_asioctx_server_no_deadline(benchmark::State& state)
{
    plain_calls(state, servers::get().wrapped_port, false);
}
BENCHMARK(grpc_client_asioctx_server_no_deadline)->UseRealTime();

} // namespace

BENCHMARK_MAIN();
