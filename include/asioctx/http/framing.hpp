//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_HTTP_FRAMING_HPP
#define ASIOCTX_HTTP_FRAMING_HPP

#include <asioctx/http/config.hpp>
#include <asioctx/http/error.hpp>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/system/error_code.hpp>

#include <exception>

namespace asioctx::http {

/** Checks what decides where a request ends and whom it is for, before anything else
    reads it (RFC 9112 3.2 and 6): an HTTP/1.1 request has exactly one `Host`, an
    HTTP/1.0 one at most one; `Transfer-Encoding`, when present, is exactly `chunked`
    (case-insensitive, once), and comes without `Content-Length`.

    Returns `error::missing_host`, `multiple_hosts`, `unsupported_transfer_coding` or
    `bad_transfer_encoding`, or no error. A request that fails is answered and its
    connection closed: its body cannot be told from the next request, so serving it
    would let a client smuggle a second request past whatever checked the first. The
    server calls this on every request; a Beast loop of one's own should too.
*/
ASIOCTX_HTTP_DECL boost::system::error_code check_framing(boost::beast::http::request_header<> const& header);

/** The status a server answers for a request it could not read: 400 for
    `missing_host`, `multiple_hosts`, `bad_transfer_encoding`, `malformed_request_body`;
    408 for `request_body_timeout`; 413 for `request_body_too_large`; 501 for
    `unsupported_transfer_coding`; 500 for anything else.
*/
ASIOCTX_HTTP_DECL boost::beast::http::status status_for(boost::system::error_code const& ec) noexcept;

/** The status for an exception that escaped a handler: `status_for(e.code())` for a
    `boost::system::system_error` carrying one of the request errors above (what
    `incoming::body()` throws), else 500. Middleware that answers for a failed handler
    uses this, so that a body error is answered (and logged) as what it is.
*/
ASIOCTX_HTTP_DECL boost::beast::http::status status_for(std::exception_ptr const& e) noexcept;

} // namespace asioctx::http

#endif
