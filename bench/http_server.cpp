// The server measured by bench/http_bench.sh: the same hello handler on two ports, once
// bare and once behind the gateway's whole chain (request id, access log, JWT auth,
// budget). Runs until SIGINT/SIGTERM.
// Usage: asioctx_http_bench_server PORT_BARE PORT_CHAIN [THREADS [LAYERS]]
// LAYERS (to see what each costs): ids, ids+log, ids+log+auth, full (the default).
#include <asioctx.hpp>
#include <asioctx/http/middleware.hpp>
#include <asioctx/http/server.hpp>

#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <cstdlib>
#include <string>
#include <iostream>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace ahttp = asioctx::http;
namespace bhttp = boost::beast::http;

int main(int argc, char** argv)
{
    if(argc < 3)
        return 2;
    int const threads = argc > 3 ? std::atoi(argv[3]) : 1;
    asio::io_context ioc(threads);
    auto root = asioctx::with_executor(asioctx::background(), ioc.get_executor());

    ahttp::handler hello = [](asioctx::context, ahttp::incoming& in) -> asio::awaitable<ahttp::response> {
        co_return ahttp::make_response(in.header(), bhttp::status::ok, "hello\n");
    };
    ahttp::jwt_options jwt;
    jwt.keys = {ahttp::jwt_key::hmac(ahttp::jwt_key::algorithm::hs256, "asioctx-bench-secret-0123456789abcdef")};
    std::string const layers = argc > 4 ? argv[4] : "full";
    auto const log = ahttp::access_log([](std::string_view) {});
    auto const auth = ahttp::bearer_auth(ahttp::jwt_verifier(jwt));
    ahttp::handler chained = layers == "ids"    ? ahttp::chain(ahttp::request_ids(), hello)
        : layers == "ids+log"                   ? ahttp::chain(ahttp::request_ids(), log, hello)
        : layers == "ids+log+auth"              ? ahttp::chain(ahttp::request_ids(), log, auth, hello)
                                                : ahttp::chain(ahttp::request_ids(), log, auth, ahttp::deadline_budget(), hello);

    auto loopback = asio::ip::address_v4::loopback();
    ahttp::server bare(ioc.get_executor(), root, hello);
    bare.listen({loopback, static_cast<unsigned short>(std::atoi(argv[1]))});
    ahttp::server chain(ioc.get_executor(), root, chained);
    chain.listen({loopback, static_cast<unsigned short>(std::atoi(argv[2]))});
    bare.async_run(asio::detached);
    chain.async_run(asio::detached);

    asio::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](boost::system::error_code, int) {
        bare.stop();
        chain.stop();
    });
    std::vector<std::thread> pool;
    for(int i = 1; i < threads; ++i)
        pool.emplace_back([&] { ioc.run(); });
    ioc.run();
    for(auto& t : pool)
        t.join();
}
