//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//
// The fetch client: every step bound to the fetch's context, connections pooled per
// origin. One exchange (write the request, read the response) is one composed operation,
// async_exchange. A fetch on a pooled connection runs it with a callback; everything else
// (opening a connection, redirects, the retry) runs it from one coroutine per fetch.

#include <asioctx/asio/async_wait.hpp>
#include <asioctx/asio/bind.hpp>
#include <asioctx/asio/bound_stream.hpp>
#include <asioctx/core/cancel.hpp>
#include <asioctx/asio/executor.hpp>
#include <asioctx/http/budget.hpp>
#include <asioctx/http/client.hpp>
#include <asioctx/http/error.hpp>
#include <asioctx/http/field_value.hpp>
#include <asioctx/http/request_id.hpp>
#include <asioctx/http/traceparent.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/recycling_allocator.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/system/system_error.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include <openssl/ssl.h>

#include <sys/socket.h>

#include <cerrno>
#include <mutex>
#include <optional>
#include <tuple>
#include <unordered_map>
#include <variant>
#include <vector>

namespace asioctx::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

error_code fail(error e) noexcept
{
    static constexpr auto loc = BOOST_CURRENT_LOCATION;
    return make_error_code(e, &loc);
}

// Where a URL points.
struct origin_and_target
{
    bool https = false;
    std::string host;           // for the resolver: no brackets, no port
    std::string port;           // the service, "80" or "443" unless given
    std::string host_header;    // as written in the URL, with the port if it had one
    std::string target;         // origin form: path and query
    std::string origin;         // the pool's key: scheme, host, port
};

} // namespace

struct origin::parts
{
    bool https = false;
    std::string host, port, host_header, origin;
};

namespace detail {
struct origin_access
{
    static origin make(std::shared_ptr<origin::parts const> p) noexcept
    {
        return origin(std::move(p));
    }
    static origin::parts const& get(origin const& o) noexcept
    {
        return *o.parts_;
    }
};
} // namespace detail

namespace {

// `where` for a target on an origin parsed before: the target must be origin-form.
boost::system::result<origin_and_target> at_origin(origin const& at, std::string_view target)
{
    auto const& p = detail::origin_access::get(at);
    if(target.empty() || target.front() != '/' || !boost::urls::parse_origin_form(target) ||
        !is_safe_field_value(target))
        return fail(error::bad_url);
    origin_and_target out;
    out.https = p.https;
    out.host = p.host;
    out.port = p.port;
    out.host_header = p.host_header;
    out.origin = p.origin;
    out.target = std::string(target);
    return out;
}

boost::system::result<origin_and_target> parse_url(std::string_view text)
{
    auto parsed = boost::urls::parse_uri(text);
    if(!parsed)
        return fail(error::bad_url);
    boost::urls::url_view const u = *parsed;
    origin_and_target out;
    if(u.scheme_id() == boost::urls::scheme::https)
        out.https = true;
    else if(u.scheme_id() != boost::urls::scheme::http)
        return fail(error::bad_url);
    // Credentials in a URL would end up in logs and on the wire: refused.
    if(!u.has_authority() || u.has_userinfo() || u.encoded_host().empty())
        return fail(error::bad_url);
    if(u.host_type() == boost::urls::host_type::ipv6)
        out.host = u.host_ipv6_address().to_string();
    else if(u.host_type() == boost::urls::host_type::ipv4 || u.host_type() == boost::urls::host_type::name)
        out.host = u.host_address();
    else
        return fail(error::bad_url);
    if(u.has_port())
    {
        if(u.port_number() == 0)
            return fail(error::bad_url);
        out.port = std::to_string(u.port_number());
    }
    else
        out.port = out.https ? "443" : "80";
    out.host_header = std::string(u.encoded_host_and_port());
    out.target = u.encoded_path().empty() ? std::string("/") : std::string(u.encoded_path());
    if(u.has_query())
        out.target += "?" + std::string(u.encoded_query());
    bool const v6 = u.host_type() == boost::urls::host_type::ipv6;
    out.origin = (out.https ? "https://" : "http://") + (v6 ? "[" + out.host + "]" : out.host) + ":" + out.port;
    if(!is_safe_field_value(out.host_header) || !is_safe_field_value(out.target))
        return fail(error::bad_url);
    return out;
}

bool is_idempotent(bhttp::verb v) noexcept
{
    switch(v)
    {
    case bhttp::verb::get:
    case bhttp::verb::head:
    case bhttp::verb::options:
    case bhttp::verb::trace:
    case bhttp::verb::put:
    case bhttp::verb::delete_:
        return true;
    default:
        return false;
    }
}

bool is_redirect(bhttp::status s) noexcept
{
    switch(s)
    {
    case bhttp::status::moved_permanently:
    case bhttp::status::found:
    case bhttp::status::see_other:
    case bhttp::status::temporary_redirect:
    case bhttp::status::permanent_redirect:
        return true;
    default:
        return false;
    }
}

// One connection to one origin, plain or TLS.
struct connection
{
    std::optional<tcp::socket> plain;
    std::optional<ssl::stream<tcp::socket>> secure;
    beast::flat_buffer buffer;
    std::string origin;
    std::chrono::steady_clock::time_point idle_since;

