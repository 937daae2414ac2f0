#include "peers.hpp"

#include <asioctx/asio/sleep.hpp>
#include <asioctx/grpc/error.hpp>
#include <asioctx/grpc/status.hpp>
#include <asioctx/http/request_id.hpp>
#include <asioctx/http/propagation.hpp>
#include <asioctx/http/traceparent.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <poll.h>
#include <spawn.h>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace test::grpc {

namespace asio = boost::asio;
using boost::system::error_code;
using std::chrono::steady_clock;

process::process(std::vector<std::string> argv)
{
    int fds[2];
    if(::pipe(fds) != 0)
        throw std::runtime_error("pipe failed");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    std::vector<char*> args;
    for(auto& a : argv)
        args.push_back(a.data());
    args.push_back(nullptr);
    int const rc = ::posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    out_ = fds[0];
    if(rc != 0)
    {
        ::close(out_);
        throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
    }
}

process::~process()
{
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    ::close(out_);
}

std::string process::read_line(std::chrono::milliseconds timeout)
{
    auto const until = steady_clock::now() + timeout;
    for(;;)
    {
        if(auto nl = buffered_.find('\n'); nl != std::string::npos)
        {
            auto line = buffered_.substr(0, nl);
            buffered_.erase(0, nl + 1);
            return line;
        }
        auto const left = std::chrono::duration_cast<std::chrono::milliseconds>(until - steady_clock::now());
        if(left.count() <= 0)
            return {};
        pollfd p{out_, POLLIN, 0};
        if(::poll(&p, 1, static_cast<int>(left.count())) <= 0)
            continue;
        char buffer[4096];
        auto const n = ::read(out_, buffer, sizeof buffer);
        if(n <= 0)
            return std::exchange(buffered_, {});
        buffered_.append(buffer, static_cast<std::size_t>(n));
    }
}

std::map<std::string, std::string> fields(std::string const& line)
{
    std::map<std::string, std::string> result;
    std::size_t pos = 0;
    while(pos < line.size())
    {
        auto end = line.find(' ', pos);
        if(end == std::string::npos)
            end = line.size();
        auto const item = line.substr(pos, end - pos);
        if(auto eq = item.find('='); eq != std::string::npos)
            result[item.substr(0, eq)] = item.substr(eq + 1);
        pos = end + 1;
    }
    return result;
}

std::vector<std::string> go_peer(std::vector<std::string> args)
{
    args.insert(args.begin(), ASIOCTX_TEST_GO_PEER);
    return args;
}

std::vector<std::string> python_peer(std::vector<std::string> args)
{
    args.insert(args.begin(), {ASIOCTX_TEST_PYTHON, ASIOCTX_TEST_PYTHON_PEER, ASIOCTX_TEST_PYTHON_STUBS});
    return args;
}

go_server::go_server()
    : process_(go_peer({"serve"}))
    , port_(process_.read_line())
{
    if(port_.empty())
        throw std::runtime_error("the Go peer printed no port");
}

std::unique_ptr<asioctx::test::Peer::Stub> go_server::stub() const
{
    return asioctx::test::Peer::NewStub(::grpc::CreateChannel(address(), ::grpc::InsecureChannelCredentials()));
}

asioctx::test::EndedReply go_server::ended(std::string const& tag, std::chrono::milliseconds wait)
{
    auto s = stub();
    ::grpc::ClientContext call;
    call.set_deadline(std::chrono::system_clock::now() + wait + 5s);
    asioctx::test::EndedRequest request;
    request.set_tag(tag);
    request.set_wait_ms(wait.count());
    asioctx::test::EndedReply reply;
    auto const status = s->Ended(&call, request, &reply);
    if(!status.ok())
        throw std::runtime_error("Ended failed: " + status.error_message());
    return reply;
}

asioctx_server::asioctx_server(asioctx::grpc::server_options options)
    : server_(ioc_.get_executor(), asioctx::background(), std::move(options))
{
    ::grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", ::grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(this);
    grpc_server_ = builder.BuildAndStart();
    if(!grpc_server_ || port_ == 0)
        throw std::runtime_error("the asioctx gRPC server did not start");
    run_future_ = run_done_.get_future();
    server_.async_run(*grpc_server_, [this](std::exception_ptr) { run_done_.set_value(); });
    thread_ = std::thread([this] { ioc_.run(); });
}

