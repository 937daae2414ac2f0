// after_func schedules cleanup when a context ends.
//
// open_temp_dir creates a directory and registers its removal with after_func. It is
// removed when the context ends by timeout, cancel or parent; kept when the caller
// stops the cleanup first; removed at once (posted) when the context was already done.

#include <asioctx.hpp>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <utility>

using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

// Creates a fresh directory; its removal is posted when `ctx` is done, unless stopped.
std::pair<fs::path, asioctx::after_func_handle> open_temp_dir(asioctx::context const& ctx)
{
    std::string pattern = (fs::temp_directory_path() / "asioctx-demo-XXXXXX").string();
    if(!::mkdtemp(pattern.data()))
        throw std::runtime_error("mkdtemp failed");
    fs::path dir = pattern;
    auto stop = asioctx::after_func(ctx, [dir] {
        std::error_code ec;
        fs::remove_all(dir, ec); // idempotent
    });
    return {dir, std::move(stop)};
}

bool report(char const* scenario, fs::path const& dir, bool expect_removed)
{
    bool removed = !fs::exists(dir);
    std::cout << scenario << ": " << (removed ? "removed" : "kept") << "\n";
    return removed == expect_removed;
}

} // namespace

int main()
{
    asio::io_context ioc;
    auto root = asioctx::with_executor(asioctx::background(), ioc.get_executor());
    bool ok = true;

    {
        auto [ctx, cancel] = asioctx::with_timeout(root, 20ms);
        auto [dir, stop] = open_temp_dir(ctx);
        ioc.run();
        ioc.restart();
        ok &= report("timeout", dir, true);
    }
    {
        auto [ctx, cancel] = asioctx::with_cancel(root);
        auto [dir, stop] = open_temp_dir(ctx);
        cancel();
        ioc.run();
        ioc.restart();
        ok &= report("cancel", dir, true);
    }
    {
        auto [parent, cancel_parent] = asioctx::with_cancel(root);
        auto [ctx, cancel] = asioctx::with_cancel(parent);
        auto [dir, stop] = open_temp_dir(ctx);
        cancel_parent();
        ioc.run();
        ioc.restart();
        ok &= report("parent cancelled", dir, true);
    }
    {
        auto [ctx, cancel] = asioctx::with_cancel(root);
        auto [dir, stop] = open_temp_dir(ctx);
        bool prevented = stop.stop();
        cancel();
        ioc.run();
        ioc.restart();
        std::cout << "stop() prevented the cleanup: " << prevented << "\n";
        ok &= prevented && report("stopped", dir, false);
        fs::remove_all(dir);
    }
    {
        auto [ctx, cancel] = asioctx::with_cancel(root);
        cancel();
        auto [dir, stop] = open_temp_dir(ctx);
        bool exists_before_run = fs::exists(dir); // posted, not run inside after_func
        ioc.run();
        ioc.restart();
        std::cout << "already done: exists until the io_context runs: " << exists_before_run << "\n";
        ok &= exists_before_run && report("already done", dir, true);
    }

    std::cout << (ok ? "cleanup_after_func: ok" : "cleanup_after_func: FAILED") << "\n";
    return ok ? 0 : 1;
}
