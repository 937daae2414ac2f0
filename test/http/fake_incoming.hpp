// A request with a header only, and a way to run a handler on it: for testing
// middleware without sockets.
#ifndef ASIOCTX_TEST_HTTP_FAKE_INCOMING_HPP
#define ASIOCTX_TEST_HTTP_FAKE_INCOMING_HPP

#include <asioctx/asio/executor.hpp>
#include <asioctx/http/handler.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <optional>
#include <string>

namespace test {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using asioctx::http::response;

// A GET /x request with no body, seen through the library's message_incoming; `edit()`
// changes its header before a call.
class fake_incoming
{
public:
    explicit fake_incoming(std::string peer = "127.0.0.1:1")
        : incoming_(request_, std::move(peer))
    {
    }

    asioctx::http::request_header& edit() noexcept
    {
        return request_.base();
    }

    asioctx::http::incoming& incoming() noexcept
    {
        return incoming_;
    }

private:
    bhttp::request<bhttp::string_body> request_{bhttp::verb::get, "/x", 11};
    asioctx::http::message_incoming incoming_;
};

// Runs `h` on a request to completion and returns the response.
inline response call(asioctx::http::handler const& h, fake_incoming& in)
{
    asio::io_context ioc;
    auto root = asioctx::with_executor(asioctx::background(), ioc.get_executor());
    std::optional<response> out;
    std::exception_ptr failure;
    asio::co_spawn(ioc, h(root, in.incoming()), [&](std::exception_ptr e, response r) {
        failure = e;
        out = std::move(r);
    });
    ioc.run();
    if(failure)
        std::rethrow_exception(failure);
    return std::move(*out);
}

} // namespace test

#endif