asioctx_server::~asioctx_server()
{
    shut_down();
    thread_.join();
}

void asioctx_server::shut_down()
{
    server_.stop();
    run_future_.wait();
}

asioctx::test::Peer::Stub* asioctx_server::downstream(std::string const& address)
{
    std::lock_guard lock(mutex_);
    auto& stub = downstream_[address];
    if(!stub)
        stub = asioctx::test::Peer::NewStub(::grpc::CreateChannel(address, ::grpc::InsecureChannelCredentials()));
    return stub.get();
}

std::optional<call_record> asioctx_server::ended(std::string const& tag, std::chrono::milliseconds wait)
{
    std::unique_lock lock(mutex_);
    bool const found = changed_.wait_for(lock, wait, [&] {
        auto it = records_.find(tag);
        return it != records_.end() && !it->second.ended.empty();
    });
    if(!found)
        return std::nullopt;
    return records_[tag];
}

bool asioctx_server::arrived(std::string const& tag, std::chrono::milliseconds wait)
{
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, wait, [&] { return records_.count(tag) != 0; });
}

namespace {

std::string ending(asioctx::context const& ctx)
{
    auto const ec = ctx.err();
    if(!ec)
        return "ok";
    if(ec == asioctx::condition::deadline_exceeded)
        return "deadline";
    auto const why = asioctx::cause(ctx);
    if(why == asioctx::grpc::error::client_cancelled)
        return "canceled:client";
    if(why == asioctx::grpc::error::server_shutdown)
        return "canceled:shutdown";
    return "canceled:other";
}

} // namespace

::grpc::ServerUnaryReactor* asioctx_server::Sleep(::grpc::CallbackServerContext* call,
    asioctx::test::SleepRequest const* request, asioctx::test::SleepReply* reply)
{
    return server_.unary(call, request, reply,
        [this](asioctx::context ctx, asioctx::test::SleepRequest const& req,
            asioctx::test::SleepReply& rep) -> asio::awaitable<::grpc::Status> {
            call_record record;
            record.started = steady_clock::now();
            if(auto const d = ctx.deadline())
                record.remaining_us = std::chrono::duration_cast<std::chrono::microseconds>(*d - record.started).count();
            record.request_id = std::string(asioctx::http::request_id(ctx));
            if(auto const tp = asioctx::http::traceparent(ctx))
                record.traceparent = tp->to_string();
            rep.set_tag(req.tag());
            rep.set_remaining_us(record.remaining_us);
            rep.set_request_id(record.request_id);
            rep.set_traceparent(record.traceparent);
            rep.set_tracestate(std::string(asioctx::http::tracestate(ctx)));
            rep.set_baggage(std::string(asioctx::http::baggage(ctx)));
            {
                std::lock_guard lock(mutex_);
                records_[req.tag()] = record;
            }
            changed_.notify_all();

            ::grpc::Status status;
            if(req.sleep_ms() < 0)
                throw std::runtime_error("a negative sleep");
            if(!req.forward_to().empty())
            {
                asioctx::test::SleepRequest next;
                next.set_sleep_ms(req.sleep_ms());
                next.set_tag(req.tag());
                auto [ec, response] = co_await asioctx::grpc::async_unary(ctx,
                    downstream(req.forward_to())->async(), &asioctx::test::Peer::Stub::async::Sleep, std::move(next),
                    asio::as_tuple(asio::use_awaitable));
                if(ec)
                    status = asioctx::grpc::to_status(ec);
                else
                    *rep.mutable_next() = std::move(response);
            }
            else
                co_await asioctx::async_sleep(ctx, std::chrono::milliseconds(req.sleep_ms()), asio::as_tuple(asio::use_awaitable));
            {
                std::lock_guard lock(mutex_);
                auto& r = records_[req.tag()];
                r.ended = ending(ctx);
                r.finished = steady_clock::now();
            }
            changed_.notify_all();
            co_return status;
        });
}

} // namespace test::grpc