    tcp::socket& socket() noexcept
    {
        return secure ? secure->next_layer() : *plain;
    }

    // Nothing arrived while the connection idled: no byte (an unsolicited response, which
    // would be taken for the answer to the next request), no end-of-stream, no error.
    // A TLS connection that received anything at all (a late session ticket, say) is not
    // taken either: telling that apart would mean reading it.
    // One non-blocking peek (a system call, no mode change): Asio's own synchronous
    // receive would wait for readiness on a socket the user has not made non-blocking.
    bool quiet() noexcept
    {
        if(buffer.size() != 0)
            return false;
        char byte;
        auto const n = ::recv(socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
        return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
};

// Bytes a connection's read buffer may hold: a whole header, and room for the reads
// that follow it. Chunk extensions and trailers must fit in it too, so a server that
// sends them without end fails the fetch (`malformed_response`) instead of growing it.
std::size_t read_buffer_limit(client_options const& options) noexcept
{
    return std::size_t(options.header_limit) + 64 * 1024;
}

// Interim responses skipped before the final one, at most (as Go's client).
constexpr int max_interim_responses = 5;

// A 1xx other than 101: informational, followed by the real answer (RFC 9110 15.2).
template<class Parser>
bool is_interim(Parser const& parser) noexcept
{
    auto const status = parser.get().result_int();
    return status >= 100 && status < 200 && status != 101;
}

// A lookup that may outlive the fetch that started it (getaddrinfo cannot be stopped):
// the fetch waits for `finished` or its own context, whichever ends first; the lookup's
// handler holds this state, so whatever finishes last frees it.
struct lookup
{
    explicit lookup(asio::any_io_executor const& ex)
        : finished(with_cancel(asioctx::with_executor(background(), ex)))
    {
    }

    cancellable finished;
    std::optional<tcp::resolver> resolver;
    std::mutex mutex;
    error_code ec;
    tcp::resolver::results_type results;

    void complete(error_code e, tcp::resolver::results_type r)
    {
        {
            std::lock_guard<std::mutex> g(mutex);
            ec = e;
            results = std::move(r);
        }
        finished.cancel();
    }
};

error_code context_error_or(context const& ctx, error fallback) noexcept
{
    return ctx.done() ? ctx.err() : fail(fallback);
}

} // namespace

struct client::state
{
    state(asio::any_io_executor executor, client_options opts)
        : ex(std::move(executor))
        , options(std::move(opts))
    {
    }

    // The client's own TLS context is made at the first https connection: loading
    // OpenSSL's default verify paths reads the whole system bundle (about 0.3 s of CPU),
    // which a client that only speaks http never needs.
    ssl::context& tls()
    {
        if(options.tls)
            return *options.tls;
        std::call_once(own_tls_made, [this] {
            own_tls.emplace(ssl::context::tls_client);
            own_tls->set_default_verify_paths();
            own_tls->set_verify_mode(ssl::verify_peer);
        });
        return *own_tls;
    }

