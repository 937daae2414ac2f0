//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#include <asioctx/core/stop_token.hpp>
#include <asioctx/core/cancel.hpp>
#include <asioctx/core/value.hpp>

#include <optional>

namespace asioctx {
namespace detail {

namespace {

// Cancels the bridged node on the thread that requests stop; the node outlives it (the
// link below owns the handle, and destroys the std::stop_callback first).
struct cancel_on_stop
{
    cancel_node* node;
    source_location site;
    void operator()() const noexcept
    {
        cancel(node, state_canceled, {}, true, how_stop, site);
    }
};

struct stop_link_init
{
    cancellable derived;
    std::stop_token token;
    source_location site;
};

// The value a bridged context carries: its cancel handle and the registration on the
// token. Members are destroyed in reverse: the std::stop_callback is unregistered (and a
// run in progress waited for) before the handle cancels and releases the node.
struct stop_link
{
    explicit stop_link(stop_link_init&& init)
        : cancel(std::move(init.derived.cancel))
    {
        auto n = static_cast<cancel_node*>(access::node_of(init.derived.ctx));
        callback.emplace(std::move(init.token), cancel_on_stop{n, init.site});
    }

    cancel_handle cancel;
    std::optional<std::stop_callback<cancel_on_stop>> callback;
};

inline constexpr key<stop_link> stop_link_key{"asioctx.stop_token"};

} // namespace

context derive_stop_token(context const& parent, std::stop_token token ASIOCTX_SITE_PARAM)
{
    auto derived = derive_cancel(parent ASIOCTX_SITE_ARG(site));
    context inner = derived.ctx;
    return with_value(inner, stop_link_key, stop_link_init{std::move(derived), std::move(token), site}, site);
}

} // namespace detail
} // namespace asioctx
