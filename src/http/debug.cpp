//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#include <asioctx/http/debug.hpp>
#include <asioctx/http/detail/answer.hpp>

#include <boost/asio/ip/address.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/url/parse.hpp>

#include <cctype>

namespace asioctx::http {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
namespace json = boost::json;

namespace {

double seconds(std::chrono::steady_clock::duration d)
{
    return std::chrono::duration<double>(d).count();
}

json::object site_json(source_location const& site)
{
    return json::object{{"file", site.file_name()}, {"line", site.line()}, {"function", site.function_name()}};
}

struct query
{
    bool json = false;
    bool every_context = false;
};

query read_query(std::string_view target)
{
    query q;
    auto parsed = boost::urls::parse_origin_form(target);
    if(!parsed)
        return q;
    for(auto const& param : parsed->params())
    {
        if(param.key == "format" && param.value == "json")
            q.json = true;
        else if(param.key == "debug" && param.value == "2")
            q.every_context = true;
    }
    return q;
}

std::string context_line(live_context const& c, std::chrono::steady_clock::time_point now)
{
    std::string line = "id " + std::to_string(c.id) + " parent " + std::to_string(c.parent_id) + " " +
        to_string(c.kind) + " age " + std::to_string(seconds(now - c.derived_at)) + "s at " + c.site.file_name() +
        ":" + std::to_string(c.site.line());
    if(!c.detail.empty())
        line += " (" + c.detail + ")";
    return line + "\n";
}

std::string as_text(context_snapshot const& s, bool every_context)
{
    auto out = s.to_text();
    if(s.level == tracking::off)
        out += "tracking is off: the program turns it on with asioctx::set_tracking\n";
    if(every_context)
    {
        out += "\n";
        for(auto const& c : s.contexts)
            out += context_line(c, s.taken_at);
    }
    return out;
}

std::string as_json(context_snapshot const& s, bool every_context)
{
    json::array sites;
    for(auto const& g : s.by_site())
    {
        auto o = site_json(g.site);
        o["kind"] = to_string(g.kind);
        o["count"] = g.count;
        o["done"] = g.done;
        o["oldest_seconds"] = seconds(g.oldest);
        sites.push_back(std::move(o));
    }
    json::object root{{"tracking", to_string(s.level)}, {"compiled_in", diagnostics_compiled_in}, {"live", s.contexts.size()},
        {"sites", std::move(sites)}};
    if(every_context)
    {
        json::array all;
        for(auto const& c : s.contexts)
        {
            auto o = site_json(c.site);
            o["id"] = c.id;
            o["parent_id"] = c.parent_id;
            o["kind"] = to_string(c.kind);
            o["age_seconds"] = seconds(s.taken_at - c.derived_at);
            o["done"] = c.done;
            o["detail"] = c.detail;
            all.push_back(std::move(o));
        }
        root["contexts"] = std::move(all);
    }
    return json::serialize(root) + "\n";
}

} // namespace

bool is_loopback_peer(std::string_view peer) noexcept
{
    std::string_view host = peer;
    if(!host.empty() && host.front() == '[')
    {
        auto close = host.find(']');
        if(close == std::string_view::npos)
            return false;
        host = host.substr(1, close - 1);
    }
    else if(auto colon = host.rfind(':'); colon != std::string_view::npos && host.find(':') == colon)
        host = host.substr(0, colon); // "a.b.c.d:port"; a bare IPv6 address has several colons
    // Only address characters: the parser below stops at a NUL and would accept a prefix.
    for(char c : host)
        if(!(std::isxdigit(static_cast<unsigned char>(c)) || c == '.' || c == ':'))
            return false;
    boost::system::error_code ec;
    auto address = asio::ip::make_address(std::string(host), ec);
    if(ec)
        return false;
    if(address.is_v6() && address.to_v6().is_v4_mapped())
        return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).is_loopback();
    return address.is_loopback();
}

middleware debug_contexts(debug_contexts_options options)
{
    return [options](handler next) -> handler {
        return [options, next](context ctx, incoming& in) -> asio::awaitable<response> {
            auto const& h = in.header();
            std::string_view target = h.target();
            auto const path = target.substr(0, target.find('?'));
            if(path != options.path)
                return next(std::move(ctx), in);
            if(options.loopback_only && !is_loopback_peer(in.peer()))
                return detail::answer(make_response(h, bhttp::status::forbidden, "forbidden\n"));
            if(h.method() != bhttp::verb::get)
            {
                auto res = make_response(h, bhttp::status::method_not_allowed, "method not allowed\n");
                res.set(bhttp::field::allow, "GET");
                return detail::answer(std::move(res));
            }
            auto const q = read_query(target);
            auto const snapshot = snapshot_contexts();
            auto res = make_response(h, bhttp::status::ok,
                q.json ? as_json(snapshot, q.every_context) : as_text(snapshot, q.every_context));
            res.set(bhttp::field::content_type, q.json ? "application/json" : "text/plain; charset=utf-8");
            res.set(bhttp::field::cache_control, "no-store");
            return detail::answer(std::move(res));
        };
    };
}

} // namespace asioctx::http