    // An idle connection to `origin` that has not idled too long and on which nothing
    // arrived while it idled, or null. Any other is closed.
    std::unique_ptr<connection> take(std::string const& origin)
    {
        for(;;)
        {
            std::unique_ptr<connection> c;
            std::vector<std::unique_ptr<connection>> expired; // closed outside the lock
            {
                std::lock_guard<std::mutex> g(mutex);
                auto it = idle.find(origin);
                if(it == idle.end())
                    return nullptr;
                auto const now = std::chrono::steady_clock::now();
                auto& list = it->second;
                while(!list.empty() && !c)
                {
                    auto candidate = std::move(list.back());
                    list.pop_back();
                    if(now - candidate->idle_since < options.idle_timeout)
                        c = std::move(candidate);
                    else
                        expired.push_back(std::move(candidate));
                }
                // An emptied list stays, with its capacity: put() then allocates nothing.
            }
            // Checked outside the lock (a system call); only this fetch has `c` now.
            if(!c || c->quiet())
                return c;
        }
    }

    void put(std::unique_ptr<connection> c)
    {
        std::unique_ptr<connection> evicted; // closed outside the lock
        std::lock_guard<std::mutex> g(mutex);
        if(closed || options.max_idle_per_host == 0)
            return;
        c->idle_since = std::chrono::steady_clock::now();
        auto it = idle.find(c->origin);
        if(it == idle.end())
            it = idle.emplace(c->origin, std::vector<std::unique_ptr<connection>>()).first;
        auto& list = it->second;
        if(list.size() >= options.max_idle_per_host)
        {
            evicted = std::move(list.front());
            list.erase(list.begin());
        }
        list.push_back(std::move(c));
    }

