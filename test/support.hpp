// Helpers shared by the test files: an io_context with a root context that carries its
// executor, common keys, and a recorder for `void(std::exception_ptr, error_code)` completions.
#ifndef ASIOCTX_TEST_SUPPORT_HPP
#define ASIOCTX_TEST_SUPPORT_HPP

#include <asioctx/core/context.hpp>
#include <asioctx/asio/executor.hpp>
#include <asioctx/core/value.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/system/errc.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <exception>
#include <new>
#include <string>

namespace test {

// Keys and an error that several test files use.
inline constexpr asioctx::key<int> number{"number"};
inline constexpr asioctx::key<std::string> user_key{"user"};
inline boost::system::error_code const failure = boost::system::errc::make_error_code(boost::system::errc::io_error);

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

// An allocator that always fails: bound to a handler (asio::bind_allocator), it makes
// posting that handler throw std::bad_alloc, as when memory runs out.
template<class T>
struct failing_allocator
{
    using value_type = T;
    failing_allocator() noexcept = default;
    template<class U>
    failing_allocator(failing_allocator<U> const&) noexcept
    {
    }
    T* allocate(std::size_t)
    {
        throw std::bad_alloc();
    }
    void deallocate(T*, std::size_t) noexcept {}
    template<class U>
    bool operator==(failing_allocator<U> const&) const noexcept
    {
        return true;
    }
    template<class U>
    bool operator!=(failing_allocator<U> const&) const noexcept
    {
        return false;
    }
};

} // namespace test

#endif
