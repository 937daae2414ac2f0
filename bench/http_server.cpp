// The servers measured by bench/http_bench.sh: the same hello handler on two ports, once
// bare and once behind the gateway's whole chain (request id, access log, JWT auth,
// budget), and a minimal Beast server with no contexts, limits or deadlines on a third
// port as the baseline. Runs until SIGINT/SIGTERM.
// Usage: asioctx_http_bench_server PORT_BARE PORT_CHAIN PORT_RAW [THREADS [LAYERS]]
// LAYERS (to see what each costs): ids, ids+log, ids+log+auth, full (the default: the
// gateway's chain), go (the chain of the Go figure in shared/notes/measured.md: request
// id, JWT, a per-request timeout; no log).
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
#include <string>
#include <iostream>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace ahttp = asioctx::http;
namespace bhttp = boost::beast::http;

namespace {

// Plain Beast, the way its examples serve keep-alive requests: the baseline.
asio::awaitable<void> raw_session(asio::ip::tcp::socket socket)
{
    boost::beast::flat_buffer buffer;
    for(;;)
    {
        bhttp::request<bhttp::string_body> req;
        auto [ec, n] = co_await bhttp::async_read(socket, buffer, req, asio::as_tuple(asio::use_awaitable));
        if(ec)
            co_return;
        bhttp::response<bhttp::string_body> res(bhttp::status::ok, req.version());
        // The same body as the asioctx handlers' (no id, no subject here).
        res.set(bhttp::field::content_type, "application/json");
        res.body() = R"({"request_id":"","sub":)" + boost::json::serialize(boost::json::string_view("")) + "}\n";
        res.keep_alive(req.keep_alive());
        res.prepare_payload();
        auto [wec, wn] = co_await bhttp::async_write(socket, res, asio::as_tuple(asio::use_awaitable));
        if(wec || !res.keep_alive())
            co_return;
    }
}

asio::awaitable<void> raw_listener(asio::ip::tcp::acceptor& acceptor)
{
    for(;;)
    {
        auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
        if(ec)
            co_return;
        asio::co_spawn(acceptor.get_executor(), raw_session(std::move(socket)), asio::detached);
    }
}

} // namespace

int main(int argc, char** argv)
{
    if(argc < 4)
        return 2;
    int const threads = argc > 4 ? std::atoi(argv[4]) : 1;
    asio::io_context ioc(threads);
    auto root = asioctx::with_executor(asioctx::background(), ioc.get_executor());

    // As the Go reference's handler: a small JSON body with the request id and subject.
    ahttp::handler hello = [](asioctx::context ctx, ahttp::incoming& in) -> asio::awaitable<ahttp::response> {
        auto const claims = ahttp::request_claims(ctx);
        std::string body = R"({"request_id":")";
        body += ahttp::request_id(ctx); // a validated id: nothing to escape
        body += R"(","sub":")";
        body += claims ? boost::json::serialize(boost::json::string_view(claims->subject)) : std::string("\"\"");
        body += "}\n";
        auto res = ahttp::make_response(in.header(), bhttp::status::ok, std::move(body));
        res.set(bhttp::field::content_type, "application/json");
        co_return res;
    };
    ahttp::jwt_options jwt;
    jwt.keys = {ahttp::jwt_key::hmac(ahttp::jwt_key::algorithm::hs256, "asioctx-bench-secret-0123456789abcdef")};
    std::string const layers = argc > 5 ? argv[5] : "full";
    auto const log = ahttp::access_log([](std::string_view) {});
    auto const auth = ahttp::bearer_auth(ahttp::jwt_verifier(jwt));
    ahttp::handler chained = layers == "ids"    ? ahttp::chain(ahttp::request_ids(), hello)
        : layers == "ids+log"                   ? ahttp::chain(ahttp::request_ids(), log, hello)
        : layers == "ids+log+auth"              ? ahttp::chain(ahttp::request_ids(), log, auth, hello)
        : layers == "go"                        ? ahttp::chain(ahttp::request_ids(), auth, ahttp::timeout(std::chrono::seconds(5)), hello)
                                                : ahttp::chain(ahttp::request_ids(), log, auth, ahttp::deadline_budget(), hello);

    auto loopback = asio::ip::address_v4::loopback();
    ahttp::server bare(ioc.get_executor(), root, hello);
    bare.listen({loopback, static_cast<unsigned short>(std::atoi(argv[1]))});
    ahttp::server chain(ioc.get_executor(), root, chained);
    chain.listen({loopback, static_cast<unsigned short>(std::atoi(argv[2]))});
    bare.async_run(asio::detached);
    chain.async_run(asio::detached);
    asio::ip::tcp::acceptor raw(ioc, {loopback, static_cast<unsigned short>(std::atoi(argv[3]))});
    asio::co_spawn(ioc, raw_listener(raw), asio::detached);

    asio::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](boost::system::error_code, int) {
        bare.stop();
        chain.stop();
        raw.close();
    });
    std::vector<std::thread> pool;
    for(int i = 1; i < threads; ++i)
        pool.emplace_back([&] { ioc.run(); });
    ioc.run();
    for(auto& t : pool)
        t.join();
}