    asio::any_io_executor ex;
    client_options options;
    std::once_flag own_tls_made;
    std::optional<ssl::context> own_tls;
    mutable std::mutex mutex;
    std::unordered_map<std::string, std::vector<std::unique_ptr<connection>>> idle;
    bool closed = false;
};

namespace {

using fetch_outcome = std::pair<error_code, fetch_response>;

// Resolves `where`, on time even if the lookup is not.
asio::awaitable<std::pair<error_code, tcp::resolver::results_type>> resolve(
    std::shared_ptr<client::state> st, context const& ctx, origin_and_target const& where)
{
    auto l = std::make_shared<lookup>(st->ex);
    auto done = [l](error_code ec, tcp::resolver::results_type r) { l->complete(ec, std::move(r)); };
    if(st->options.resolve)
        st->options.resolve(where.host, where.port, done);
    else
    {
        l->resolver.emplace(st->ex);
        l->resolver->async_resolve(where.host, where.port, done);
    }
    // Ends with the lookup, or early with the fetch's context: then the lookup's result,
    // whenever it comes, is dropped with `l`.
    co_await asioctx::async_wait(l->finished.ctx, asioctx::bind(ctx, asio::as_tuple(asio::use_awaitable)));
    if(ctx.done())
        co_return std::pair{ctx.err(), tcp::resolver::results_type()};
    std::lock_guard<std::mutex> g(l->mutex);
    if(l->ec || l->results.empty())
        co_return std::pair{fail(error::resolve_failed), tcp::resolver::results_type()};
    co_return std::pair{error_code(), l->results};
}

// A new connection to `where`: resolved, connected and, for https, handshaken.
asio::awaitable<std::pair<error_code, std::unique_ptr<connection>>> open(
    std::shared_ptr<client::state> st, context const& ctx, origin_and_target const& where)
{
    auto [rec, endpoints] = co_await resolve(st, ctx, where);
    if(rec)
        co_return std::pair{rec, nullptr};
    auto c = std::make_unique<connection>();
    c->origin = where.origin;
    c->buffer.max_size(read_buffer_limit(st->options));
    if(where.https)
        c->secure.emplace(st->ex, st->tls());
    else
        c->plain.emplace(st->ex);
    auto [cec, ep] =
        co_await asio::async_connect(c->socket(), endpoints, asioctx::bind(ctx, asio::as_tuple(asio::use_awaitable)));
    if(cec)
        co_return std::pair{ctx.done() ? ctx.err()
                : cec == asio::error::connection_refused ? fail(error::connection_refused)
                                                         : fail(error::connect_failed),
            nullptr};
    if(where.https)
    {
        boost::system::error_code not_an_address;
        boost::asio::ip::make_address(where.host, not_an_address);
        // SNI for names, never for address literals (RFC 6066).
        if(not_an_address && !SSL_set_tlsext_host_name(c->secure->native_handle(), where.host.c_str()))
            co_return std::pair{fail(error::tls_failed), nullptr};
        c->secure->set_verify_mode(ssl::verify_peer);
        c->secure->set_verify_callback(ssl::host_name_verification(where.host));
        auto [hec] = co_await c->secure->async_handshake(
            ssl::stream_base::client, asioctx::bind(ctx, asio::as_tuple(asio::use_awaitable)));
        if(hec)
            co_return std::pair{context_error_or(ctx, error::tls_failed), nullptr};
    }
    co_return std::pair{error_code(), std::move(c)};
}

// What the read of a response ended with, as the fetch reports it.
error_code read_failure(context const& ctx, error_code const& ec, bool got_some) noexcept
{
    if(ctx.done())
        return ctx.err();
    if(ec.category() == error_category())
        return ec;
    if(ec == bhttp::error::body_limit)
        return fail(error::response_too_large);
    bool const closed = ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message ||
        ec == asio::error::eof || ec == asio::error::connection_reset || ec == asio::ssl::error::stream_truncated;
    if(closed)
        return fail(got_some ? error::closed_mid_body : error::closed_before_response);
    if(ec.category() == bhttp::make_error_code(bhttp::error::bad_version).category())
        return fail(error::malformed_response);
    return fail(error::connection_lost);
}

// Sets the budget header to what remains of the context's time now, as the request
// leaves. False if nothing remains.
bool stamp_budget(context const& ctx, bhttp::request<bhttp::string_body>& msg, client_options const& options)
{
    auto const& policy = options.propagation;
    auto const budget = outbound_budget(ctx, policy);
    if(!budget)
        return true;
    if(*budget <= std::chrono::nanoseconds::zero())
        return false;
    if(!policy.outbound_budget.name.empty())
        msg.set(policy.outbound_budget.name, format_budget(*budget, policy.outbound_budget.format));
    return true;
}

void limit(bhttp::response_parser<bhttp::string_body>& parser, client_options const& options, bhttp::verb method)
{
    parser.body_limit(options.body_limit);
    parser.header_limit(options.header_limit);
    if(method == bhttp::verb::head)
        parser.skip(true);
}

// A kept-alive connection the server closed while it idled: once more, on a new one.
bool worth_retrying(context const& ctx, bhttp::request<bhttp::string_body> const& msg, error_code const& failure) noexcept
{
    return failure == error::closed_before_response && is_idempotent(msg.method()) && !ctx.done();
}

// Never after a cancellation or a deadline, nor with bytes left unread.
bool reusable(context const& ctx, bhttp::request<bhttp::string_body> const& msg, fetch_response const& res,
    connection const& c) noexcept
{
    return !ctx.done() && res.keep_alive() && msg.keep_alive() && !res.need_eof() && c.buffer.size() == 0;
}

// One exchange on a connection: writes the request, reads its final response (1xx
// responses skipped). Every read and write is bound to the fetch's context at the
// stream: once it is done the exchange ends within one read or write, whatever the
// server sends. Its owner (a coroutine frame, a pooled fetch) keeps it in place until
// async_exchange completes: Beast's operations hold references into it.
struct exchange
{
    using plain_stream = bound_stream<tcp::socket>;
    using secure_stream = bound_stream<ssl::stream<tcp::socket>>;

