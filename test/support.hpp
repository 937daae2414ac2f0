// Helpers shared by the test files: an io_context with a root context that carries its
// executor, and a recorder for `void(std::exception_ptr, error_code)` completions.
#ifndef ASIOCTX_TEST_SUPPORT_HPP
#define ASIOCTX_TEST_SUPPORT_HPP

#include <asioctx/context.hpp>
#include <asioctx/executor.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/system/error_code.hpp>

#include <exception>

namespace test {

struct io_fixture
{
    boost::asio::io_context ioc;
    asioctx::context root = asioctx::with_executor(asioctx::background(), ioc.get_executor());
};

// Records the completion of a group wait or a run.
struct outcome
{
    bool done = false;
    std::exception_ptr ep;
    boost::system::error_code ec;

    auto handler()
    {
        return [this](std::exception_ptr e, boost::system::error_code c) {
            done = true;
            ep = e;
            ec = c;
        };
    }
};

} // namespace test

#endif
