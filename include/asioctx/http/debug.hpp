//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_HTTP_DEBUG_HPP
#define ASIOCTX_HTTP_DEBUG_HPP

#include <asioctx/diagnostics/registry.hpp>
#include <asioctx/http/config.hpp>
#include <asioctx/http/handler.hpp>

#include <string>
#include <string_view>

namespace asioctx::http {

/// Where and to whom `debug_contexts` answers.
struct debug_contexts_options
{
    /// The path it serves (any query is read, not matched).
    std::string path = "/debug/contexts";

    /** True: only peers on a loopback address (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104)
        get an answer; others get 403. Set false only with authentication in front, as
        in `chain(bearer_auth(v), require_scope("debug"), debug_contexts({.loopback_only = false}), h)`.
    */
    bool loopback_only = true;
};

/** Serves the live-context registry at `options.path` (Go: `net/http/pprof`'s
    `/debug/pprof/goroutine`); every other request goes to the next handler.

    Not installed by any server: a service opts in by adding it to its chain, and
    restricts it to loopback peers unless told otherwise. It only reads: tracking is
    switched on by the program (`set_tracking`), never over HTTP.

    `GET path` (or `?debug=1`) answers text in the spirit of pprof's `debug=1`: a line
    per derivation site, largest first (`context_snapshot::to_text`). `?debug=2` adds
    one line per live context. `?format=json` answers the same as JSON:
    `{"tracking","compiled_in","live","sites":[{"file","line","function","kind","count","done","oldest_seconds"}]}`,
    plus `"contexts"` with `debug=2`. Other methods get 405. The
    answer is never cached (`Cache-Control: no-store`).
*/
ASIOCTX_HTTP_DECL middleware debug_contexts(debug_contexts_options options = {});

/// True when `peer` ("127.0.0.1:5000", "[::1]:5000", as `incoming::peer()` gives it)
/// is a loopback address; false for anything else, including text that does not parse.
ASIOCTX_HTTP_DECL bool is_loopback_peer(std::string_view peer) noexcept;

} // namespace asioctx::http

#endif
