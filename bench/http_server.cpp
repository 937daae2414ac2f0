// The servers measured by bench/http_bench.sh, on five consecutive ports from BASE_PORT,
// all answering the same small JSON body (request id and subject):
//   +0  plain Beast: no contexts, limits or deadlines (the baseline);
//   +1  plain Beast doing the least a hand-written chain does (bench/minimal_chain.hpp);
//   +2  the asioctx server, bare;
//   +3  the asioctx server with that hand-written minimum inside its handler: the floor
//       under any chain on this server, since the HMAC and JSON work cannot be avoided;
//   +4  the asioctx server behind a middleware chain.
// Runs until SIGINT/SIGTERM.
// Usage: asioctx_http_bench_server BASE_PORT [THREADS [LAYERS]]
// LAYERS (to see what each costs): ids, ids+log, ids+log+auth, full (the default: the
// gateway's chain), go (the chain of the reference Go net/http figure: request
// id, JWT, a per-request timeout; no log).
#include "alloc_counter.hpp"
#include "minimal_chain.hpp"

#include <asioctx.hpp>
#include <asioctx/http/middleware.hpp>
#include <asioctx/http/server.hpp>

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <cstdlib>
#include <functional>
#include <string>
#include <iostream>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace ahttp = asioctx::http;
namespace bhttp = boost::beast::http;

namespace {

using bench::secret;

// The handlers' body: {"request_id":"...","sub":"..."} (the id is a validated one).
std::string hello_body(std::string_view id, std::string_view subject)
{
    std::string body = R"({"request_id":")";
    body += id;
    body += R"(","sub":)";
    body += boost::json::serialize(boost::json::string_view(subject));
    body += "}\n";
    return body;
}

// Plain Beast, the way its examples serve keep-alive requests: the baseline, and with
// `check` the hand-written minimal chain.
asio::awaitable<void> raw_session(asio::ip::tcp::socket socket, bench::minimal_chain* check)
{
    boost::beast::flat_buffer buffer;
    for(;;)
    {
        bhttp::request<bhttp::string_body> req;
        auto [ec, n] = co_await bhttp::async_read(socket, buffer, req, asio::as_tuple(asio::use_awaitable));
        if(ec)
            co_return;
        bhttp::response<bhttp::string_body> res(bhttp::status::ok, req.version());
        res.set(bhttp::field::content_type, "application/json");
        if(check)
        {
            std::string id = bench::minimal_chain::request_id(req), subject;
            if(!check->authorised(req, subject))
                res.result(bhttp::status::unauthorized);
            res.body() = hello_body(id, subject);
            res.set("X-Request-ID", std::move(id));
        }
        else
            res.body() = hello_body("", "");
        res.keep_alive(req.keep_alive());
        res.prepare_payload();
        auto [wec, wn] = co_await bhttp::async_write(socket, res, asio::as_tuple(asio::use_awaitable));
        if(wec || !res.keep_alive())
            co_return;
    }
}

asio::awaitable<void> raw_listener(asio::ip::tcp::acceptor& acceptor, bench::minimal_chain* check)
{
    for(;;)
    {
        auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
        if(ec)
            co_return;
        asio::co_spawn(acceptor.get_executor(), raw_session(std::move(socket), check), asio::detached);
    }
}

} // namespace

int main(int argc, char** argv)
{
    if(argc < 2)
        return 2;
    auto const base_port = static_cast<unsigned short>(std::atoi(argv[1]));
    int const threads = argc > 2 ? std::atoi(argv[2]) : 1;
    std::string const layers = argc > 3 ? argv[3] : "full";
    asio::io_context ioc(threads);
    auto root = asioctx::with_executor(asioctx::background(), ioc.get_executor());
    bench::minimal_chain check(secret);

    // As the Go reference's handler: a small JSON body with the request id and subject.
    ahttp::handler hello = [](asioctx::context ctx, ahttp::incoming& in) -> asio::awaitable<ahttp::response> {
        auto const claims = ahttp::request_claims(ctx);
        // Built as plain Beast's session builds it: the server sets keep-alive and length.
        ahttp::response res(bhttp::status::ok, in.header().version());
        res.set(bhttp::field::content_type, "application/json");
        res.body() = hello_body(ahttp::request_id(ctx), claims ? claims->subject : "");
        co_return res;
    };
    // The same answer with the hand-written minimum done inline, no middleware.
    ahttp::handler hello_minimal = [&check](asioctx::context, ahttp::incoming& in) -> asio::awaitable<ahttp::response> {
        std::string id = bench::minimal_chain::request_id(in.header()), subject;
        bool const ok = check.authorised(in.header(), subject);
        ahttp::response res(ok ? bhttp::status::ok : bhttp::status::unauthorized, in.header().version());
        res.set(bhttp::field::content_type, "application/json");
        res.body() = hello_body(id, subject);
        res.set("X-Request-ID", std::move(id));
        co_return res;
    };
    ahttp::jwt_options jwt;
    jwt.keys = {ahttp::jwt_key::hmac(ahttp::jwt_key::algorithm::hs256, secret)};
    auto const log = ahttp::access_log([](std::string_view) {});
    auto const auth = ahttp::bearer_auth(ahttp::jwt_verifier(jwt));
    ahttp::handler chained = layers == "ids"    ? ahttp::chain(ahttp::request_ids(), hello)
        : layers == "ids+log"                   ? ahttp::chain(ahttp::request_ids(), log, hello)
        : layers == "ids+log+auth"              ? ahttp::chain(ahttp::request_ids(), log, auth, hello)
        : layers == "go"                        ? ahttp::chain(ahttp::request_ids(), auth, ahttp::timeout(std::chrono::seconds(5)), hello)
                                                : ahttp::chain(ahttp::request_ids(), log, auth, ahttp::deadline_budget(), hello);

    auto const loopback = asio::ip::address_v4::loopback();
    auto const at = [&](int offset) { return asio::ip::tcp::endpoint(loopback, static_cast<unsigned short>(base_port + offset)); };
    asio::ip::tcp::acceptor raw(ioc, at(0)), raw_minimal(ioc, at(1));
    asio::co_spawn(ioc, raw_listener(raw, nullptr), asio::detached);
    asio::co_spawn(ioc, raw_listener(raw_minimal, &check), asio::detached);
    ahttp::server bare(ioc.get_executor(), root, hello), floor(ioc.get_executor(), root, hello_minimal),
        chain(ioc.get_executor(), root, chained);
    bare.listen(at(2));
    floor.listen(at(3));
    chain.listen(at(4));
    for(auto* s : {&bare, &floor, &chain})
        s->async_run(asio::detached);

    // SIGUSR1 prints the heap allocations made so far (operator new), so that a script
    // can count them over a run.
    asio::signal_set report(ioc, SIGUSR1);
    std::function<void(boost::system::error_code, int)> print_allocations = [&](boost::system::error_code ec, int) {
        if(ec)
            return;
        std::cerr << "allocations " << bench::allocations.load() << std::endl;
        report.async_wait(print_allocations);
    };
    report.async_wait(print_allocations);
    asio::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](boost::system::error_code, int) {
        for(auto* s : {&bare, &floor, &chain})
            s->stop();
        raw.close();
        raw_minimal.close();
        report.cancel();
    });
    std::vector<std::thread> pool;
    for(int i = 1; i < threads; ++i)
        pool.emplace_back([&] { ioc.run(); });
    ioc.run();
    for(auto& t : pool)
        t.join();
}
