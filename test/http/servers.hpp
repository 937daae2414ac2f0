// Servers on loopback ports for the HTTP tests: the library's own, and a raw one whose
// connections misbehave on purpose.
#ifndef ASIOCTX_TEST_HTTP_SERVERS_HPP
#define ASIOCTX_TEST_HTTP_SERVERS_HPP

#include <asioctx/http/server.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>

#include <atomic>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace test {

// A thread running `ioc`. However the test ends, it is joined: stopped first when the
// test did not join it itself (a failed BOOST_REQUIRE), so that one failure is
// reported as one failure instead of terminating the whole binary.
class io_thread
{
public:
    explicit io_thread(boost::asio::io_context& ioc)
        : ioc_(ioc)
        , thread_([&ioc] { ioc.run(); })
    {
    }

    ~io_thread()
    {
        if(thread_.joinable())
        {
            ioc_.stop();
            thread_.join();
        }
    }

    // Waits for `run()` to return by itself.
    void join()
    {
        thread_.join();
    }

private:
    boost::asio::io_context& ioc_;
    std::jthread thread_;
};

// A server on a loopback port, run by one background thread until destroyed.
struct test_server
{
    boost::asio::io_context ioc;
    std::optional<asioctx::http::server> srv;
    std::atomic<bool> finished{false};
    std::jthread thread;

    // `concurrency_hint` 1 builds the io_context for one thread: connections then run
    // without strands.
    explicit test_server(asioctx::http::handler h, asioctx::http::server_options o = {},
        asioctx::context parent = asioctx::background(), int concurrency_hint = BOOST_ASIO_CONCURRENCY_HINT_DEFAULT)
        : ioc(concurrency_hint)
    {
        srv.emplace(ioc.get_executor(), parent, std::move(h), o);
        srv->listen({boost::asio::ip::address_v4::loopback(), 0});
        srv->async_run([this](std::exception_ptr) { finished = true; });
        thread = std::jthread([this] { ioc.run(); });
    }

    ~test_server()
    {
        srv->stop();
        thread.join();
    }

    unsigned short port() const
    {
        return srv->local_endpoint().port();
    }
};

// A server that runs `behaviour` on each connection it accepts, on a thread of its own,
// with blocking I/O. Counts the connections whose client closed them.
struct raw_server
{
    using socket_type = boost::asio::ip::tcp::socket;

    boost::asio::io_context ioc;
    boost::asio::ip::tcp::acceptor acceptor{ioc, {boost::asio::ip::address_v4::loopback(), 0}};
    std::function<void(socket_type&)> behaviour;
    std::atomic<bool> stopping{false};
    std::atomic<int> accepted{0};
    std::atomic<int> closed_by_client{0};
    std::mutex mutex;
    std::vector<std::jthread> connections;
    std::jthread accepting;

    explicit raw_server(std::function<void(socket_type&)> b)
        : behaviour(std::move(b))
    {
        accepting = std::jthread([this] {
            for(;;)
            {
                socket_type s(ioc);
                boost::system::error_code ec;
                acceptor.accept(s, ec);
                if(ec || stopping)
                    return;
                ++accepted;
                std::lock_guard<std::mutex> g(mutex);
                connections.emplace_back([this, s = std::move(s)]() mutable { behaviour(s); });
            }
        });
    }

    ~raw_server()
    {
        stopping = true;
        socket_type wake(ioc); // unblocks accept()
        boost::system::error_code ignored;
        wake.connect(acceptor.local_endpoint(), ignored);
        accepting.join();
        wake.close(ignored);
        for(auto& t : connections)
            t.join(); // each ends when its client closes
    }

    unsigned short port() const
    {
        return acceptor.local_endpoint().port();
    }

    // Reads one request header; false if the client closed first.
    static bool read_request(socket_type& s)
    {
        boost::asio::streambuf buffer;
        boost::system::error_code ec;
        boost::asio::read_until(s, buffer, "\r\n\r\n", ec);
        return !ec;
    }

    // Blocks until the client closes the connection, and counts it.
    void wait_for_close(socket_type& s)
    {
        char c;
        boost::system::error_code ec;
        while(!ec)
            s.read_some(boost::asio::buffer(&c, 1), ec);
        if(ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset)
            ++closed_by_client;
    }
};

} // namespace test

#endif
