// A context that must be done by a wall-clock time ("by 17:00 UTC").
//
// with_deadline_at takes a system_clock time point, turns it into a steady deadline
// once, and otherwise behaves as with_deadline: a past time is born done with
// deadline_exceeded, a tighter parent deadline wins.

#include <asioctx.hpp>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <iostream>

using namespace std::chrono_literals;

int main()
{
    boost::asio::io_context ioc;
    auto root = asioctx::with_executor(asioctx::background(), ioc.get_executor());
    auto const now = std::chrono::system_clock::now();
    bool ok = true;

    // (1) A time in the past: done at once, no timer, no waiting.
    {
        auto [ctx, cancel] = asioctx::with_deadline_at(root, now - 1h);
        std::cout << "past: done=" << ctx.done() << " err=" << ctx.err().message() << "\n";
        ok = ok && ctx.err() == asioctx::error::deadline_exceeded;
    }

    // (2) A time shortly in the future: fires from the io_context.
    {
        auto [ctx, cancel] = asioctx::with_deadline_at(root, now + 50ms);
        std::cout << "future: done before run=" << ctx.done() << "\n";
        auto const start = std::chrono::steady_clock::now();
        ioc.run();
        ioc.restart();
        auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::steady_clock::now() - start);
        std::cout << "future: done after run=" << ctx.done() << " err=" << ctx.err().message()
                  << (waited >= 40ms ? " (waited for it)" : " (too early!)") << "\n";
        ok = ok && ctx.err() == asioctx::error::deadline_exceeded && waited >= 40ms;
    }

    // (3) The parent's tighter deadline wins: the child reports the parent's deadline.
    {
        auto [parent, cancel_parent] = asioctx::with_timeout(root, 100ms);
        auto [child, cancel_child] = asioctx::with_deadline_at(parent, now + 1h);
        bool same = child.deadline() == parent.deadline();
        std::cout << "tighter parent: child deadline is the parent's=" << same << "\n";
        ioc.run();
        std::cout << "tighter parent: child err=" << child.err().message() << "\n";
        ok = ok && same && child.err() == asioctx::error::deadline_exceeded;
    }

    std::cout << (ok ? "wall_clock_deadline: ok" : "wall_clock_deadline: FAILED") << "\n";
    return ok ? 0 : 1;
}