    exchange(context const& ctx, connection& conn, bhttp::request<bhttp::string_body>& request,
        client_options const& opts)
        : c(conn)
        , msg(request)
        , options(opts)
        , stream(conn.secure ? std::variant<plain_stream, secure_stream>(secure_stream(ctx, *conn.secure))
                             : std::variant<plain_stream, secure_stream>(plain_stream(ctx, *conn.plain)))
    {
    }

    connection& c;
    bhttp::request<bhttp::string_body>& msg;
    client_options const& options;
    std::variant<plain_stream, secure_stream> stream;
    std::optional<bhttp::response_parser<bhttp::string_body>> parser;
    fetch_response res;        // the final response, once read
    error_code write_error;
    error_code read_error;
    bool got_some = false;     // response bytes arrived
    int interim = 0;           // 1xx responses skipped so far
};

struct exchange_op
{
    exchange& x;
    enum class step : std::uint8_t
    {
        write,
        written,
        read,
    } next = step::write;

    template<class Self>
    void operator()(Self& self, error_code ec = {}, std::size_t = 0)
    {
        switch(next)
        {
        case step::write:
            next = step::written;
            std::visit([&](auto& s) { bhttp::async_write(s, x.msg, std::move(self)); }, x.stream);
            return;
        case step::written:
            if(ec)
            {
                x.write_error = ec;
                return self.complete();
            }
            return read(self);
        case step::read:
            x.got_some = x.got_some || x.parser->got_some();
            if(ec)
            {
                x.read_error = ec;
                return self.complete();
            }
            if(!is_interim(*x.parser))
            {
                x.res = x.parser->release();
                return self.complete();
            }
            if(x.interim++ == max_interim_responses)
            {
                x.read_error = fail(error::too_many_interim_responses);
                return self.complete();
            }
            return read(self);
        }
    }

