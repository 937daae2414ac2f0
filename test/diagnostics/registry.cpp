// Tests for <asioctx/diagnostics/registry.hpp>.
#include <asioctx/core/cancel.hpp>
#include <asioctx/asio/deadline.hpp>
#include <asioctx/diagnostics/registry.hpp>
#include <asioctx/asio/executor.hpp>
#include <asioctx/core/value.hpp>
#include <asioctx/core/without_cancel.hpp>

#include "../support.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <random>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace utf = boost::unit_test;

namespace {

using test::user_key;

// Sets a tracking level for one test and puts the previous one back.
struct tracking_scope
{
    explicit tracking_scope(asioctx::tracking level)
        : previous(asioctx::current_tracking())
    {
        asioctx::set_tracking(level);
    }
    ~tracking_scope()
    {
        asioctx::set_tracking(previous);
    }
    asioctx::tracking previous;
};

asioctx::live_context const* find(asioctx::context_snapshot const& s, std::uint64_t id)
{
    auto it = std::find_if(s.contexts.begin(), s.contexts.end(),
        [&](asioctx::live_context const& c) { return c.id == id; });
    return it == s.contexts.end() ? nullptr : &*it;
}

// The newest tracked context of the snapshot (the one just derived).
asioctx::live_context const& newest(asioctx::context_snapshot const& s)
{
    BOOST_REQUIRE(!s.contexts.empty());
    return s.contexts.back();
}

// A helper that derives for its caller, and says so with the caller's site.
asioctx::cancellable derive_for_caller(
    asioctx::context const& parent, asioctx::source_location const& site = asioctx::source_location::current())
{
    return asioctx::with_cancel(parent, site);
}

[[gnu::noinline]] asioctx::cancellable derived_in_a_named_function(asioctx::context const& parent)
{
    return asioctx::with_cancel(parent);
}

// Preconditions, not enable_if: ctest names the suite, which would run disabled cases.
auto const compiled_in = utf::precondition([](utf::test_unit_id) {
    return utf::assertion_result(asioctx::diagnostics_compiled_in);
});
auto const compiled_out = utf::precondition([](utf::test_unit_id) {
    return utf::assertion_result(!asioctx::diagnostics_compiled_in);
});

} // namespace

BOOST_AUTO_TEST_SUITE(diagnostics)

BOOST_AUTO_TEST_CASE(set_tracking_reports_the_level_in_effect, *compiled_in)
{
    tracking_scope scope(asioctx::tracking::off);
    BOOST_TEST((asioctx::set_tracking(asioctx::tracking::sites) == asioctx::tracking::sites));
    BOOST_TEST((asioctx::current_tracking() == asioctx::tracking::sites));
    auto const stacks = asioctx::set_tracking(asioctx::tracking::stacks);
    BOOST_TEST((stacks == (asioctx::stacks_available() ? asioctx::tracking::stacks : asioctx::tracking::sites)));
    BOOST_TEST((asioctx::set_tracking(asioctx::tracking::off) == asioctx::tracking::off));
}

BOOST_AUTO_TEST_CASE(a_tracked_context_has_its_site_kind_age_and_parent, *compiled_in)
{
    tracking_scope scope(asioctx::tracking::sites);
    auto const before = std::chrono::steady_clock::now();
    auto const parent_line = __LINE__ + 1u;
    auto [parent, cancel_parent] = asioctx::with_cancel(asioctx::background());
    auto const parent_id = newest(asioctx::snapshot_contexts()).id;
    auto const child_line = __LINE__ + 1u;
    auto child = asioctx::with_value(parent, user_key, "ada");

    auto s = asioctx::snapshot_contexts();
    BOOST_TEST((s.level == asioctx::tracking::sites));
    auto p = find(s, parent_id);
    BOOST_REQUIRE(p);
    BOOST_TEST((p->kind == asioctx::context_kind::cancel));
    BOOST_TEST(p->site.line() == parent_line);
    BOOST_TEST(std::string_view(p->site.file_name()).ends_with("diagnostics/registry.cpp"));
    BOOST_TEST(p->parent_id == 0u); // background is nobody's record
    BOOST_TEST((p->derived_at >= before));
    BOOST_TEST(!p->done);
    auto const& c = newest(s);
    BOOST_TEST((c.kind == asioctx::context_kind::value));
    BOOST_TEST(c.site.line() == child_line);
    BOOST_TEST(c.parent_id == parent_id);
    BOOST_TEST(c.detail == "\"user\"");

    cancel_parent(asio::error::connection_reset);
    s = asioctx::snapshot_contexts();
    BOOST_TEST(find(s, parent_id)->done);
    BOOST_TEST(newest(s).done); // the value node is done through its parent
    BOOST_TEST(find(s, parent_id)->detail.find("done: context canceled (cause: ") == 0u);

    auto const child_id = newest(s).id;
    child = asioctx::context();
    BOOST_TEST(!find(asioctx::snapshot_contexts(), child_id));
}

