// A program that uses asioctx as a dependency: derives a deadline on an io_context and
// sees it fire. Shared by the find_package and add_subdirectory consumers.
#include <asioctx.hpp>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <iostream>

int main()
{
    boost::asio::io_context ioc;
    auto root = asioctx::with_executor(asioctx::background(), ioc.get_executor());
    auto [ctx, cancel] = asioctx::with_timeout(root, std::chrono::milliseconds(10));
    ioc.run();
    if(ctx.err() != asioctx::error::deadline_exceeded)
        return 1;
    std::cout << "consumer: ok (" << ctx.err().message() << ")\n";
    return 0;
}
