// Where did this deadline come from? Three middleware layers each derive the
// request's context; the handler prints the whole derivation, newest first, with the
// site, kind and time of every link, and (with tracking::stacks) the call stack that
// derived it.
//
// Go needs a wrapper type that shadows every With* function; asioctx's derivation
// functions record their caller's site themselves once tracking is on. Stacks are a
// debugging aid: capturing one costs microseconds per derivation (doc/diagnostics.md).

#include <asioctx.hpp>
#include <asioctx/http/handler.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <iostream>
#include <string>

using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace ahttp = asioctx::http;

namespace {

inline constexpr asioctx::key<std::string> user_key{"user"};
inline constexpr asioctx::key<std::string> span_key{"span"};

std::string trace;

// Layer 1: authentication puts the user in the context.
ahttp::middleware auth_layer()
{
    return [](ahttp::handler next) -> ahttp::handler {
        return [next](asioctx::context ctx, ahttp::incoming& in) {
            return next(asioctx::with_value(ctx, user_key, "ada"), in);
        };
    };
}

// Layer 2: a deadline for the whole request.
ahttp::middleware deadline_layer()
{
    return [](ahttp::handler next) -> ahttp::handler {
        return [next](asioctx::context ctx, ahttp::incoming& in) -> asio::awaitable<ahttp::response> {
            auto [bounded, cancel] = asioctx::with_timeout(ctx, 2s);
            co_return co_await next(bounded, in);
        };
    };
}

// Layer 3: a tracing span id.
ahttp::middleware span_layer()
{
    return [](ahttp::handler next) -> ahttp::handler {
        return [next](asioctx::context ctx, ahttp::incoming& in) {
            return next(asioctx::with_value(ctx, span_key, "span-7"), in);
        };
    };
}

asio::awaitable<ahttp::response> handler(asioctx::context ctx, ahttp::incoming& in)
{
    trace = asioctx::format_derivation(ctx);
    co_return ahttp::make_response(in.header(), boost::beast::http::status::ok, "ok\n");
}

} // namespace

int main()
{
    auto const level = asioctx::set_tracking(asioctx::tracking::stacks);
    if(level == asioctx::tracking::off)
    {
        std::cout << "diagnostics compiled out: no trace\nderivation_trace: ok\n";
        return 0;
    }
    std::cout << "tracking: " << (level == asioctx::tracking::stacks ? "stacks" : "sites (no Boost.Stacktrace)")
              << "\n";

    asio::io_context ioc;
    auto root = asioctx::with_executor(asioctx::background(), ioc.get_executor());
    auto app = ahttp::chain(auth_layer(), deadline_layer(), span_layer(), handler);
    boost::beast::http::request<boost::beast::http::string_body> req{boost::beast::http::verb::get, "/hello", 11};
    ahttp::message_incoming in(req, "127.0.0.1:1");
    asio::co_spawn(ioc, app(root, in), asio::detached);
    ioc.run();

    std::cout << trace;
    // Newest first: span, deadline, user, executor, background; each site in this file.
    auto at = [](std::string const& s) { return trace.find(s); };
    bool ok = at("#0 value (\"span\") derived ") != std::string::npos &&
        at("#0 value") < at("#1 deadline (in ") && at("#1 deadline") < at("#2 value (\"user\") derived ") &&
        at("#2 value") < at("#3 value (\"asioctx.executor\") derived ") && at("#3 value") < at("#4 background");
    std::size_t sites = 0;
    for(auto p = trace.find("derivation_trace.cpp:"); p != std::string::npos; p = trace.find("derivation_trace.cpp:", p + 1))
        ++sites;
    ok = ok && sites >= 4;
    std::cout << (ok ? "derivation_trace: ok\n" : "derivation_trace: FAILED\n");
    return ok ? 0 : 1;
}
