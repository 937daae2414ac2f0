// One context over three kinds of work: a std::jthread worker blocked on a
// condition_variable_any, a coroutine, and an HTTP fetch from a server that never answers.
// One cancel ends all three, each on its own terms, and each can say where it came from.

#include <asioctx.hpp>
#include <asioctx/http/client.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>

namespace asio = boost::asio;
namespace ahttp = asioctx::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

int main()
{
    asio::io_context ioc(1);
    auto root = asioctx::with_executor(asioctx::background(), ioc.get_executor());
    auto [ctx, cancel] = asioctx::with_cancel(root);

    // A peer that accepts and never answers.
    tcp::acceptor silent(ioc, {asio::ip::make_address("127.0.0.1"), 0});
    tcp::socket accepted(ioc);
    silent.async_accept(accepted, [](boost::system::error_code) {});

    // 1. A thread outside Asio, waiting on a condition variable with the context's token.
    std::mutex m;
    std::condition_variable_any cv;
    std::string worker_line;
    asioctx::stop_token_bridge bridge(ctx);
    std::jthread worker([&, token = bridge.get_token()] {
        std::unique_lock lock(m);
        bool const ready = cv.wait(lock, token, [] { return false; });
        worker_line = std::string("worker thread woke: ready=") + (ready ? "1" : "0") +
            ", stop requested=" + (token.stop_requested() ? "1" : "0");
    });

    // 2. A coroutine sleeping through the context; 3. a fetch under the same context.
    std::string sleeper_line, fetch_line;
    asioctx::co_spawn(ioc.get_executor(), ctx, [&](asioctx::context c) -> asio::awaitable<void> {
        auto [ec] = co_await asioctx::async_sleep(c, 1h, asio::as_tuple(asio::use_awaitable));
        sleeper_line = "coroutine sleep ended: " + ec.message();
    }, asio::detached);
    ahttp::client client(ioc.get_executor());
    auto const url = "http://127.0.0.1:" + std::to_string(silent.local_endpoint().port()) + "/never";
    client.async_get(ctx, url, [&](boost::system::error_code ec, ahttp::fetch_response) {
        fetch_line = "fetch from a silent server ended: " + ec.message();
    });

    // One cancel, 100 ms in, from a timer on the io_context's thread.
    asio::steady_timer t(ioc, 100ms);
    auto const started = std::chrono::steady_clock::now();
    t.async_wait([&cancel = cancel](boost::system::error_code) { cancel(); });
    ioc.run();
    worker.join();
    auto const took = std::chrono::steady_clock::now() - started;

    std::cout << worker_line << '\n' << sleeper_line << '\n' << fetch_line << '\n';
    auto const site = asioctx::cancelled_at(ctx);
    std::cout << "where: " << asioctx::to_string(site) << '\n';
    bool const all_ended = !worker_line.empty() && !sleeper_line.empty() && !fetch_line.empty();
    std::cout << "all three ended within a second of the cancel: " << (all_ended && took < 1s) << '\n';
    std::cout << "jthread_coroutine_fetch: " << (all_ended && took < 1s ? "ok" : "FAILED") << '\n';
    return all_ended ? 0 : 1;
}
