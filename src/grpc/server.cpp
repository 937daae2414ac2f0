//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#include <asioctx/grpc/server.hpp>

#include <asioctx/asio/async_wait.hpp>
#include <asioctx/asio/deadline.hpp>
#include <asioctx/asio/executor.hpp>
#include <asioctx/core/cancel.hpp>
#include <asioctx/core/error.hpp>
#include <asioctx/core/without_cancel.hpp>
#include <asioctx/grpc/error.hpp>
#include <asioctx/grpc/status.hpp>
#include <asioctx/http/propagation.hpp>
#include <asioctx/http/traceparent.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <atomic>
#include <string_view>
#include <thread>

namespace asioctx::grpc {

namespace asio = boost::asio;
using boost::system::error_code;
using std::chrono::steady_clock;
using std::chrono::system_clock;

namespace detail {

/** What every call of one server shares.

    `stopping` goes from false to true once (in `run`); a call that starts after it
    answers UNAVAILABLE, and a cancel reported after it is the shutdown's. `calls` counts
    reactors between their construction and OnDone.
*/
struct server_state
{
    server_state(asio::any_io_executor executor, context const& parent, server_options opts)
        : ex(std::move(executor))
        , options(std::move(opts))
    {
        auto const root = asioctx::detail::carrying_executor(parent, ex);
        auto s = with_cancel(root);
        stop_ctx = std::move(s.ctx);
        stop_cancel = std::move(s.cancel);
        // Values of the parent, none of its cancellation: calls in flight outlive a
        // cancelled parent by the grace period.
        auto c = with_cancel(without_cancel(root));
        calls_ctx = std::move(c.ctx);
        calls_cancel = std::move(c.cancel);
    }

