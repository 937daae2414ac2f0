//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//
// The live-context registry. Each tracked node points to its record; records sit in
// a few shards, each a mutex and an intrusive list, so derivations on different
// threads rarely meet. A record is removed (under its shard's lock) before its node
// is freed, and a node keeps its ancestors alive: while a shard is locked, every
// node it lists and all of their ancestors can be read.

#include <asioctx/diagnostics/registry.hpp>

#include <asioctx/core/detail/node.hpp>
#include <asioctx/core/error.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>
#include <mutex>
#include <new>
#include <string_view>
#include <tuple>

#if defined(ASIOCTX_HAS_STACKTRACE) && ASIOCTX_DIAGNOSTICS_COMPILED_IN
#define BOOST_STACKTRACE_LINK
#include <boost/stacktrace/stacktrace.hpp>
#include <optional>
#define ASIOCTX_STACKS 1
#else
#define ASIOCTX_STACKS 0
#endif

namespace asioctx {
namespace detail {

namespace {

using steady = std::chrono::steady_clock;

context_kind kind_of(node const* n) noexcept
{
    if(!n)
        return context_kind::background;
    switch(n->kind_)
    {
    case node_kind::todo:
        return context_kind::todo;
    case node_kind::value:
        return context_kind::value;
    case node_kind::cancel:
        return context_kind::cancel;
    case node_kind::deadline:
        return context_kind::deadline;
    case node_kind::without_cancel:
        return context_kind::without_cancel;
    case node_kind::merge:
        return context_kind::merge;
    case node_kind::never:
        break;
    }
    return context_kind::background;
}

std::string format_seconds(steady::duration d)
{
    char buf[48];
    auto const us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
    std::snprintf(buf, sizeof buf, "%s%lld.%03llds", us < 0 ? "-" : "",
        static_cast<long long>((us < 0 ? -us : us) / 1000000),
        static_cast<long long>(((us < 0 ? -us : us) % 1000000) / 1000));
    return buf;
}

// What a node says of itself beyond its kind: key name, time left, error once done.
std::string describe(node const* n, steady::time_point now)
{
    std::string out;
    if(!n)
        return out;
    if(n->kind_ == node_kind::value)
    {
        auto name = static_cast<value_node_base const*>(n)->key_->name();
        out += '"';
        out += (name && *name) ? name : "(unnamed key)";
        out += '"';
    }
    else if(n->kind_ == node_kind::deadline || n->kind_ == node_kind::merge)
    {
        if(n->kind_ == node_kind::merge)
            out += std::to_string(static_cast<merge_node const*>(n)->link_count_ + 1) + " parents";
        auto const deadline = effective_deadline(n); // the node's own, for both kinds
        auto left = deadline - now;
        if(deadline != steady_time::max())
        {
            if(!out.empty())
                out += ", deadline ";
            out += left > steady::duration::zero() ? "in " + format_seconds(left)
                                                   : "passed " + format_seconds(-left) + " ago";
        }
    }
    auto state = nearest_canceller(const_cast<node*>(n));
    auto s = state->state_.load(std::memory_order_acquire);
    if(s != state_live)
    {
        if(!out.empty())
            out += ", ";
        out += "done: ";
        out += make_state_error(s).message();
        auto const& cause = state->cause_;
        if(cause && cause != make_state_error(s))
        {
            out += " (cause: ";
            out += cause.message();
            out += ')';
        }
        out += ", ";
        out += to_string(cancel_site_of(state));
    }
    return out;
}

[[maybe_unused]] bool node_done(node const* n) noexcept
{
    return nearest_canceller(const_cast<node*>(n))->state_.load(std::memory_order_acquire) != state_live;
}

} // namespace

constinit std::atomic<std::uint8_t> tracking_level{0};

#if ASIOCTX_DIAGNOSTICS_COMPILED_IN

class diag_record
{
public:
    node* node_ = nullptr;
    std::uint64_t id_ = 0;
    source_location site_;
    steady::time_point born_;
    diag_record* prev_ = nullptr;
    diag_record* next_ = nullptr;
#if ASIOCTX_STACKS
    std::optional<boost::stacktrace::stacktrace> stack_;
    // The stack of the cancel that ended the node, kept once, after the cancel won.
    std::atomic<boost::stacktrace::stacktrace*> cancel_stack_{nullptr};
#endif
};

namespace {

constexpr std::size_t shard_count = 16;

struct alignas(64) shard
{
    std::mutex mutex;
    diag_record* head = nullptr;
};

std::array<shard, shard_count> shards;
constinit std::atomic<std::uint64_t> last_id{0};

shard& shard_of(std::uint64_t id) noexcept
{
    return shards[id % shard_count];
}

std::uint64_t tracked_parent_id(node const* n) noexcept
{
    for(auto p = n->parent_; p; p = p->parent_)
        if(p->diag_)
            return p->diag_->id_;
    return 0;
}

live_context copy_of(diag_record const& r, steady::time_point now)
{
    live_context c;
    c.id = r.id_;
    c.parent_id = tracked_parent_id(r.node_);
    c.kind = kind_of(r.node_);
    c.site = r.site_;
    c.derived_at = r.born_;
    c.done = node_done(r.node_);
    c.detail = describe(r.node_, now);
    return c;
}

// Every live record with an id of at least `first`, oldest first.
std::vector<live_context> collect(std::uint64_t first, steady::time_point now)
{
    std::vector<live_context> out;
    for(auto& s : shards)
    {
        std::lock_guard lock(s.mutex);
        for(auto r = s.head; r; r = r->next_)
            if(r->id_ >= first)
                out.push_back(copy_of(*r, now));
    }
    std::sort(out.begin(), out.end(),
        [](live_context const& a, live_context const& b) { return a.id < b.id; });
    return out;
}

} // namespace

void track_node(node* n, source_location const& site) noexcept
{
    auto r = new(std::nothrow) diag_record;
    if(!r)
        return;
    r->node_ = n;
    r->site_ = site;
    r->born_ = steady::now();
#if ASIOCTX_STACKS
    if(tracking_level.load(std::memory_order_relaxed) == tracking_stacks)
    {
        try
        {
            r->stack_.emplace(1, 48); // past this function
        }
        catch(...)
        {
            // A missing stack is reported as none; the node is tracked regardless.
        }
    }
#endif
    r->id_ = last_id.fetch_add(1, std::memory_order_relaxed) + 1;
    n->diag_ = r;
    auto& s = shard_of(r->id_);
    std::lock_guard lock(s.mutex);
    r->next_ = s.head;
    if(s.head)
        s.head->prev_ = r;
    s.head = r;
}

void untrack_node(node* n) noexcept
{
    auto r = n->diag_;
    {
        auto& s = shard_of(r->id_);
        std::lock_guard lock(s.mutex);
        if(r->prev_)
            r->prev_->next_ = r->next_;
        else
            s.head = r->next_;
        if(r->next_)
            r->next_->prev_ = r->prev_;
    }
#if ASIOCTX_STACKS
    delete r->cancel_stack_.load(std::memory_order_acquire);
#endif
    delete r; // the node goes next
}

void* capture_cancel_stack() noexcept
{
#if ASIOCTX_STACKS
    try
    {
        return new boost::stacktrace::stacktrace(1, 48);
    }
    catch(...)
    {
        return nullptr; // a missing stack is reported as none
    }
#else
    return nullptr;
#endif
}

void keep_cancel_stack([[maybe_unused]] node* n, void* stack, [[maybe_unused]] bool keep) noexcept
{
#if ASIOCTX_STACKS
    auto st = static_cast<boost::stacktrace::stacktrace*>(stack);
    if(keep && n->diag_) // only the cancel that won keeps one, so there is never an earlier one
        n->diag_->cancel_stack_.store(st, std::memory_order_release);
    else
        delete st;
#else
    (void)stack;
#endif
}

source_location derivation_site(node const* n) noexcept
{
    if(n->diag_)
        return n->diag_->site_;
    return {};
}

#else

// Compiled out: the switch never leaves off, so nothing is ever recorded; these exist so
// that code compiled with another setting links and behaves the same.
void track_node(node*, source_location const&) noexcept {}
void untrack_node(node*) noexcept {}
void* capture_cancel_stack() noexcept
{
    return nullptr;
}
void keep_cancel_stack(node*, void*, bool) noexcept {}
source_location derivation_site(node const*) noexcept
{
    return {};
}

#endif

} // namespace detail

extern bool const diagnostics_compiled_in = ASIOCTX_DIAGNOSTICS_COMPILED_IN != 0;

namespace {

using steady = std::chrono::steady_clock;

bool same_site(source_location const& a, source_location const& b) noexcept
{
    return a.line() == b.line() && a.column() == b.column() &&
        std::strcmp(a.file_name(), b.file_name()) == 0 &&
        std::strcmp(a.function_name(), b.function_name()) == 0;
}


// UTC, ISO 8601 with microseconds: when a steady-clock instant happened on the wall clock.
std::string format_wall(steady::time_point t)
{
    auto const wall = std::chrono::system_clock::now() -
        std::chrono::duration_cast<std::chrono::system_clock::duration>(steady::now() - t);
    auto const secs = std::chrono::floor<std::chrono::seconds>(wall);
    auto const us = std::chrono::duration_cast<std::chrono::microseconds>(wall - secs).count();
    std::time_t tt = std::chrono::system_clock::to_time_t(secs);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
        tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long long>(us));
    return buf;
}

std::string summary_text(std::vector<site_summary> const& groups)
{
    std::string out;
    for(auto const& g : groups)
    {
        out += std::to_string(g.count);
        out += " @ ";
        out += to_string(g.kind);
        out += ' ';
        out += detail::format_site(g.site);
        out += " oldest ";
        out += detail::format_seconds(g.oldest);
        out += ", done ";
        out += std::to_string(g.done);
        out += '\n';
    }
    return out;
}

std::vector<site_summary> group_by_site(std::vector<live_context> const& contexts, steady::time_point now)
{
    std::vector<site_summary> groups;
    for(auto const& c : contexts)
    {
        auto it = std::find_if(groups.begin(), groups.end(),
            [&](site_summary const& g) { return g.kind == c.kind && same_site(g.site, c.site); });
        if(it == groups.end())
        {
            groups.push_back(site_summary{c.site, c.kind, 0, 0, {}});
            it = groups.end() - 1;
        }
        ++it->count;
        it->done += c.done ? 1 : 0;
        it->oldest = std::max(it->oldest, now - c.derived_at);
    }
    std::stable_sort(groups.begin(), groups.end(), [](site_summary const& a, site_summary const& b) {
        return std::tie(b.count, b.oldest) < std::tie(a.count, a.oldest);
    });
    return groups;
}

} // namespace

