// An io_context run by one thread of its own, for cross-thread latency benchmarks.
#ifndef ASIOCTX_BENCH_IO_THREAD_HPP
#define ASIOCTX_BENCH_IO_THREAD_HPP

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <thread>

namespace bench {

struct io_thread
{
    boost::asio::io_context ioc;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work =
        boost::asio::make_work_guard(ioc);
    std::thread thread{[this] { ioc.run(); }};

    ~io_thread()
    {
        work.reset();
        thread.join();
    }
};

inline void spin_until(std::atomic<bool>& flag) noexcept
{
    while(!flag.load(std::memory_order_acquire))
    {
    }
}

} // namespace bench

#endif
