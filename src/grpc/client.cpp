//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#include <asioctx/grpc/client.hpp>

#include <asioctx/core/error.hpp>
#include <asioctx/http/request_id.hpp>
#include <asioctx/http/propagation.hpp>
#include <asioctx/http/traceparent.hpp>

#include <boost/asio/error.hpp>

#include <algorithm>

namespace asioctx::grpc {

using boost::system::error_code;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;

nanoseconds outgoing_timeout(nanoseconds remaining, nanoseconds reserve) noexcept
{
    // gRPC reads its clock to the millisecond and rounds up; keep 2 ms for that.
    constexpr std::int64_t clock_slack_ms = 2;
    auto const left = std::chrono::duration_cast<milliseconds>(remaining - std::max(reserve, nanoseconds::zero()));
    auto ms = left.count() - clock_slack_ms;
    if(ms <= 0)
        return nanoseconds::zero();
    // gRPC's step for this magnitude: 1 ms below 1 s, then three significant digits.
    std::int64_t step = 1;
    while(ms >= 1000 * step && step < 1'000'000'000'000)
        step *= 10;
    ms = ms / step * step - clock_slack_ms;
    return ms <= 0 ? nanoseconds::zero() : milliseconds(ms);
}

namespace detail {

void prepare_call(::grpc::ClientContext& call, context const& ctx, std::optional<nanoseconds> budget,
    call_options const& options)
{
    // The same budget the HTTP client sends, rounded for gRPC's own encoding.
    if(budget)
        call.set_deadline(std::chrono::system_clock::now() + outgoing_timeout(*budget));
    if(auto const id = http::request_id(ctx); !id.empty())
        call.AddMetadata(options.request_id_key, std::string(id));
    if(auto const tp = http::traceparent(ctx))
    {
        call.AddMetadata("traceparent", tp->next_hop().to_string());
        if(auto const state = http::tracestate(ctx); !state.empty())
            call.AddMetadata("tracestate", std::string(state));
    }
    if(auto const bag = http::baggage(ctx); !bag.empty())
        call.AddMetadata("baggage", std::string(bag));
}

error_code refusal(context const& ctx, std::optional<nanoseconds> budget) noexcept
{
    static constexpr auto loc = BOOST_CURRENT_LOCATION;
    if(auto ec = ctx.err())
        return ec;
    if(budget && *budget <= nanoseconds::zero())
        return asioctx::make_error_code(asioctx::error::deadline_exceeded, &loc);
    return {};
}

error_code error_of(::grpc::Status const& status, context const& ctx, bool aborted) noexcept
{
    static constexpr auto loc = BOOST_CURRENT_LOCATION;
    switch(status.error_code())
    {
    case ::grpc::StatusCode::OK:
        return {};
    case ::grpc::StatusCode::DEADLINE_EXCEEDED:
        if(auto const ec = ctx.err(); ec == condition::deadline_exceeded)
            return ec;
        return asioctx::make_error_code(asioctx::error::deadline_exceeded, &loc);
    case ::grpc::StatusCode::CANCELLED:
        if(auto const ec = ctx.err())
            return ec;
        if(aborted)
            return error_code(boost::asio::error::operation_aborted, &loc);
        break;
    default:
        break;
    }
    auto const code = static_cast<int>(status.error_code());
    if(code < 1 || code > 16)
        return make_error_code(error::unknown, &loc);
    return make_error_code(static_cast<error>(code), &loc);
}

void cancel_unless_deadline(::grpc::ClientContext& call, context const& ctx) noexcept
{
    if(ctx.err() != condition::deadline_exceeded)
        call.TryCancel();
}

} // namespace detail

} // namespace asioctx::grpc
