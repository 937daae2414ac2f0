// The gRPC tests' harness: peer programs (grpc-go and Python's grpcio) run as child
// processes, and an asioctx server of the Peer service on loopback, port 0.
#ifndef ASIOCTX_TEST_GRPC_PEERS_HPP
#define ASIOCTX_TEST_GRPC_PEERS_HPP

#include <asioctx/grpc/client.hpp>
#include <asioctx/grpc/server.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <grpcpp/grpcpp.h>

#include "peer.grpc.pb.h"

#include <chrono>
#include <condition_variable>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace test::grpc {

using namespace std::chrono_literals;

/// A program started with its stdout piped to us; killed (if still running) and
/// reaped on destruction.
class process
{
public:
    explicit process(std::vector<std::string> argv);
    ~process();
    process(process const&) = delete;
    process& operator=(process const&) = delete;

    /// The next line of its output, without the newline; empty at the end of the output
    /// or after `timeout`.
    std::string read_line(std::chrono::milliseconds timeout = 30s);

private:
    int pid_ = -1;
    int out_ = -1;
    std::string buffered_;
};

/// `key=value key=value ...` as a map.
std::map<std::string, std::string> fields(std::string const& line);

/// The Go peer's command line for `mode` and its arguments.
std::vector<std::string> go_peer(std::vector<std::string> args);

/// The Python peer's command line for `mode` and its arguments.
std::vector<std::string> python_peer(std::vector<std::string> args);

/// A Go peer serving Peer on loopback.
class go_server
{
public:
    go_server();
    std::string address() const
    {
        return "127.0.0.1:" + port_;
    }
    /// How the tagged call ended on the Go server (its Ended method).
    asioctx::test::EndedReply ended(std::string const& tag, std::chrono::milliseconds wait = 5s);
    std::unique_ptr<asioctx::test::Peer::Stub> stub() const;

private:
    process process_;
    std::string port_;
};

/// What the asioctx server saw of one call.
struct call_record
{
    long long remaining_us = -1; // at arrival; -1: no deadline
    std::string request_id;
    std::string traceparent;
    std::string ended; // "ok", "deadline", "canceled:client", "canceled:shutdown", "canceled:other"
    std::chrono::steady_clock::time_point started;
    std::chrono::steady_clock::time_point finished;
};

/** An asioctx gRPC server of the Peer service on 127.0.0.1, port 0, its io_context run
    by one thread. Sleep waits (bound to the call's context) or forwards with
    `async_unary`; a negative sleep throws. Each call's record is kept by tag.
*/
class asioctx_server final : public asioctx::test::Peer::CallbackService
{
public:
    explicit asioctx_server(asioctx::grpc::server_options options = {});
    ~asioctx_server() override;

    std::string address() const
    {
        return "127.0.0.1:" + std::to_string(port_);
    }

    /// The record of the tagged call once it has ended (waits up to `wait`).
    std::optional<call_record> ended(std::string const& tag, std::chrono::milliseconds wait = 10s);

    /// True once the tagged call has arrived (waits up to `wait`).
    bool arrived(std::string const& tag, std::chrono::milliseconds wait = 10s);

    asioctx::grpc::server& server()
    {
        return server_;
    }

    /// Starts the graceful shutdown and waits for async_run to complete.
    void shut_down();

    ::grpc::ServerUnaryReactor* Sleep(::grpc::CallbackServerContext* call,
        asioctx::test::SleepRequest const* request, asioctx::test::SleepReply* reply) override;

private:
    boost::asio::io_context ioc_{1};
    asioctx::grpc::server server_;
    std::unique_ptr<::grpc::Server> grpc_server_;
    int port_ = 0;
    std::promise<void> run_done_;
    std::future<void> run_future_;
    std::thread thread_;

    std::mutex mutex_;
    std::condition_variable changed_;
    std::map<std::string, call_record> records_;
    std::map<std::string, std::unique_ptr<asioctx::test::Peer::Stub>> downstream_;

    asioctx::test::Peer::Stub* downstream(std::string const& address);
};

} // namespace test::grpc

#endif
