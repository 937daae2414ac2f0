//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_DIAGNOSTICS_REGISTRY_HPP
#define ASIOCTX_DIAGNOSTICS_REGISTRY_HPP

#include <asioctx/core/context.hpp>
#include <asioctx/detail/config.hpp>
#include <asioctx/core/detail/site.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace asioctx {

/** True when the library was built with the live-context registry (the default).

    Building the library with `ASIOCTX_NO_DIAGNOSTICS` (CMake: `-DASIOCTX_DIAGNOSTICS=OFF`)
    leaves the registry out: tracking stays off, and the functions below report that
    nothing is tracked. It changes nothing in the headers: node layout and every
    signature are the same either way, so code compiled with either setting links with
    a library built with either.
*/
ASIOCTX_DECL extern bool const diagnostics_compiled_in;

/// What the registry records for each context derived while it is on.
enum class tracking : std::uint8_t
{
    off = 0,    ///< nothing: a derivation costs one relaxed load more than compiled out
    sites = 1,  ///< site, kind, time and parent of every live context
    stacks = 2, ///< also the full call stack of each derivation (a debugging aid: slow)
};

/** Switches the registry for contexts derived from now on; returns the level in
    effect. Returns `tracking::off` when the registry is compiled out, and
    `tracking::sites` when stacks were asked for but Boost.Stacktrace was not found
    when the library was built (`stacks_available()`).

    Contexts derived while it was off are never tracked, even after it is switched
    on; tracked ones stay tracked until they are freed, even after it is switched off.
    Safe to call from any thread at any time.
*/
ASIOCTX_DECL tracking set_tracking(tracking level) noexcept;

/// The level in effect.
ASIOCTX_DECL tracking current_tracking() noexcept;

/// "off", "sites" or "stacks".
ASIOCTX_DECL char const* to_string(tracking level) noexcept;

/// True when the library was built with Boost.Stacktrace, so `tracking::stacks` works.
ASIOCTX_DECL bool stacks_available() noexcept;

/// The kind of a node of the context tree, as diagnostics report it.
enum class context_kind : std::uint8_t
{
    background,     ///< `background()` (or a default-constructed context)
    todo,           ///< `todo()`
    cancel,         ///< `with_cancel`, or a deadline no sooner than its parent's
    deadline,       ///< `with_deadline` and `with_timeout` families
    value,          ///< `with_value` (and `with_executor`, whose key is "asioctx.executor")
    without_cancel, ///< `without_cancel`
    merge,          ///< `with_merge`
};

/// "background", "todo", "cancel", "deadline", "value", "without_cancel" or "merge".
ASIOCTX_DECL char const* to_string(context_kind kind) noexcept;

/// One tracked context that was alive when a snapshot was taken.
struct live_context
{
    std::uint64_t id = 0;        ///< derivation order among tracked contexts, from 1
    std::uint64_t parent_id = 0; ///< the nearest tracked ancestor, 0 when there is none
    context_kind kind = context_kind::cancel;
    source_location site;        ///< where it was derived
    std::chrono::steady_clock::time_point derived_at;
    bool done = false;
    /// The key's name for a value, the time left for a deadline, the error, cause and
    /// cancel site (`to_string(cancelled_at(...))`) once done; empty otherwise.
    std::string detail;
};

/// Live contexts derived at one site, with one kind.
struct site_summary
{
    source_location site;
    context_kind kind = context_kind::cancel;
    std::size_t count = 0;                      ///< live
    std::size_t done = 0;                       ///< of which done (alive only through references)
    std::chrono::steady_clock::duration oldest{}; ///< age of the oldest
};

/// Every tracked context alive at one moment.
class context_snapshot
{
public:
    std::chrono::steady_clock::time_point taken_at;
    tracking level = tracking::off;
    std::vector<live_context> contexts; ///< oldest first

    /// Grouped by derivation site and kind, the largest group first (ties: oldest first).
    ASIOCTX_DECL std::vector<site_summary> by_site() const;

    /** A text report in the spirit of Go's `pprof` `debug=1` goroutine profile: a
        header line, then one line per site, largest first:
        `3 @ cancel example/leak_found_by_registry.cpp:41 (start_worker) oldest 1.250s, done 0`.
    */
    ASIOCTX_DECL std::string to_text() const;
};

/** Copies what the registry holds now. Takes each registry shard's lock in turn, so
    derivations on other threads wait for at most one shard's copy. Empty when the
    registry is compiled out or nothing was derived while it was on.
*/
ASIOCTX_DECL context_snapshot snapshot_contexts();

/** "Nothing derived since this point is still alive", for tests (Go: count the
    goroutines before and after).

    Construction switches tracking on to at least `level` and remembers where the
    derivation count stands; `leaked()` lists the tracked contexts derived since then
    that are still alive; destruction restores the previous tracking level. Contexts
    derived on other threads in the meantime count too.

    @code
    asioctx::leak_check check;
    run_the_code_under_test();
    BOOST_TEST(check.leaked().empty(), check.report());
    @endcode
*/
class leak_check
{
public:
    ASIOCTX_DECL explicit leak_check(tracking level = tracking::sites) noexcept;
    ASIOCTX_DECL ~leak_check();
    leak_check(leak_check const&) = delete;
    leak_check& operator=(leak_check const&) = delete;

    /// Tracked contexts derived since construction and still alive, oldest first.
    ASIOCTX_DECL std::vector<live_context> leaked() const;

    /// The leaked contexts grouped by site, as `context_snapshot::to_text`; a line
    /// saying none when there are none.
    ASIOCTX_DECL std::string report() const;

private:
    std::uint64_t first_id_;
    tracking previous_;
};

/// One link of a derivation chain.
struct derivation_link
{
    context_kind kind = context_kind::background;
    bool tracked = false; ///< false: derived while tracking was off; site and time unknown
    source_location site;
    std::chrono::steady_clock::time_point derived_at;
    std::string detail; ///< as `live_context::detail`
    /// With `tracking::stacks`: the derivation's call stack, one frame per line
    /// ("function at file:line"), the library's own frames left out.
    std::string stack;
    /// With `tracking::stacks`: the stack of the cancel made on this link itself (its
    /// handle or deadline), in the same form; empty for a live or inherited one.
    std::string cancel_stack;
};

/** The derivation chain of `ctx`: `ctx` itself first, then each ancestor,
    ending with background or todo. Sites and times are known for the links derived
    while tracking was on. Reads only nodes `ctx` keeps alive: never locks.
*/
ASIOCTX_DECL std::vector<derivation_link> derivation_chain(context const& ctx);

/** `derivation_chain(ctx)` as text, newest first, one link per line:
    `#1 deadline (in 1.998s) derived 2026-11-26T20:31:05.123456Z at file.cpp:44 (handle)`,
    with the stack indented under each link when one was captured. A done link says
    where it was cancelled (`done: context canceled, cancelled at file.cpp:60 (stop)`),
    followed by the cancel's stack when one was kept.
*/
ASIOCTX_DECL std::string format_derivation(context const& ctx);

} // namespace asioctx

#endif
