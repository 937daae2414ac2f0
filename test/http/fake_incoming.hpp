// A request with a header only, and a way to run a handler on it: for testing
// middleware without sockets.
#ifndef ASIOCTX_TEST_HTTP_FAKE_INCOMING_HPP
#define ASIOCTX_TEST_HTTP_FAKE_INCOMING_HPP

#include <asioctx/executor.hpp>
#include <asioctx/http/handler.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <optional>
#include <string>

namespace test {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using asioctx::http::response;

// A request with a header only; the body is never asked for here.
class fake_incoming final : public asioctx::http::incoming
{
public:
    fake_incoming()
    {
        header_.method(bhttp::verb::get);
        header_.target("/x");
        header_.version(11);
    }
    asioctx::http::request_header& edit() noexcept
    {
        return header_;
    }
    asioctx::http::request_header const& header() const noexcept override
    {
        return header_;
    }
    asio::awaitable<std::string_view> body() override
    {
        co_return std::string_view();
    }
    std::string const& peer() const noexcept override
    {
        return peer_;
    }

private:
    asioctx::http::request_header header_;
    std::string peer_ = "127.0.0.1:1";
};

// Runs `h` on a request to completion and returns the response.
inline response call(asioctx::http::handler const& h, fake_incoming& in)
{
    asio::io_context ioc;
    auto root = asioctx::with_executor(asioctx::background(), ioc.get_executor());
    std::optional<response> out;
    std::exception_ptr failure;
    asio::co_spawn(ioc, h(root, in), [&](std::exception_ptr e, response r) {
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
