// Three sources of cancellation, each with its own cause.
//
// A worker stops when its parent is cancelled, when the user presses quit, or when its
// own deadline passes. err() says only canceled or deadline_exceeded; cause() says
// which of the three it was, so the log line explains itself.

#include <asioctx.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/error_category.hpp>

#include <chrono>
#include <iostream>
#include <string>

using namespace std::chrono_literals;
namespace asio = boost::asio;
using boost::system::error_code;

namespace worker {

enum class stop_reason
{
    user_quit = 1,
    parent_gone,
    timed_out,
};

class category_impl : public boost::system::error_category
{
public:
    char const* name() const noexcept override { return "worker"; }
    std::string message(int ev) const override
    {
        switch(static_cast<stop_reason>(ev))
        {
        case stop_reason::user_quit: return "user pressed quit";
        case stop_reason::parent_gone: return "parent context cancelled";
        case stop_reason::timed_out: return "worker ran out of time";
        }
        return "unknown";
    }
};

category_impl const category;

error_code make(stop_reason r)
{
    return error_code(static_cast<int>(r), category);
}

// Runs until one of the three sources stops it; returns the cause. `quit` plays the part
// of Go's quit channel: a context that is done when the user presses quit.
asio::awaitable<error_code> run(asioctx::context parent, asioctx::context quit)
{
    // Derived from without_cancel(parent), so that the parent's cancellation arrives
    // through our own watcher, with our own cause, instead of the parent's.
    auto [ctx, cancel] = asioctx::with_cancel_cause(asioctx::without_cancel(parent));
    auto [timed, cancel_timed] = asioctx::with_timeout_cause(ctx, 500ms, make(stop_reason::timed_out));
    auto on_parent = asioctx::after_func(parent, [&cancel = cancel] { cancel(make(stop_reason::parent_gone)); });
    auto on_quit = asioctx::after_func(quit, [&cancel = cancel] { cancel(make(stop_reason::user_quit)); });

    error_code stopped_by;
    for(int i = 0; i < 100 && !stopped_by; ++i)
    {
        auto [ec] = co_await asioctx::async_sleep(timed, 10ms, asio::as_tuple(asio::use_awaitable));
        if(ec)
        {
            std::cout << "worker stopped: err=\"" << timed.err().message() << "\" cause=\""
                      << asioctx::cause(timed).message() << "\"\n";
            stopped_by = asioctx::cause(timed);
        }
    }
    // The watchers refer to `cancel`: stop them before it goes away.
    on_parent.stop();
    on_quit.stop();
    co_return stopped_by;
}

} // namespace worker

int main()
{
    bool ok = true;
    for(auto scenario : {"parent cancelled", "quit pressed", "deadline passed"})
    {
        asio::io_context ioc;
        auto root = asioctx::with_executor(asioctx::background(), ioc.get_executor());
        auto [parent, cancel_parent] = asioctx::with_cancel(root);
        auto [quit, press_quit] = asioctx::with_cancel(root);
        error_code cause;
        std::cout << "scenario: " << scenario << "\n";
        asio::co_spawn(ioc, worker::run(parent, quit), [&](std::exception_ptr, error_code c) { cause = c; });
        asio::steady_timer at_50ms(ioc, 50ms);
        at_50ms.async_wait([&, s = std::string(scenario), &cancel_parent = cancel_parent,
                               &press_quit = press_quit](error_code) {
            if(s == "parent cancelled")
                cancel_parent();
            else if(s == "quit pressed")
                press_quit();
        });
        ioc.run();
        auto expected = std::string(scenario) == "parent cancelled" ? worker::stop_reason::parent_gone
                        : std::string(scenario) == "quit pressed"   ? worker::stop_reason::user_quit
                                                                    : worker::stop_reason::timed_out;
        ok = ok && cause == worker::make(expected);
    }
    std::cout << (ok ? "cancel_causes: ok" : "cancel_causes: FAILED") << "\n";
    return ok ? 0 : 1;
}