BOOST_AUTO_TEST_CASE(contexts_derived_while_off_are_never_tracked, *compiled_in)
{
    tracking_scope scope(asioctx::tracking::off);
    asioctx::leak_check check(asioctx::tracking::off);
    auto [ctx, cancel] = asioctx::with_cancel(asioctx::background());
    BOOST_TEST(check.leaked().empty());
    asioctx::set_tracking(asioctx::tracking::sites);
    BOOST_TEST(check.leaked().empty()); // switching on does not adopt it
    auto chain = asioctx::derivation_chain(ctx);
    BOOST_REQUIRE(chain.size() == 2u);
    BOOST_TEST(!chain[0].tracked);
    BOOST_TEST((chain[0].kind == asioctx::context_kind::cancel));
}

BOOST_AUTO_TEST_CASE(a_snapshot_groups_by_site_largest_first, *compiled_in)
{
    asioctx::leak_check check;
    std::vector<asioctx::cancellable> many;
    auto const many_line = __LINE__ + 2u;
    for(int i = 0; i < 5; ++i)
        many.push_back(asioctx::with_cancel(asioctx::background()));
    auto const one_line = __LINE__ + 1u;
    auto one = asioctx::without_cancel(asioctx::background());
    many[0].cancel();

    auto groups = asioctx::snapshot_contexts().by_site();
    auto mine = [&](asioctx::site_summary const& g) { return std::string_view(g.site.file_name()).ends_with("diagnostics/registry.cpp"); };
    auto first = std::find_if(groups.begin(), groups.end(), mine);
    BOOST_REQUIRE(first != groups.end());
    BOOST_TEST(first->count == 5u);
    BOOST_TEST(first->done == 1u);
    BOOST_TEST(first->site.line() == many_line);
    auto second = std::find_if(first + 1, groups.end(), mine);
    BOOST_REQUIRE(second != groups.end());
    BOOST_TEST(second->count == 1u);
    BOOST_TEST((second->kind == asioctx::context_kind::without_cancel));
    BOOST_TEST(second->site.line() == one_line);

    auto text = asioctx::snapshot_contexts().to_text();
    BOOST_TEST(text.find("asioctx contexts: ") == 0u);
    BOOST_TEST(text.find("5 @ cancel ") != std::string::npos);
    BOOST_TEST(text.find("registry.cpp:" + std::to_string(many_line)) != std::string::npos);
    BOOST_TEST(text.find("1 @ without_cancel ") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(leak_check_lists_what_is_still_alive_and_restores_the_level, *compiled_in)
{
    tracking_scope scope(asioctx::tracking::off);
    auto [outside, cancel_outside] = asioctx::with_cancel(asioctx::background());
    std::vector<asioctx::cancellable> kept;
    {
        asioctx::leak_check check;
        BOOST_TEST((asioctx::current_tracking() == asioctx::tracking::sites));
        for(int i = 0; i < 3; ++i)
            kept.push_back(asioctx::with_cancel(outside));
        {
            auto [scoped, cancel_scoped] = asioctx::with_cancel(outside); // gone at scope end
        }
        BOOST_TEST(check.leaked().size() == 3u);
        BOOST_TEST(check.report().find("leak check: 3 contexts derived since the check still alive\n3 @ cancel ") == 0u);
        kept.clear();
        BOOST_TEST(check.leaked().empty());
        BOOST_TEST(check.report() == "leak check: no context derived since the check is alive\n");
    }
    BOOST_TEST((asioctx::current_tracking() == asioctx::tracking::off));
}

BOOST_AUTO_TEST_CASE(a_helper_can_forward_its_callers_site, *compiled_in)
{
    tracking_scope scope(asioctx::tracking::sites);
    auto const line = __LINE__ + 1u;
    auto [ctx, cancel] = derive_for_caller(asioctx::background());
    BOOST_TEST(newest(asioctx::snapshot_contexts()).site.line() == line);
}

BOOST_AUTO_TEST_CASE(every_derivation_function_records_its_callers_site, *compiled_in)
{
    tracking_scope scope(asioctx::tracking::sites);
    asio::io_context ioc;
    auto ex = ioc.get_executor();
    auto root = asioctx::background();
    auto check = [](int line, asioctx::context_kind kind) {
        auto const snapshot = asioctx::snapshot_contexts();
        auto const& c = newest(snapshot);
        BOOST_TEST(c.site.line() == static_cast<unsigned>(line));
        BOOST_TEST(std::string_view(c.site.file_name()).ends_with("diagnostics/registry.cpp"));
        BOOST_TEST((c.kind == kind));
    };
    using k = asioctx::context_kind;
    auto a = asioctx::with_cancel_cause(root); check(__LINE__, k::cancel);
    auto b = asioctx::with_timeout(ex, root, 1h); check(__LINE__, k::deadline);
    auto c = asioctx::with_deadline(ex, root, std::chrono::steady_clock::now() + 1h); check(__LINE__, k::deadline);
    auto d = asioctx::with_deadline_at(ex, root, std::chrono::system_clock::now() + 1h); check(__LINE__, k::deadline);
    auto e = asioctx::with_timeout_cause(ex, root, 1h, asio::error::timed_out); check(__LINE__, k::deadline);
    auto f = asioctx::with_executor(root, ex); check(__LINE__, k::value);
    auto g = asioctx::with_timeout(f, 1h); check(__LINE__, k::deadline);
    auto h = asioctx::with_deadline_cause(f, std::chrono::steady_clock::now() + 1h, asio::error::timed_out); check(__LINE__, k::deadline);
    auto i = asioctx::without_cancel(root); check(__LINE__, k::without_cancel);
    auto j = asioctx::with_value(root, user_key, "x"); check(__LINE__, k::value);
    // A deadline no sooner than its parent's arms no timer: a cancel node, at the caller's site.
    auto l = asioctx::with_timeout(ex, b.ctx, 2h); check(__LINE__, k::cancel);
}

BOOST_AUTO_TEST_CASE(the_derivation_chain_is_newest_first, *compiled_in)
{
    tracking_scope scope(asioctx::tracking::sites);
    asio::io_context ioc;
    auto const value_line = __LINE__ + 1u;
    auto authed = asioctx::with_value(asioctx::background(), user_key, "ada");
    auto const deadline_line = __LINE__ + 1u;
    auto [bounded, cancel_bounded] = asioctx::with_timeout(ioc.get_executor(), authed, 2s);
    auto const cancel_line = __LINE__ + 1u;
    auto [leaf, cancel_leaf] = asioctx::with_cancel(bounded);

    auto chain = asioctx::derivation_chain(leaf);
    BOOST_REQUIRE(chain.size() == 4u);
    BOOST_TEST((chain[0].kind == asioctx::context_kind::cancel));
    BOOST_TEST(chain[0].site.line() == cancel_line);
    BOOST_TEST((chain[1].kind == asioctx::context_kind::deadline));
    BOOST_TEST(chain[1].site.line() == deadline_line);
    BOOST_TEST(chain[1].detail.find("in 1.9") == 0u);
    BOOST_TEST((chain[2].kind == asioctx::context_kind::value));
    BOOST_TEST(chain[2].site.line() == value_line);
    BOOST_TEST((chain[3].kind == asioctx::context_kind::background));
    BOOST_TEST(!chain[3].tracked);
    BOOST_TEST((chain[0].derived_at >= chain[1].derived_at));
    BOOST_TEST((chain[1].derived_at >= chain[2].derived_at));

    auto text = asioctx::format_derivation(leaf);
    auto at = [&](std::string const& s) { return text.find(s); };
    BOOST_TEST(at("derivation of the context, newest first (4 links)\n#0 cancel derived ") == 0u);
    BOOST_TEST(at("registry.cpp:" + std::to_string(cancel_line) + " (") != std::string::npos);
    BOOST_TEST(at("#0 cancel") < at("#1 deadline (in 1.9"));
    BOOST_TEST(at("#1 deadline") < at("#2 value (\"user\") derived "));
    BOOST_TEST(at("#2 value") < at("#3 background\n"));
    BOOST_TEST(text.find('Z') != std::string::npos); // UTC wall time of each link

    cancel_bounded(asio::error::timed_out);
    BOOST_TEST(asioctx::format_derivation(leaf).find("\n#0 cancel (done: context canceled (cause: ") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(todo_ends_a_chain, *compiled_in)
{
    auto [ctx, cancel] = asioctx::with_cancel(asioctx::todo());
    auto chain = asioctx::derivation_chain(ctx);
    BOOST_REQUIRE(chain.size() == 2u);
    BOOST_TEST((chain[1].kind == asioctx::context_kind::todo));
}

BOOST_AUTO_TEST_CASE(stacks_name_the_deriving_function, *compiled_in)
{
    tracking_scope scope(asioctx::tracking::stacks);
    auto [ctx, cancel] = derived_in_a_named_function(asioctx::background());
    auto chain = asioctx::derivation_chain(ctx);
    if(!asioctx::stacks_available())
    {
        BOOST_TEST(chain[0].stack.empty());
        return;
    }
    BOOST_TEST_MESSAGE(chain[0].stack);
    BOOST_TEST(chain[0].stack.find("derived_in_a_named_function") != std::string::npos);
    BOOST_TEST(chain[0].stack.find("asioctx::detail::") == std::string::npos); // the library's frames are left out
    BOOST_TEST(asioctx::format_derivation(ctx).find("\n      ") != std::string::npos);

    asioctx::set_tracking(asioctx::tracking::sites);
    auto [plain, cancel_plain] = asioctx::with_cancel(asioctx::background());
    BOOST_TEST(asioctx::derivation_chain(plain)[0].stack.empty());
}

[[gnu::noinline]] void cancelled_in_a_named_function(asioctx::cancel_handle const& cancel)
{
    cancel();
}

// The cancel site shows in the derivation chain and in snapshots; with stacks on, the
// cancelling call's stack is kept on the link that was cancelled, and found from a child.
BOOST_AUTO_TEST_CASE(the_cancel_site_and_stack_are_shown, *compiled_in)
{
    tracking_scope scope(asioctx::tracking::stacks);
    auto [ctx, cancel] = asioctx::with_cancel(asioctx::background());
    auto [child, cancel_child] = asioctx::with_cancel(ctx);
    cancelled_in_a_named_function(cancel);
    auto text = asioctx::format_derivation(child);
    BOOST_TEST_MESSAGE(text);
    BOOST_TEST(text.find("cancelled at ") != std::string::npos);
    BOOST_TEST(text.find("registry.cpp") != std::string::npos);
    auto snapshot = asioctx::snapshot_contexts();
    bool seen = false;
    for(auto const& c : snapshot.contexts)
        seen = seen || c.detail.find("cancelled at ") != std::string::npos;
    BOOST_TEST(seen);

    // A handle released uncalled reports where its context was derived, when tracked; so
    // does a child that inherited that release, marked inherited.
    asioctx::context released, below_released;
    std::optional<asioctx::cancellable> alive_below; // its own handle outlives the release
    auto const line = __LINE__ + 2;
    {
        auto [c, h] = asioctx::with_cancel(asioctx::background());
        released = c;
        alive_below.emplace(asioctx::with_cancel(c));
        below_released = asioctx::with_value(alive_below->ctx, user_key, "x");
    }
    BOOST_TEST(asioctx::cancelled_at(released).location.line() == line);
    auto const inherited = asioctx::cancelled_at(below_released);
    BOOST_TEST((inherited.source == asioctx::cancel_source::release));
    BOOST_TEST(inherited.inherited);
    BOOST_TEST(inherited.location.line() == line);

    auto site = asioctx::cancelled_at(child);
    if(!asioctx::stacks_available())
    {
        BOOST_TEST(site.stack.empty());
        return;
    }
    BOOST_TEST(site.stack.find("cancelled_in_a_named_function") != std::string::npos);
    BOOST_TEST(asioctx::cancelled_at(ctx).stack == site.stack);
    BOOST_TEST(text.find("cancelled from:") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(compiled_out_nothing_is_tracked, *compiled_out)
{
    BOOST_TEST((asioctx::set_tracking(asioctx::tracking::sites) == asioctx::tracking::off));
    asioctx::leak_check check;
    auto [ctx, cancel] = asioctx::with_cancel(asioctx::with_value(asioctx::background(), user_key, "x"));
    BOOST_TEST(asioctx::snapshot_contexts().contexts.empty());
    BOOST_TEST(check.leaked().empty());
    BOOST_TEST(check.report() == "leak check: diagnostics compiled out, nothing tracked\n");
    auto chain = asioctx::derivation_chain(ctx);
    BOOST_REQUIRE(chain.size() == 3u);
    BOOST_TEST((chain[0].kind == asioctx::context_kind::cancel));
    BOOST_TEST((chain[1].kind == asioctx::context_kind::value));
    BOOST_TEST(!chain[0].tracked);
    BOOST_TEST(asioctx::snapshot_contexts().to_text().find("compiled out") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

// Derivations, cancels and releases on several threads while another thread takes
// snapshots, walks chains and switches tracking: clean under TSan, and nothing left.
BOOST_AUTO_TEST_SUITE(diagnostics_stress)

BOOST_AUTO_TEST_CASE(snapshots_race_derivations_and_releases, *compiled_in)
{
    asioctx::leak_check check;
    auto root_and_cancel = asioctx::with_cancel(asioctx::background());
    auto root = root_and_cancel.ctx; // a variable, not a binding: clang 14 cannot capture bindings
    std::atomic<bool> stop{false};
    std::vector<std::jthread> workers;
    for(int t = 0; t < 3; ++t)
    {
        workers.emplace_back([&, t] {
            std::minstd_rand rng(t + 1);
            std::vector<asioctx::cancellable> held;
            for(int i = 0; i < 20000; ++i)
            {
                auto parent = held.empty() ? root : held[rng() % held.size()].ctx;
                auto valued = asioctx::with_value(parent, user_key, "u");
                held.push_back(asioctx::with_cancel(valued));
                if(rng() % 3 == 0)
                    held[rng() % held.size()].cancel();
                if(held.size() > 16)
                    held.erase(held.begin() + static_cast<long>(rng() % held.size()));
            }
        });
    }
    std::jthread observer([&] {
        std::size_t seen = 0;
        for(int i = 0; !stop.load(); ++i)
        {
            auto s = asioctx::snapshot_contexts();
            seen += s.contexts.size() + s.by_site().size();
            if(!s.contexts.empty())
                seen += s.to_text().size();
            (void)asioctx::format_derivation(root);
            asioctx::set_tracking(i % 4 == 3 ? asioctx::tracking::off : asioctx::tracking::sites);
        }
        asioctx::set_tracking(asioctx::tracking::sites);
        BOOST_TEST(seen > 0u);
    });
    for(auto& w : workers)
        w.join();
    stop = true;
    observer.join();
    root_and_cancel.cancel();
    auto left = check.leaked();
    BOOST_TEST(left.size() == 1u, check.report()); // root itself, still referenced here
}

BOOST_AUTO_TEST_SUITE_END()