char const* to_string(tracking level) noexcept
{
    switch(level)
    {
    case tracking::off:
        return "off";
    case tracking::sites:
        return "sites";
    case tracking::stacks:
        return "stacks";
    }
    return "off";
}

char const* to_string(context_kind kind) noexcept
{
    switch(kind)
    {
    case context_kind::background:
        return "background";
    case context_kind::todo:
        return "todo";
    case context_kind::cancel:
        return "cancel";
    case context_kind::deadline:
        return "deadline";
    case context_kind::value:
        return "value";
    case context_kind::without_cancel:
        return "without_cancel";
    case context_kind::merge:
        return "merge";
    }
    return "unknown";
}

tracking set_tracking([[maybe_unused]] tracking level) noexcept
{
#if ASIOCTX_DIAGNOSTICS_COMPILED_IN
    if(level == tracking::stacks && !stacks_available())
        level = tracking::sites;
    detail::tracking_level.store(static_cast<std::uint8_t>(level), std::memory_order_relaxed);
    return level;
#else
    return tracking::off;
#endif
}

tracking current_tracking() noexcept
{
#if ASIOCTX_DIAGNOSTICS_COMPILED_IN
    return static_cast<tracking>(detail::tracking_level.load(std::memory_order_relaxed));
#else
    return tracking::off;
#endif
}