    template<class Self>
    void read(Self& self)
    {
        next = step::read;
        x.parser.emplace();
        limit(*x.parser, x.options, x.msg.method());
        std::visit([&](auto& s) { bhttp::async_read(s, x.c.buffer, *x.parser, std::move(self)); }, x.stream);
    }
};

// Runs `x`. Signature: void(); the outcome is in `x`. Never completes inside this call.
template<class Token>
auto async_exchange(exchange& x, Token&& token)
{
    return asio::async_compose<Token, void()>(exchange_op{x}, token, x.c.socket());
}

// What the fetch makes of an exchange on `c` that has completed. Returns true when it
// should be tried once more, on a new connection: a kept-alive connection (`reused`)
// that the server closed while it idled. Otherwise `out` is the fetch's outcome, and `c`
// goes back to the pool if it can serve another request.
bool conclude(client::state& st, context const& ctx, exchange& x, std::unique_ptr<connection>& c, bool reused,
    fetch_outcome& out)
{
    if(x.write_error)
    {
        out = fetch_outcome{context_error_or(ctx, error::connection_lost), {}};
        return false;
    }
    if(x.read_error)
    {
        auto const failure = read_failure(ctx, x.read_error, x.got_some);
        if(reused && worth_retrying(ctx, x.msg, failure))
            return true;
        // `c` closes with its owner: after a failure, a cancellation or a deadline it is
        // never reused.
        out = fetch_outcome{failure, {}};
        return false;
    }
    if(reusable(ctx, x.msg, x.res, *c))
        st.put(std::move(c));
    out = fetch_outcome{error_code(), std::move(x.res)};
    return false;
}

// One exchange with `where` on a pooled connection or a new one.
asio::awaitable<fetch_outcome> exchange_with(std::shared_ptr<client::state> const& st, context const& ctx,
    origin_and_target const& where, bhttp::request<bhttp::string_body>& msg, bool pooled = true)
{
    auto const& options = st->options;
    for(int attempt = 0;; ++attempt)
    {
        auto c = attempt == 0 && pooled ? st->take(where.origin) : nullptr;
        bool const reused = c != nullptr;
        if(!c)
        {
            auto [ec, fresh] = co_await open(st, ctx, where);
            if(ec)
                co_return fetch_outcome{ec, {}};
            c = std::move(fresh);
        }
        if(!stamp_budget(ctx, msg, options))
            co_return fetch_outcome{make_error_code(asioctx::error::deadline_exceeded), {}};
        // The exchange lives in this frame: a response returned by value through
        // co_await was corrupted by g++ 12 (Beast's field tree, the body's string).
        exchange x(ctx, *c, msg, options);
        co_await async_exchange(x, asio::use_awaitable);
        fetch_outcome out;
        if(conclude(*st, ctx, x, c, reused, out))
            continue;
        co_return out;
    }
}

// The request as it leaves: the library's fields, what the context propagates, then the
// caller's fields (checked: Beast does not check what it writes, and a CR or LF would
// split the request). Takes the body.
error_code build_request(context const& ctx, fetch_request& req, origin_and_target const& where,
    bhttp::request<bhttp::string_body>& msg)
{
    msg.method(req.method);
    msg.target(where.target);
    msg.version(11);
    msg.set(bhttp::field::host, where.host_header);
    if(auto id = request_id(ctx); !id.empty() && is_safe_field_value(id, 256))
        msg.set("X-Request-ID", id);
    if(auto tp = traceparent(ctx))
    {
        msg.set("traceparent", tp->next_hop().to_string());
        if(auto state = tracestate(ctx); !state.empty())
            msg.set("tracestate", state);
    }
    if(auto bag = baggage(ctx); !bag.empty())
        msg.set("baggage", bag);
    for(auto const& f : req.fields)
    {
        if(!is_safe_field_value(f.value()) || !is_safe_field_value(f.name_string(), 256))
            return fail(error::unsafe_field);
        if(f.name() == bhttp::field::host)
            msg.set(bhttp::field::host, f.value());
        else
            msg.insert(f.name_string(), f.value());
    }
    msg.body() = std::move(req.body);
    msg.prepare_payload();
    return {};
}

// A request ready to leave: where it goes, and the message as it will be written.
struct prepared_fetch
{
    origin_and_target where;
    bhttp::request<bhttp::string_body> msg;
};

// Fills `out` in place: each fetch moves it once, into its operation or its coroutine.
error_code prepare(context const& ctx, fetch_request& req, prepared_fetch& out)
{
    auto where = req.at ? at_origin(*req.at, req.target) : parse_url(req.url);
    if(!where)
        return where.error();
    if(ctx.done())
        return ctx.err();
    out.where = std::move(*where);
    return build_request(ctx, req, out.where, out.msg);
}

// A fetch that opens a connection or follows redirects.
asio::awaitable<fetch_outcome> run_fetch(std::shared_ptr<client::state> st, context ctx, prepared_fetch p)
{
    auto const& options = st->options;
    auto& where = p.where;
    auto& msg = p.msg;
    for(int redirects = 0;; ++redirects)
    {
        auto outcome = co_await exchange_with(st, ctx, where, msg);
        if(outcome.first || options.max_redirects <= 0 || !is_redirect(outcome.second.result()))
            co_return outcome;
        auto const location = outcome.second[bhttp::field::location];
        auto ref = boost::urls::parse_uri_reference(location);
        if(location.empty() || !ref)
            co_return outcome; // nowhere to go: the redirect is the answer
        if(redirects >= options.max_redirects)
            co_return fetch_outcome{fail(error::too_many_redirects), {}};
        boost::urls::url next(where.origin + where.target);
        if(!next.resolve(*ref))
            co_return fetch_outcome{fail(error::bad_url), {}};
        next.remove_fragment();
        auto next_where = parse_url(next.buffer());
        if(!next_where)
            co_return fetch_outcome{next_where.error(), {}};
        // Credentials stay with the origin they were meant for (scheme, host and port):
        // every field that carries one is dropped on a hop to another.
        if(next_where->origin != where.origin)
        {
            msg.erase(bhttp::field::authorization);
            msg.erase(bhttp::field::proxy_authorization);
            msg.erase(bhttp::field::cookie);
            msg.erase("Cookie2");
        }
        auto const status = outcome.second.result();
        if(status == bhttp::status::see_other ||
            ((status == bhttp::status::moved_permanently || status == bhttp::status::found) &&
                msg.method() == bhttp::verb::post))
        {
            msg.method(bhttp::verb::get);
            msg.body().clear();
            msg.erase(bhttp::field::content_type);
            msg.prepare_payload();
        }
        msg.target(next_where->target);
        msg.set(bhttp::field::host, next_where->host_header);
        where = std::move(*next_where);
    }
}

using completion_handler = asio::any_completion_handler<void(error_code, fetch_response)>;

// Hands the outcome to the user's handler, on the handler's executor.
void deliver(completion_handler handler, asio::any_io_executor const& ex, std::exception_ptr e, fetch_outcome outcome)
{
    if(e)
    {
        try
        {
            std::rethrow_exception(e);
        }
        catch(boost::system::system_error const& se)
        {
            outcome.first = se.code();
        }
        catch(std::bad_alloc const&)
        {
            outcome.first = asio::error::no_memory;
        }
    }
    auto handler_ex = asio::get_associated_executor(handler, ex);
    asio::dispatch(handler_ex, [h = std::move(handler), ec = outcome.first, res = std::move(outcome.second)]() mutable {
        std::move(h)(ec, std::move(res));
    });
}

// What a fetch in progress keeps until it completes.
struct fetch_operation
{
    // Constructed with the handler: Asio 1.81's move assignment of an
    // any_completion_handler wraps the source instead of taking it.
    explicit fetch_operation(completion_handler&& h) noexcept
        : handler(std::move(h))
    {
    }