    asio::any_io_executor ex;
    server_options options;
    context stop_ctx; // done when shutdown begins
    cancel_handle stop_cancel;
    context calls_ctx; // every call's context derives from it
    cancel_handle calls_cancel;
    std::atomic<bool> stopping{false};
    std::atomic<std::size_t> calls{0};
};

namespace {

error_code cause_of(error e) noexcept
{
    static constexpr auto client_loc = BOOST_CURRENT_LOCATION;
    static constexpr auto shutdown_loc = BOOST_CURRENT_LOCATION;
    return make_error_code(e, e == error::server_shutdown ? &shutdown_loc : &client_loc);
}

std::string_view view(::grpc::string_ref s) noexcept
{
    return {s.data(), s.size()};
}

// The single value of `key`; nullopt when absent or sent more than once.
std::optional<std::string_view> single_value(
    std::multimap<::grpc::string_ref, ::grpc::string_ref> const& metadata, std::string_view key)
{
    auto const [first, last] = metadata.equal_range(::grpc::string_ref(key.data(), key.size()));
    if(first == last || std::next(first) != last)
        return std::nullopt;
    return view(first->second);
}

// Every value of a list-valued `key` (tracestate, baggage) joined with commas, as the
// HTTP layer joins repeated field lines; empty when absent.
std::string joined_values(
    std::multimap<::grpc::string_ref, ::grpc::string_ref> const& metadata, std::string_view key)
{
    std::string out;
    auto const [first, last] = metadata.equal_range(::grpc::string_ref(key.data(), key.size()));
    for(auto it = first; it != last; ++it)
    {
        if(!out.empty())
            out += ',';
        out += view(it->second);
    }
    return out;
}

} // namespace

server_call::server_call(std::shared_ptr<server_state> server, ::grpc::CallbackServerContext* call)
    : server_(std::move(server))
{
    server_->calls.fetch_add(1, std::memory_order_relaxed);
    if(server_->stopping.load(std::memory_order_acquire))
    {
        sync_.store(refused, std::memory_order_release);
        Finish(::grpc::Status(::grpc::StatusCode::UNAVAILABLE, "server shutting down"));
        return;
    }
    auto const& options = server_->options;
    auto const& metadata = call->client_metadata();

    std::string id;
    if(auto v = single_value(metadata, options.request_id_key); v && http::is_valid_request_id(*v, options.request_id))
        id = *v;
    else
        id = http::mint_request_id();
    call->AddInitialMetadata(options.request_id_key, id);
    context ctx = http::with_request_id(server_->calls_ctx, std::move(id));
    if(auto v = single_value(metadata, "traceparent"))
    {
        if(auto tp = http::parse_traceparent(*v))
            ctx = http::with_traceparent(ctx, *tp);
    }
    {
        std::string state, bag;
        if(auto v = joined_values(metadata, "tracestate"); !v.empty())
            state = http::parse_tracestate(v, options.propagation.tracestate_limit).value_or(std::string());
        if(auto v = joined_values(metadata, "baggage"); !v.empty())
            bag = http::parse_baggage(v, options.propagation.baggage_limit).value_or(std::string());
        if(!state.empty() || !bag.empty())
            ctx = http::with_trace_fields(ctx, std::move(state), std::move(bag));
    }

    auto const deadline = call->deadline();
    if(deadline != system_clock::time_point::max())
    {
        auto const remaining = std::min<std::chrono::nanoseconds>(
            deadline - system_clock::now(), options.max_deadline);
        auto d = with_deadline(ctx, steady_clock::now() + remaining); // the heap the context carries
        ctx_ = std::move(d.ctx);
        cancel_ = std::move(d.cancel);
    }
    else
    {
        auto c = with_cancel(ctx);
        ctx_ = std::move(c.ctx);
        cancel_ = std::move(c.cancel);
    }
    sync_.store(1, std::memory_order_release);
}

server_call::~server_call() = default;

asio::any_io_executor const& server_call::executor() const noexcept
{
    return server_->ex;
}

void server_call::complete(std::exception_ptr error, ::grpc::Status status) noexcept
{
    if(auto const ec = ctx_.err())
    {
        // The cause says why (client cancelled, server shut down); the code stays
        // CANCELLED or DEADLINE_EXCEEDED.
        status = to_status(ec);
        if(ec == condition::canceled)
            status = ::grpc::Status(status.error_code(), cause(ctx_).message());
    }
    else if(error)
        status = ::grpc::Status(::grpc::StatusCode::INTERNAL, "handler failed");
    sync_.fetch_add(1, std::memory_order_release);
    Finish(status);
}

void server_call::OnCancel()
{
    if(sync_.load(std::memory_order_acquire) == refused)
        return;
    if(server_->stopping.load(std::memory_order_acquire))
        cancel_(cause_of(error::server_shutdown));
    // A client's deadline and a client's cancel arrive the same way, and at the
    // deadline they race (the client's reset can come before this server's own timer):
    // close to the deadline the context's timer ends it, with deadline_exceeded.
    else if(auto const d = ctx_.deadline(); !d || steady_clock::now() + server_->options.deadline_window < *d)
        cancel_(cause_of(error::client_cancelled));
    sync_.fetch_add(1, std::memory_order_release);
}

void server_call::OnDone()
{
    (void)sync_.load(std::memory_order_acquire);
    auto const server = server_;
    delete this;
    server->calls.fetch_sub(1, std::memory_order_relaxed);
}

} // namespace detail

server::server(asio::any_io_executor ex, context const& parent, server_options options)
    : state_(std::make_shared<detail::server_state>(std::move(ex), parent, std::move(options)))
{
}

server::~server() = default;

void server::stop() noexcept
{
    state_->stop_cancel();
}

std::size_t server::calls() const noexcept
{
    return state_->calls.load(std::memory_order_relaxed);
}

asio::any_io_executor const& server::executor() const noexcept
{
    return state_->ex;
}

namespace {

// gRPC's Shutdown blocks until every call is done, so it runs on a thread of its own;
// the thread is joined however the coroutine ends.
struct shutdown_thread
{
    std::thread thread;
    ~shutdown_thread()
    {
        if(thread.joinable())
            thread.join();
    }
};

} // namespace

asio::awaitable<void> server::run(::grpc::Server& grpc_server)
{
    auto const st = state_;
    auto const wait = asio::as_tuple(asio::use_awaitable);
    co_await async_wait(st->stop_ctx, wait);
    st->stopping.store(true, std::memory_order_release);

    auto finished = with_cancel(background());
    // gRPC's own deadline is a backstop: by then the grace period has cancelled every
    // call's context.
    auto const backstop = system_clock::now() + st->options.shutdown_grace + std::chrono::seconds(1);
    shutdown_thread shutdown;
    shutdown.thread = std::thread([&grpc_server, backstop, &done = finished.cancel] {
        grpc_server.Shutdown(backstop);
        done();
    });
    {
        auto grace = with_timeout(st->ex, finished.ctx, st->options.shutdown_grace);
        co_await async_wait(grace.ctx, wait);
    }
    if(!finished.ctx.done())
        st->calls_cancel(detail::cause_of(error::server_shutdown));
    co_await async_wait(finished.ctx, wait);
}

} // namespace asioctx::grpc