bool stacks_available() noexcept
{
    return ASIOCTX_STACKS != 0;
}

std::vector<site_summary> context_snapshot::by_site() const
{
    return group_by_site(contexts, taken_at);
}

std::string context_snapshot::to_text() const
{
    auto groups = by_site();
    std::string out = "asioctx contexts: " + std::to_string(contexts.size()) + " live, " +
        std::to_string(groups.size()) + (groups.size() == 1 ? " site" : " sites") +
        " (tracking: " + to_string(level) + (diagnostics_compiled_in ? ")\n" : ", compiled out)\n");
    return out + summary_text(groups);
}

context_snapshot snapshot_contexts()
{
    context_snapshot s;
    s.taken_at = steady::now();
    s.level = current_tracking();
#if ASIOCTX_DIAGNOSTICS_COMPILED_IN
    s.contexts = detail::collect(1, s.taken_at);
#endif
    return s;
}

leak_check::leak_check(tracking level) noexcept
    : first_id_(0)
    , previous_(current_tracking())
{
#if ASIOCTX_DIAGNOSTICS_COMPILED_IN
    if(static_cast<std::uint8_t>(level) > static_cast<std::uint8_t>(previous_))
        set_tracking(level);
    first_id_ = detail::last_id.load(std::memory_order_relaxed) + 1;
#else
    (void)level;
#endif
}

leak_check::~leak_check()
{
    set_tracking(previous_);
}

std::vector<live_context> leak_check::leaked() const
{
#if ASIOCTX_DIAGNOSTICS_COMPILED_IN
    return detail::collect(first_id_, steady::now());
#else
    return {};
#endif
}

