// A leak of contexts that are never cancelled, counted with the live-context
// registry, then fixed.
//
// In Go the leak is a discarded cancel func: `ctx, _ := context.WithCancel(parent)`.
// asioctx's cancel handle is RAII, so dropping it cancels; the leak has to be forced
// by keeping the handles somewhere that is never cleared, here a vector that lives as
// long as the program. Each leaked context keeps a worker waiting for an hour.
// pprof's goroutine profile becomes `snapshot_contexts()`: live contexts grouped by
// the line that derived them.

#include <asioctx.hpp>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstring>
#include <iostream>
#include <vector>

using namespace std::chrono_literals;
namespace asio = boost::asio;
using boost::system::error_code;

namespace {

int finished = 0;

// A worker: waits until its context is done, or an hour.
void run_worker(asioctx::context const& ctx)
{
    asioctx::async_sleep(ctx, 1h, [](error_code) { ++finished; });
}

// The bug: the handle goes into a container nobody clears, so the context (and the
// worker waiting on it) lives until the program ends.
std::vector<asioctx::cancel_handle> forgotten_handles;

void start_worker_leaky(asioctx::context const& parent)
{
    auto [ctx, cancel] = asioctx::with_cancel(parent);
    forgotten_handles.push_back(std::move(cancel));
    run_worker(ctx);
}

// The fix: the caller owns the handle; when its scope ends, the worker stops.
[[nodiscard]] asioctx::cancel_handle start_worker(asioctx::context const& parent)
{
    auto [ctx, cancel] = asioctx::with_cancel(parent);
    run_worker(ctx);
    return std::move(cancel);
}

// How many live contexts were derived in `function` (the registry's answer to
// "count lines containing the worker function" in a goroutine profile).
std::size_t live_from(char const* function)
{
    std::size_t n = 0;
    for(auto const& site : asioctx::snapshot_contexts().by_site())
        if(std::strstr(site.site.function_name(), function))
            n += site.count;
    return n;
}

} // namespace

int main()
{
    if(!asioctx::diagnostics_compiled_in)
    {
        std::cout << "diagnostics compiled out: nothing to count\nleak_found_by_registry: ok\n";
        return 0;
    }
    asioctx::set_tracking(asioctx::tracking::sites);
    asio::io_context ioc;
    auto root = asioctx::with_executor(asioctx::background(), ioc.get_executor());

    for(int i = 0; i < 100; ++i)
        start_worker_leaky(root);
    ioc.poll();
    auto const leaked = live_from("start_worker_leaky");
    std::cout << "leaky: 100 workers started, " << finished << " finished\n";
    std::cout << "registry: " << leaked << " live contexts derived in start_worker_leaky\n";
    auto report = asioctx::snapshot_contexts().to_text();
    std::cout << report.substr(0, report.find('\n', report.find('\n') + 1) + 1);

    finished = 0;
    {
        std::vector<asioctx::cancel_handle> handles;
        for(int i = 0; i < 100; ++i)
            handles.push_back(start_worker(root));
        ioc.poll();
        std::cout << "fixed: 100 workers started, " << live_from("start_worker") - leaked
                  << " live while the caller holds the handles\n";
    } // the handles cancel here
    ioc.poll();
    auto const after_fix = live_from("start_worker") - live_from("start_worker_leaky");
    std::cout << "fixed: " << finished << " workers finished when the handles went out of scope, "
              << after_fix << " contexts left\n";

    forgotten_handles.clear(); // what the leaky version never does
    ioc.poll();
    auto const after_clear = live_from("start_worker_leaky");
    std::cout << "leaky after clearing the container: " << after_clear << " left\n";

    bool const ok = leaked == 100 && after_fix == 0 && finished == 200 && after_clear == 0;
    std::cout << (ok ? "leak_found_by_registry: ok\n" : "leak_found_by_registry: FAILED\n");
    return ok ? 0 : 1;
}
