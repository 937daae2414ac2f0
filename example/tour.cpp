// A tour of the asioctx context tree, runnable: the README's demo.
//
// One io_context, one request: values, a deadline, a cancel with a cause, an
// after_func cleanup, a detached child that outlives the request, and what each
// context reports at every step.

#include <asioctx.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <iostream>
#include <string>

using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

constexpr asioctx::key<std::string> request_id{"request_id"};

std::string describe(asioctx::context const& ctx)
{
    std::string s = ctx.done() ? "done" : "live";
    if(ctx.done())
        s += " err=\"" + ctx.err().message() + "\" cause=\"" + asioctx::cause(ctx).message() + "\"";
    if(auto d = ctx.deadline())
    {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*d - std::chrono::steady_clock::now());
        s += " deadline=" + (left.count() > 0 ? "in " + std::to_string(left.count()) + "ms" : std::string("passed"));
    }
    if(auto id = ctx.value(request_id))
        s += " request_id=" + *id;
    return s;
}

void show(char const* name, asioctx::context const& ctx)
{
    std::cout << "  " << name << ": " << describe(ctx) << "\n";
}

} // namespace

int main()
{
    asio::io_context ioc;
    std::cout << "asioctx tour: Go's context package on Boost.Asio\n\n";

    // The server's root carries the executor that deadlines and after_func use.
    auto server = asioctx::with_executor(asioctx::background(), ioc.get_executor());

    std::cout << "1. a request arrives: value + 200ms timeout\n";
    auto request = asioctx::with_value(server, request_id, "req-7f3a");
    auto [req, cancel_req] = asioctx::with_timeout(request, 200ms);
    show("request", req);

    std::cout << "2. three children of the request\n";
    auto [db, cancel_db] = asioctx::with_timeout(req, 1h); // later than the parent: no timer of its own
    auto [cache, cancel_cache] = asioctx::with_cancel_cause(req);
    auto audit = asioctx::without_cancel(req); // outlives the request, keeps its values
    auto [audit_ceiling, cancel_audit] = asioctx::with_timeout(audit, 500ms);
    show("db (asked for 1h)", db);
    show("cache", cache);
    show("audit (without_cancel + 500ms)", audit_ceiling);

    std::cout << "3. cleanup registered with after_func on the request\n";
    // (Init-captures: clang before 16 cannot capture structured bindings directly.)
    auto cleanup = asioctx::after_func(req, [&req = req] {
        std::cout << "  after_func: request ended (" << req.err().message() << "), temp files removed\n";
    });

    std::cout << "4. the cache lookup is abandoned with a cause\n";
    cancel_cache(asio::error::connection_reset);
    show("cache", cache);
    show("request", req);

    std::cout << "5. the io_context runs; the request's deadline fires\n";
    asio::steady_timer wait(ioc, 300ms);
    wait.async_wait([&req = req, &db = db, &audit_ceiling = audit_ceiling](boost::system::error_code) {
        show("request", req);
        show("db", db);
        show("audit", audit_ceiling);
    });
    ioc.run();

    std::cout << "6. every deadline has fired, nothing is pending, run() returned\n";
    show("audit", audit_ceiling);
    bool ok = req.err() == asioctx::error::deadline_exceeded && db.err() == asioctx::error::deadline_exceeded &&
              cache.err() == asioctx::error::canceled && asioctx::cause(cache) == asio::error::connection_reset &&
              audit_ceiling.err() == asioctx::error::deadline_exceeded && !audit.done();
    std::cout << "\n" << (ok ? "tour: ok" : "tour: FAILED") << "\n";
    return ok ? 0 : 1;
}
