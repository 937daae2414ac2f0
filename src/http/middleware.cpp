//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#include <asioctx/asio/deadline.hpp>
#include <asioctx/http/budget.hpp>
#include <asioctx/http/propagation.hpp>
#include <asioctx/http/field_value.hpp>
#include <asioctx/http/detail/answer.hpp>
#include <asioctx/http/framing.hpp>
#include <asioctx/http/middleware.hpp>
#include <asioctx/http/traceparent.hpp>
#include <asioctx/core/value.hpp>

#include <boost/system/system_error.hpp>

#include <charconv>
#include <memory>
#include <mutex>
#include <ostream>

namespace asioctx::http {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

namespace {

constinit key<claims> const claims_key{"asioctx.http.claims"};

response unauthorized(request_header const& req, bool invalid_token)
{
    auto res = make_response(req, bhttp::status::unauthorized, "unauthorized\n");
    res.set(bhttp::field::www_authenticate, invalid_token ? "Bearer error=\"invalid_token\"" : "Bearer");
    return res;
}

// Runs `next` under a deadline `budget` from now; the cancel handle lives as long as the call.
asio::awaitable<response> within_budget(handler const& next, context ctx, std::chrono::nanoseconds budget, incoming& in)
{
    auto [bounded, cancel] = with_timeout(ctx, budget);
    co_return co_await next(bounded, in);
}

void append_number(std::string& out, long long n)
{
    char digits[24];
    auto const end = std::to_chars(digits, digits + sizeof(digits), n).ptr;
    out.append(digits, end);
}


} // namespace

middleware request_ids(request_id_options options, propagation_policy policy)
{
    return [options, policy](handler next) -> handler {
        return [options, policy, next](context ctx, incoming& in) -> asio::awaitable<response> {
            auto const& h = in.header();
            std::string id;
            if(auto it = h.find("X-Request-ID"); it != h.end() && is_valid_request_id(it->value(), options))
                id = std::string(it->value());
            else
                id = mint_request_id();
            ctx = with_request_id(ctx, id);
            if(auto it = h.find("traceparent"); it != h.end())
                if(auto tp = parse_traceparent(it->value()))
                    ctx = with_traceparent(ctx, *tp);
            ctx = with_inbound_trace_fields(ctx, h, policy);
            std::optional<response> res;
            try
            {
                res.emplace(co_await next(ctx, in));
            }
            catch(...)
            {
                // Answered here, so that the answer carries the id too: 500, or what a
                // request body that could not be read calls for (413, 400, 408).
                auto const status = status_for(std::current_exception());
                res.emplace(make_response(h, status,
                    status == bhttp::status::internal_server_error ? std::string("internal error\n")
                                                                   : std::string(bhttp::obsolete_reason(status)) + "\n"));
            }
            res->set("X-Request-ID", id); // valid or minted: always a safe value
            co_return std::move(*res);
        };
    };
}

context with_claims(context const& parent, claims c)
{
    return with_value(parent, claims_key, std::move(c));
}

claims const* request_claims(context const& ctx) noexcept
{
    return ctx.value(claims_key);
}

middleware bearer_auth(token_verifier verify)
{
    return [verify](handler next) -> handler {
        // Not a coroutine: the checks need only the header, so on success the next
        // handler's awaitable is returned as it is, without a frame of this layer's own.
        return [verify, next](context ctx, incoming& in) -> asio::awaitable<response> {
            auto const& h = in.header();
            auto it = h.find(bhttp::field::authorization);
            if(it == h.end())
                return detail::answer(unauthorized(h, false));
            auto token = bearer_token(it->value());
            if(!token)
                return detail::answer(unauthorized(h, true));
            auto verified = verify(*token);
            if(!verified)
                return detail::answer(unauthorized(h, true)); // the reason stays on the server
            return next(with_claims(ctx, std::move(*verified)), in);
        };
    };
}

middleware require_scope(std::string scope)
{
    if(!is_safe_field_value(scope, 256) || scope.find('"') != scope.npos || scope.find('\\') != scope.npos)
        throw std::invalid_argument("asioctx::http::require_scope: scope must be printable ASCII without quotes");
    return [scope](handler next) -> handler {
        return [scope, next](context ctx, incoming& in) -> asio::awaitable<response> {
            auto c = request_claims(ctx);
            if(!c)
                return detail::answer(unauthorized(in.header(), false));
            if(!c->has_scope(scope))
            {
                auto res = make_response(in.header(), bhttp::status::forbidden, "forbidden\n");
                res.set(bhttp::field::www_authenticate, "Bearer error=\"insufficient_scope\", scope=\"" + scope + "\"");
                return detail::answer(std::move(res));
            }
            return next(std::move(ctx), in);
        };
    };
}

middleware deadline_budget(propagation_policy policy)
{
    return [policy](handler next) -> handler {
        // Not a coroutine unless a budget applies: a request without one costs a lookup
        // per header.
        return [policy, next](context ctx, incoming& in) -> asio::awaitable<response> {
            if(auto budget = inbound_budget(in.header(), policy))
                return within_budget(next, std::move(ctx), *budget, in);
            return next(std::move(ctx), in);
        };
    };
}

middleware timeout(std::chrono::milliseconds limit, bhttp::status status)
{
    return [limit, status](handler next) -> handler {
        return [limit, status, next](context ctx, incoming& in) -> asio::awaitable<response> {
            auto [bounded, cancel] = with_timeout(ctx, limit);
            std::exception_ptr failure;
            try
            {
                co_return co_await next(bounded, in);
            }
            catch(...)
            {
                failure = std::current_exception();
            }
            // This deadline (not the caller's, not a disconnect) ended the handler.
            if(bounded.err() == asioctx::error::deadline_exceeded && !ctx.done())
                co_return make_response(in.header(), status, "timed out\n");
            std::rethrow_exception(failure);
        };
    };
}

middleware access_log(log_sink sink)
{
    return [sink](handler next) -> handler {
        return [sink, next](context ctx, incoming& in) -> asio::awaitable<response> {
            auto const start = std::chrono::steady_clock::now();
            auto const& h = in.header();
            auto write = [&](unsigned status) {
                auto const us = std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::steady_clock::now() - start).count();
                std::string line;
                line.reserve(96 + h.target().size());
                line += "id=";
                append_escaped_for_log(line, request_id(ctx));
                line += " method=";
                append_escaped_for_log(line, h.method_string(), 32);
                line += " target=\"";
                append_escaped_for_log(line, h.target());
                line += "\" status=";
                append_number(line, status);
                line += " duration_ms=";
                append_number(line, us / 1000);
                line += '.';
                auto const fraction = us % 1000;
                line += static_cast<char>('0' + fraction / 100);
                line += static_cast<char>('0' + fraction / 10 % 10);
                line += static_cast<char>('0' + fraction % 10);
                if(auto cause = asioctx::cause(ctx))
                {
                    line += " cause=\"";
                    append_escaped_for_log(line, cause.message());
                    line += '"';
                }
                sink(line);
            };
            std::exception_ptr failure;
            try
            {
                auto res = co_await next(ctx, in);
                write(res.result_int());
                co_return res;
            }
            catch(...)
            {
                failure = std::current_exception();
            }
            write(static_cast<unsigned>(status_for(failure)));
            std::rethrow_exception(failure);
        };
    };
}

log_sink stream_sink(std::ostream& out)
{
    auto mutex = std::make_shared<std::mutex>();
    return [&out, mutex](std::string_view line) {
        std::lock_guard<std::mutex> g(*mutex);
        out.write(line.data(), static_cast<std::streamsize>(line.size()));
        out.put('\n');
        out.flush();
    };
}

namespace detail {

asio::awaitable<response> answer(response res)
{
    co_return res;
}

} // namespace detail

} // namespace asioctx::http
