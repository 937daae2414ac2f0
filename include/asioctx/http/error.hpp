//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_HTTP_ERROR_HPP
#define ASIOCTX_HTTP_ERROR_HPP

#include <asioctx/http/config.hpp>

#include <boost/system/error_category.hpp>
#include <boost/system/error_code.hpp>

#include <iosfwd>
#include <type_traits>

namespace asioctx::http {

/** Errors of the HTTP layer, in the category named "asioctx.http".

    The token errors are for logs and tests: what a client is told never says which
    check failed (an expired token and a forged one both get the same 401).
*/
enum class error
{
    /// Not three base64url parts of JSON objects, or a header or claim of the wrong type.
    token_malformed = 1,

    /// Longer than the verifier's limit; nothing of it was parsed.
    token_too_large,

    /// The header's `alg` is not the algorithm of the key that was selected, or is `none`.
    algorithm_mismatch,

    /// The header names a `kid` no configured key has, or no key fits.
    unknown_key,

    /// The signature does not verify with the selected key.
    bad_signature,

    /// `exp` is missing: every token must expire.
    missing_expiry,

    /// `exp` (plus the leeway) is in the past.
    expired,

    /// `nbf` or `iat` (minus the leeway) is in the future.
    not_yet_valid,

    /// `iss` differs from the configured issuer.
    wrong_issuer,

    /// `aud` names none of the configured audiences.
    wrong_audience,

    /// The header lists `crit` extensions, which this verifier does not implement.
    unsupported_extension,

    /// The cause of a request context's cancellation: the client closed or reset the
    /// connection while the handler ran.
    client_disconnected = 100,

    /// The cause of a request context's cancellation: the server shut down and the
    /// request outlived the grace period.
    server_shutdown,

    /// A fetch's URL is not an absolute `http` or `https` URL with a host.
    bad_url = 200,
    /// A field of the request to send has a name or value with CR, LF, NUL or another
    /// byte no header may carry.
    unsafe_field,
    /// The host name did not resolve.
    resolve_failed,
    /// Every address of the host refused the connection.
    connection_refused,
    /// Connecting failed otherwise (unreachable, reset during the connect, ...).
    connect_failed,
    /// The TLS handshake failed: an untrusted certificate, a host name that does not
    /// match, or no common protocol.
    tls_failed,
    /// The connection failed while the request was written.
    connection_lost,
    /// The server closed the connection before a response began.
    closed_before_response,
    /// The server closed the connection in the middle of a response.
    closed_mid_body,
    /// The response body is larger than the client's limit.
    response_too_large,
    /// The response is not HTTP/1.1 Beast can parse, or its header is too large.
    malformed_response,
    /// More redirects than the client follows.
    too_many_redirects,
    /// More interim (1xx) responses before the final one than the client accepts.
    too_many_interim_responses,

    /// An HTTP/1.1 request without a `Host` field (RFC 9112 3.2); answered 400.
    missing_host = 300,
    /// A request with more than one `Host` field; answered 400.
    multiple_hosts,
    /// A request whose `Transfer-Encoding` names a coding other than `chunked`; answered
    /// 501 (the server cannot know where its body ends).
    unsupported_transfer_coding,
    /// A request whose `Transfer-Encoding` is malformed, lists `chunked` other than once
    /// and last, or comes with a `Content-Length`; answered 400.
    bad_transfer_encoding,
    /// The request body is larger than the server's limit; answered 413.
    request_body_too_large,
    /// The request body's framing is malformed (a bad chunk size, say); answered 400.
    malformed_request_body,
    /// The request body did not arrive within the server's body timeout; answered 408.
    request_body_timeout,
};

namespace detail {

class error_category_impl final : public boost::system::error_category
{
public:
    constexpr error_category_impl() noexcept
        : boost::system::error_category(0xa510c7c0de0f2028ULL)
    {
    }
    char const* name() const noexcept override;
    std::string message(int ev) const override;
    char const* message(int ev, char* buffer, std::size_t len) const noexcept override;
};

inline constexpr error_category_impl error_category_instance{};

} // namespace detail

/// The category of `asioctx::http::error`; its name is "asioctx.http".
inline constexpr boost::system::error_category const& error_category() noexcept
{
    return detail::error_category_instance;
}

/// Makes an error code; `loc` records where the library produced it.
inline boost::system::error_code make_error_code(
    error e, boost::source_location const* loc = nullptr) noexcept
{
    return boost::system::error_code(static_cast<int>(e), error_category(), loc);
}

/// Writes the error's message and code, as `token expired [asioctx.http:7]`.
ASIOCTX_HTTP_DECL std::ostream& operator<<(std::ostream& os, error e);

} // namespace asioctx::http

template<>
struct boost::system::is_error_code_enum<asioctx::http::error> : std::true_type
{
};

#endif
