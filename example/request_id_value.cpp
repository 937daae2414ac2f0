// A request id carried through any number of derived contexts under a typed
// key that only this file can name.
//
// In Go the key must be an unexported type so other packages cannot collide with it.
// In asioctx a key is a typed object whose address is its identity: a key in an
// unnamed namespace is private to its translation unit, and the type fixes what is
// stored, so there is no type assertion to get wrong.

#include <asioctx.hpp>

#include <boost/asio/io_context.hpp>

#include <iostream>
#include <string>

namespace reqid {
namespace {
constexpr asioctx::key<std::string> request_id_key{"request_id"};
} // namespace

asioctx::context with_request_id(asioctx::context const& ctx, std::string id)
{
    return asioctx::with_value(ctx, request_id_key, std::move(id));
}

// The empty string when absent: "missing means absent", the caller decides.
std::string request_id(asioctx::context const& ctx)
{
    auto id = ctx.value(request_id_key);
    return id ? *id : std::string();
}
} // namespace reqid

int main()
{
    boost::asio::io_context ioc;
    auto ctx0 = asioctx::with_executor(asioctx::background(), ioc.get_executor());
    auto ctx1 = reqid::with_request_id(ctx0, "abc");
    auto [ctx2, cancel] = asioctx::with_timeout(ctx1, std::chrono::seconds(1));
    auto [ctx3, cancel3] = asioctx::with_cancel(ctx2);
    auto ctx4 = asioctx::without_cancel(ctx3);

    std::cout << "ctx0 request_id: '" << reqid::request_id(ctx0) << "'\n";
    std::cout << "ctx2 request_id (timeout child): '" << reqid::request_id(ctx2) << "'\n";
    std::cout << "ctx3 request_id (cancel grandchild): '" << reqid::request_id(ctx3) << "'\n";
    std::cout << "ctx4 request_id (without_cancel): '" << reqid::request_id(ctx4) << "'\n";

    // A key with the same name and type elsewhere is a different key.
    constexpr asioctx::key<std::string> impostor{"request_id"};
    std::cout << "impostor key finds: " << (ctx2.value(impostor) ? "a value" : "nothing") << "\n";
    bool ok = reqid::request_id(ctx3) == "abc" && reqid::request_id(ctx0).empty() && !ctx2.value(impostor);
    std::cout << (ok ? "request_id_value: ok" : "request_id_value: FAILED") << "\n";
    return ok ? 0 : 1;
}