    // The context the fetch runs under: `ctx`, or, when the handler has a cancellation
    // slot, a child of it that a cancellation of any type cancels.
    context bind_slot(context const& ctx)
    {
        auto slot = asio::get_associated_cancellation_slot(handler);
        if(!slot.is_connected())
            return ctx;
        auto [child, c] = with_cancel(ctx);
        cancel = std::move(c);
        slot.assign([c = &cancel](asio::cancellation_type) { (*c)(); });
        return std::move(child);
    }

    completion_handler handler;
    cancel_handle cancel; // of the fetch's own context, when bind_slot made one
};

// Completes a fetch: its own context, and its connection unless pooled again, end before
// the handler runs.
template<class Operation>
void complete(std::unique_ptr<Operation> op, asio::any_io_executor const& ex, std::exception_ptr e, fetch_outcome outcome)
{
    auto handler = std::move(op->handler);
    asio::get_associated_cancellation_slot(handler).clear();
    op.reset();
    deliver(std::move(handler), ex, e, std::move(outcome));
}

// The common case of a service calling its upstreams, without a coroutine: an exchange
// on a pooled keep-alive connection (redirects off), completed by one callback. Anything
// else (no idle connection, redirects, the retry after a pooled connection turned out
// closed) runs the coroutine above.
struct pooled_exchange : fetch_operation
{
    using fetch_operation::fetch_operation;

    std::shared_ptr<client::state> st;
    context ctx;
    origin_and_target where;
    bhttp::request<bhttp::string_body> msg;
    std::unique_ptr<connection> c;
    std::optional<exchange> x;
};
using pooled_ptr = std::unique_ptr<pooled_exchange>;

void finish(pooled_ptr op, std::exception_ptr e, fetch_outcome outcome)
{
    auto const ex = op->st->ex;
    complete(std::move(op), ex, e, std::move(outcome));
}

void on_exchanged(pooled_ptr op)
{
    auto& o = *op;
    fetch_outcome out;
    if(!conclude(*o.st, o.ctx, *o.x, o.c, true, out))
    {
        finish(std::move(op), nullptr, std::move(out));
        return;
    }
    o.x.reset();
    o.c.reset();
    asio::co_spawn(o.st->ex, exchange_with(o.st, o.ctx, o.where, o.msg, false),
        [op = std::move(op)](std::exception_ptr e, fetch_outcome outcome) mutable {
            finish(std::move(op), e, std::move(outcome));
        });
}

// The exchange's completion owns the fetch. Beast's operation state goes through Asio's
// recycling allocator, as it would from a coroutine.
struct pooled_exchanged
{
    pooled_ptr op;