std::string leak_check::report() const
{
    auto const now = steady::now();
    auto contexts = leaked();
    if(contexts.empty())
        return diagnostics_compiled_in ? "leak check: no context derived since the check is alive\n"
                                       : "leak check: diagnostics compiled out, nothing tracked\n";
    return "leak check: " + std::to_string(contexts.size()) + " context" + (contexts.size() == 1 ? "" : "s") +
        " derived since the check still alive\n" + summary_text(group_by_site(contexts, now));
}

#if ASIOCTX_STACKS
namespace detail {

constexpr std::size_t max_frame_name = 160;

// The library's frames that a captured stack starts with: derivations and cancels.
bool is_library_frame(std::string const& name) noexcept
{
    for(char const* prefix : {"asioctx::detail::", "asioctx::with", "asioctx::without_cancel",
            "asioctx::cancel_handle::"})
        if(name.rfind(prefix, 0) == 0)
            return true;
    return false;
}

// One frame per line, "function at file:line", after the library's own frames (more of
// them without inlining) and up to main.
std::string stack_text(boost::stacktrace::stacktrace const& stack)
{
    std::string out;
    auto const& frames = stack.as_vector();
    std::size_t first = 0;
    for(std::size_t i = 0; i < frames.size() && i < 16; ++i)
        if(is_library_frame(frames[i].name()))
            first = i + 1;
    for(std::size_t i = first; i < frames.size(); ++i)
    {
        auto const& frame = frames[i];
        auto name = frame.name();
        // Template-heavy names run to kilobytes; the file and line say where.
        if(name.size() > max_frame_name)
            name = name.substr(0, max_frame_name - 3) + "...";
        auto file = frame.source_file();
        out += name.empty() ? "??" : name;
        if(!file.empty())
            out += " at " + file + ':' + std::to_string(frame.source_line());
        out += '\n';
        if(name == "main")
            break; // what follows is the C runtime
    }
    return out;
}

} // namespace detail
#endif

std::string detail::cancel_stack_text([[maybe_unused]] node const* n)
{
#if ASIOCTX_STACKS
    if(n->diag_)
        if(auto st = n->diag_->cancel_stack_.load(std::memory_order_acquire))
            return stack_text(*st);
#endif
    return {};
}

std::vector<derivation_link> derivation_chain(context const& ctx)
{
    std::vector<derivation_link> chain;
    auto const now = steady::now();
    detail::node const* n = detail::access::node_of(ctx);
    for(;; n = n->parent_)
    {
        derivation_link link;
        link.kind = detail::kind_of(n);
        if(n)
        {
            link.detail = detail::describe(n, now);
#if ASIOCTX_DIAGNOSTICS_COMPILED_IN
            if(auto r = n->diag_)
            {
                link.tracked = true;
                link.site = r->site_;
                link.derived_at = r->born_;
#if ASIOCTX_STACKS
                if(r->stack_)
                    link.stack = detail::stack_text(*r->stack_);
                link.cancel_stack = detail::cancel_stack_text(n); // empty but for a cancel's own node
#endif
            }
#endif
        }
        chain.push_back(std::move(link));
        if(!n || n->kind_ == detail::node_kind::todo)
            break;
    }
    return chain;
}

std::string format_derivation(context const& ctx)
{
    auto chain = derivation_chain(ctx);
    std::string out = "derivation of the context, newest first (" + std::to_string(chain.size()) +
        (chain.size() == 1 ? " link)\n" : " links)\n");
    std::size_t i = 0;
    for(auto const& link : chain)
    {
        out += '#';
        out += std::to_string(i++);
        out += ' ';
        out += to_string(link.kind);
        if(!link.detail.empty())
            out += " (" + link.detail + ")";
        if(link.tracked)
            out += " derived " + format_wall(link.derived_at) + " at " + detail::format_site(link.site);
        else if(link.kind != context_kind::background && link.kind != context_kind::todo)
            out += " (untracked: derived while tracking was off)";
        out += '\n';
        auto indent = [&out](std::string_view stack) {
            while(!stack.empty())
            {
                auto eol = stack.find('\n');
                out += "      ";
                out += stack.substr(0, eol);
                out += '\n';
                stack.remove_prefix(eol == std::string_view::npos ? stack.size() : eol + 1);
            }
        };
        indent(link.stack);
        if(!link.cancel_stack.empty())
        {
            out += "    cancelled from:\n";
            indent(link.cancel_stack);
        }
    }
    return out;
}

} // namespace asioctx
