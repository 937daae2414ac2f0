// A long-running service under a steady load; a context leak found with the
// /debug/contexts endpoint, pointed to by its source line, fixed, and the fix held to
// a bound by a soak.
//
// The service answers GET /work by calling a (simulated) upstream under a 1 s
// timeout. The leaky version keeps each timeout's cancel handle in a list that is
// never cleared: Go's forgotten `defer cancel()`, forced past asioctx's RAII handles.
// Every leaked timeout also keeps its request's context chain alive.
//
//   soak_with_debug_contexts [SECONDS]   seconds of load per phase (default 1.5; 300 for Go's 5-minute soak)

#include <asioctx.hpp>
#include <asioctx/http/client.hpp>
#include <asioctx/http/debug.hpp>
#include <asioctx/http/middleware.hpp>
#include <asioctx/http/server.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace ahttp = asioctx::http;

namespace {

bool leaky = true;
std::vector<asioctx::cancel_handle> pending_upstream_calls; // the leak: never cleared

asio::awaitable<ahttp::response> handle_work(asioctx::context ctx, ahttp::incoming& in)
{
    auto [call, cancel] = asioctx::with_timeout(ctx, 1s); // the upstream call's budget
    co_await asioctx::async_sleep(call, 1ms, asio::as_tuple(asio::use_awaitable)); // the upstream
    if(leaky)
        pending_upstream_calls.push_back(std::move(cancel));
    co_return ahttp::make_response(in.header(), boost::beast::http::status::ok, "done\n");
}

struct phase_result
{
    std::vector<std::size_t> samples; // live contexts, every 100 ms after a 300 ms warm-up
    std::string top_site;             // the largest line of /debug/contexts in this file
    int requests = 0;
};

// Steady load: one request every 2 ms over a pooled keep-alive connection, live
// contexts sampled every 100 ms, then one look at /debug/contexts.
asio::awaitable<void> load(ahttp::client& client, asioctx::context root, std::string base,
    std::chrono::milliseconds duration, phase_result& out)
{
    auto ex = co_await asio::this_coro::executor;
    auto const start = std::chrono::steady_clock::now();
    auto next_sample = start + 300ms;
    asio::steady_timer pace(ex);
    while(std::chrono::steady_clock::now() - start < duration)
    {
        auto [ec, res] = co_await client.async_get(root, base + "/work", asio::as_tuple(asio::use_awaitable));
        if(!ec && res.result_int() == 200)
            ++out.requests;
        if(std::chrono::steady_clock::now() >= next_sample)
        {
            out.samples.push_back(asioctx::snapshot_contexts().contexts.size());
            next_sample += 100ms;
        }
        pace.expires_after(2ms);
        co_await pace.async_wait(asio::use_awaitable);
    }
    auto [ec, res] = co_await client.async_get(root, base + "/debug/contexts", asio::as_tuple(asio::use_awaitable));
    if(!ec)
    {
        // Sites come largest first; the request contexts the leak keeps alive (derived
        // in the library) come as many times, so look for the first line in this file.
        auto const& body = res.body();
        if(auto at = body.find("soak_with_debug_contexts.cpp"); at != std::string::npos)
        {
            auto first = body.rfind('\n', at) + 1;
            out.top_site = body.substr(first, body.find('\n', at) - first);
        }
    }
}

phase_result run_phase(bool leak, std::chrono::milliseconds duration)
{
    leaky = leak;
    asio::io_context ioc;
    auto root = asioctx::with_executor(asioctx::background(), ioc.get_executor());
    ahttp::server server(ioc.get_executor(), root, ahttp::chain(ahttp::debug_contexts(), handle_work));
    server.listen({asio::ip::address_v4::loopback(), 0});
    server.async_run(asio::detached);
    ahttp::client client(ioc.get_executor());
    phase_result result;
    asio::co_spawn(ioc,
        load(client, root, "http://127.0.0.1:" + std::to_string(server.local_endpoint().port()), duration, result),
        [&](std::exception_ptr) { server.stop(); });
    ioc.run();
    pending_upstream_calls.clear();
    return result;
}

// "file.cpp:LINE (function)" from a report line, without the directories.
std::string short_site(std::string const& line)
{
    auto at = line.find(" @ ");
    if(at == std::string::npos)
        return line;
    auto site = line.substr(line.find(' ', at + 3) + 1);
    site = site.substr(0, site.find(" oldest"));
    auto slash = site.rfind('/', site.find(':'));
    return line.substr(0, at) + " live from " + (slash == std::string::npos ? site : site.substr(slash + 1));
}

} // namespace

int main(int argc, char** argv)
{
    if(!asioctx::diagnostics_compiled_in)
    {
        std::cout << "diagnostics compiled out: nothing to sample\nsoak_with_debug_contexts: ok\n";
        return 0;
    }
    auto const seconds = argc > 1 ? std::atof(argv[1]) : 1.5;
    auto const duration = std::chrono::milliseconds(static_cast<long>(std::max(seconds, 0.6) * 1000));
    asioctx::set_tracking(asioctx::tracking::sites);

    auto leak = run_phase(true, duration);
    auto fixed = run_phase(false, duration);
    if(leak.samples.size() < 2 || fixed.samples.size() < 2)
    {
        std::cout << "too few samples\nsoak_with_debug_contexts: FAILED\n";
        return 1;
    }
    auto const grew = static_cast<long>(leak.samples.back()) - static_cast<long>(leak.samples.front());
    std::cout << "leaky: " << leak.requests << " requests, live contexts " << leak.samples.front() << " -> "
              << leak.samples.back() << " (+" << grew << ")\n";
    std::cout << "leaky: /debug/contexts names the line: " << short_site(leak.top_site) << "\n";

    auto const [lo, hi] = std::minmax_element(fixed.samples.begin(), fixed.samples.end());
    std::size_t const bound = 50;
    std::cout << "fixed: " << fixed.requests << " requests, live contexts stayed within " << *lo << ".." << *hi
              << " after warm-up (bound " << bound << ")\n";

    bool const found = leak.top_site.find("soak_with_debug_contexts.cpp") != std::string::npos &&
        leak.top_site.find("handle_work") != std::string::npos;
    bool const ok = grew > 100 && found && *hi - *lo <= bound && fixed.requests > 100;
    std::cout << (ok ? "soak_with_debug_contexts: ok\n" : "soak_with_debug_contexts: FAILED\n");
    return ok ? 0 : 1;
}