    using allocator_type = asio::recycling_allocator<void>;
    allocator_type get_allocator() const noexcept
    {
        return {};
    }

    void operator()()
    {
        on_exchanged(std::move(op));
    }
};

void start_pooled(pooled_ptr op)
{
    auto& o = *op;
    if(!stamp_budget(o.ctx, o.msg, o.st->options))
    {
        // No time left to send it: the connection is untouched, and the handler must
        // not run inside the initiating call.
        o.st->put(std::move(o.c));
        auto ex = o.st->ex;
        asio::post(ex, [op = std::move(op)]() mutable {
            finish(std::move(op), nullptr, fetch_outcome{make_error_code(asioctx::error::deadline_exceeded), {}});
        });
        return;
    }
    auto& x = o.x.emplace(o.ctx, *o.c, o.msg, o.st->options);
    async_exchange(x, pooled_exchanged{std::move(op)});
}

} // namespace

boost::system::result<origin> origin::parse(std::string_view text)
{
    auto where = parse_url(text);
    if(!where)
        return where.error();
    if(where->target != "/" || text.find('?') != std::string_view::npos || text.find('#') != std::string_view::npos)
        return fail(error::bad_url); // an origin, not a resource
    auto p = std::make_shared<parts>();
    p->https = where->https;
    p->host = std::move(where->host);
    p->port = std::move(where->port);
    p->host_header = std::move(where->host_header);
    p->origin = std::move(where->origin);
    return detail::origin_access::make(std::move(p));
}

std::string const& origin::text() const noexcept
{
    return parts_->origin;
}

client::client(asio::any_io_executor ex, client_options options)
    : state_(std::make_shared<state>(std::move(ex), std::move(options)))
{
}

client::~client()
{
    close_idle_connections();
    std::lock_guard<std::mutex> g(state_->mutex);
    state_->closed = true;
}

std::size_t client::idle_connections() const
{
    std::lock_guard<std::mutex> g(state_->mutex);
    std::size_t n = 0;
    for(auto const& [origin, list] : state_->idle)
        n += list.size();
    return n;
}

void client::close_idle_connections()
{
    decltype(state_->idle) closing;
    {
        std::lock_guard<std::mutex> g(state_->mutex);
        closing.swap(state_->idle);
    }
}

void client::start(std::shared_ptr<state> const& st, context ctx, fetch_request req, completion_handler handler)
{
    prepared_fetch prepared;
    if(auto ec = prepare(ctx, req, prepared))
    {
        // Reported from the executor, never inside the initiating call.
        asio::post(st->ex, [h = std::move(handler), ex = st->ex, ec]() mutable {
            deliver(std::move(h), ex, nullptr, fetch_outcome{ec, {}});
        });
        return;
    }
    if(auto c = st->options.max_redirects > 0 ? nullptr : st->take(prepared.where.origin))
    {
        auto op = std::make_unique<pooled_exchange>(std::move(handler));
        op->ctx = op->bind_slot(ctx);
        op->st = st;
        op->where = std::move(prepared.where);
        op->msg = std::move(prepared.msg);
        op->c = std::move(c);
        start_pooled(std::move(op));
        return;
    }
    auto op = std::make_unique<fetch_operation>(std::move(handler));
    auto fetch_ctx = op->bind_slot(ctx);
    asio::co_spawn(st->ex, run_fetch(st, std::move(fetch_ctx), std::move(prepared)),
        [op = std::move(op), ex = st->ex](std::exception_ptr e, fetch_outcome outcome) mutable {
            complete(std::move(op), ex, e, std::move(outcome));
        });
}

} // namespace asioctx::http
