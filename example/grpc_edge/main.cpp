// An HTTP edge in front of a gRPC backend, both on loopback in one process: the edge
// (asioctx's HTTP server) calls the backend (asioctx's gRPC server) with each request's
// context.
//
// - The request id the client sends is in the edge's log and in the backend's.
// - The HTTP budget (Request-Timeout) becomes the gRPC call's deadline, never larger.
// - A client that disconnects at the edge cancels the backend's work: the edge's request
//   context ends, so the call is cancelled, so the backend's call context ends with
//   client_cancelled.

#include <asioctx.hpp>
#include <asioctx/grpc/client.hpp>
#include <asioctx/grpc/server.hpp>
#include <asioctx/grpc/status.hpp>
#include <asioctx/http/middleware.hpp>
#include <asioctx/http/server.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>

#include <grpcpp/grpcpp.h>

#include "backend.grpc.pb.h"

#include <chrono>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace ahttp = asioctx::http;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using asioctx::example::Inventory;
using asioctx::example::ReserveReply;
using asioctx::example::ReserveRequest;

namespace {

std::vector<std::string> log_lines;

void log(std::string const& service, asioctx::context const& ctx, std::string const& what)
{
    auto line = service + " id=" + std::string(ahttp::request_id(ctx)) + " " + what;
    std::cout << line << "\n";
    log_lines.push_back(line);
}

std::string budget_of(asioctx::context const& ctx)
{
    auto d = ctx.deadline();
    if(!d)
        return "none";
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*d - std::chrono::steady_clock::now());
    return std::to_string(left.count()) + " ms";
}

// The backend: works `work_ms` through the call's context.
class inventory final : public Inventory::CallbackService
{
public:
    explicit inventory(asioctx::grpc::server& server)
        : server_(server)
    {
    }

    ::grpc::ServerUnaryReactor* Reserve(
        ::grpc::CallbackServerContext* call, ReserveRequest const* request, ReserveReply* reply) override
    {
        return server_.unary(call, request, reply,
            [](asioctx::context ctx, ReserveRequest const& req, ReserveReply& rep) -> asio::awaitable<::grpc::Status> {
                log("backend", ctx, "reserving " + req.item() + ", budget " + budget_of(ctx));
                auto [ec] = co_await asioctx::async_sleep(
                    ctx, std::chrono::milliseconds(req.work_ms()), asio::as_tuple(asio::use_awaitable));
                if(ec)
                {
                    log("backend", ctx, "work stopped: " + asioctx::cause(ctx).message());
                    co_return asioctx::grpc::to_status(ec);
                }
                log("backend", ctx, "reserved " + req.item());
                rep.set_note(req.item() + " reserved");
                co_return ::grpc::Status::OK;
            });
    }

private:
    asioctx::grpc::server& server_;
};

// The edge: GET /reserve/<item>?work=<ms> calls the backend with the request's context.
ahttp::handler edge(Inventory::Stub& backend)
{
    auto h = [&backend](asioctx::context ctx, ahttp::incoming& in) -> asio::awaitable<ahttp::response> {
        std::string const target(in.header().target());
        log("edge", ctx, "received " + target + ", budget " + budget_of(ctx));
        ReserveRequest req;
        auto const query = target.find("?work=");
        req.set_item(target.substr(9, query - 9));
        req.set_work_ms(query == std::string::npos ? 10 : std::stoll(target.substr(query + 6)));
        auto [ec, reply] = co_await asioctx::grpc::async_unary(ctx, backend.async(), &Inventory::Stub::async::Reserve,
            std::move(req), asio::as_tuple(asio::use_awaitable));
        if(ec)
        {
            log("edge", ctx, "backend call ended: " + ec.message());
            co_return ahttp::make_response(in.header(), bhttp::status::gateway_timeout, ec.message());
        }
        log("edge", ctx, "backend answered: " + reply.note());
        co_return ahttp::make_response(in.header(), bhttp::status::ok, reply.note());
    };
    return ahttp::chain(ahttp::request_ids(), ahttp::deadline_budget(), h);
}

bool has_line(std::string const& prefix)
{
    for(auto const& line : log_lines)
        if(line.rfind(prefix, 0) == 0)
            return true;
    return false;
}

// Waits until a log line starts with `prefix`, for at most 4 s (the check afterwards reports
// a line that never came).
asio::awaitable<void> logged(std::string const& prefix)
{
    asio::steady_timer t(co_await asio::this_coro::executor);
    auto const give_up = std::chrono::steady_clock::now() + 4s;
    while(!has_line(prefix) && std::chrono::steady_clock::now() < give_up)
    {
        t.expires_after(10ms);
        co_await t.async_wait(asio::use_awaitable);
    }
}

asio::awaitable<bool> script(unsigned short edge_port)
{
    auto ex = co_await asio::this_coro::executor;
    bool ok = true;

    // 1: an id and a budget of 1010 ms (how gRPC's core writes one second).
    {
        tcp::socket s(ex);
        co_await s.async_connect({asio::ip::address_v4::loopback(), edge_port}, asio::use_awaitable);
        std::string const req = "GET /reserve/lamp?work=50 HTTP/1.1\r\nHost: edge\r\nX-Request-ID: order-1\r\n"
                                "Request-Timeout: 1010m\r\n\r\n";
        co_await asio::async_write(s, asio::buffer(req), asio::use_awaitable);
        boost::beast::flat_buffer buffer;
        bhttp::response<bhttp::string_body> res;
        co_await bhttp::async_read(s, buffer, res, asio::use_awaitable);
        std::cout << "1. client <- " << res.result_int() << " " << res.body() << "\n";
        ok = ok && res.result_int() == 200;
    }

    // 2: the client leaves once the backend has started its 5 s of work, then waits for the
    // cancellation to reach the backend. Both waits watch the log, not the clock: a slow machine
    // (or a sanitizer) may need longer than any fixed time.
    {
        tcp::socket s(ex);
        co_await s.async_connect({asio::ip::address_v4::loopback(), edge_port}, asio::use_awaitable);
        std::string const req = "GET /reserve/desk?work=5000 HTTP/1.1\r\nHost: edge\r\nX-Request-ID: order-2\r\n\r\n";
        co_await asio::async_write(s, asio::buffer(req), asio::use_awaitable);
        co_await logged("backend id=order-2 reserving");
        s.close();
        std::cout << "2. client disconnected while the backend works\n";
        co_await logged("backend id=order-2 work stopped");
    }
    co_return ok;
}

} // namespace

int main()
{
    asio::io_context ioc{1};
    auto root = asioctx::with_executor(asioctx::background(), ioc.get_executor());

    // The backend: gRPC on loopback, port 0.
    asioctx::grpc::server backend(ioc.get_executor(), root);
    inventory service(backend);
    int backend_port = 0;
    ::grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", ::grpc::InsecureServerCredentials(), &backend_port);
    builder.RegisterService(&service);
    auto grpc_server = builder.BuildAndStart();
    backend.async_run(*grpc_server, asio::detached);

    // The edge: HTTP on loopback, calling the backend.
    auto stub = Inventory::NewStub(
        ::grpc::CreateChannel("127.0.0.1:" + std::to_string(backend_port), ::grpc::InsecureChannelCredentials()));
    ahttp::server front(ioc.get_executor(), root, edge(*stub));
    front.listen({asio::ip::address_v4::loopback(), 0});
    front.async_run(asio::detached);

    bool ok = false;
    asio::co_spawn(ioc, script(front.local_endpoint().port()), [&](std::exception_ptr e, bool r) {
        ok = !e && r;
        front.stop();
        backend.stop();
    });
    ioc.run();

    long backend_budget = -1;
    for(auto const& line : log_lines)
        if(line.rfind("backend id=order-1 reserving lamp, budget ", 0) == 0)
            backend_budget = std::stol(line.substr(line.rfind(' ', line.size() - 4) + 1));
    bool const ids = has_line("edge id=order-1 received") && has_line("backend id=order-1 reserving")
        && has_line("edge id=order-2 received") && has_line("backend id=order-2 reserving");
    bool const budget = backend_budget > 0 && backend_budget <= 1010;
    bool const cancelled = has_line("backend id=order-2 work stopped: client cancelled the call");
    std::cout << "ids in both logs: " << ids << ", backend budget within the edge's 1010 ms: " << budget
              << "\norder-2 backend work cancelled by the client leaving the edge: " << cancelled << "\n";
    ok = ok && ids && budget && cancelled;
    std::cout << (ok ? "grpc_edge: ok\n" : "grpc_edge: FAILED\n");
    return ok ? 0 : 1;
}
