//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_HTTP_JWT_HPP
#define ASIOCTX_HTTP_JWT_HPP

#include <asioctx/http/config.hpp>
#include <asioctx/http/error.hpp>

#include <boost/json/object.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace asioctx::http {

/** What a verified token says: immutable once verified.

    `subject` is `sub`; `scopes` come from `scope` (space-separated, OAuth 2) or `scp`
    (an array); `expiry` is `exp`; `all` holds every claim as JSON.
*/
struct claims
{
    std::string subject;
    std::vector<std::string> scopes;
    std::chrono::system_clock::time_point expiry;
    boost::json::object all;

    /// True if `scope` is among `scopes`.
    ASIOCTX_HTTP_DECL bool has_scope(std::string_view scope) const noexcept;
};

/** One key a verifier accepts. The key decides the algorithm: a token is verified only
    with the algorithm of the key selected for it, whatever its header says.
    Cheap to copy (the key material is shared, immutable).
*/
class jwt_key
{
public:
    enum class algorithm
    {
        hs256,
        hs384,
        hs512,
        rs256,
        es256,
    };

    /// An HMAC key. Throws `std::invalid_argument` for a secret shorter than the hash
    /// (RFC 7518 section 3.2: 32, 48 or 64 bytes).
    ASIOCTX_HTTP_DECL static jwt_key hmac(algorithm alg, std::string secret, std::string kid = {});

    /// An RS256 key from a PEM public key (RSA, at least 2048 bits), or an ES256 key from
    /// a PEM public key on P-256. Throws `std::invalid_argument` if the PEM does not hold
    /// such a key.
    ASIOCTX_HTTP_DECL static jwt_key public_pem(algorithm alg, std::string_view pem, std::string kid = {});

    algorithm alg() const noexcept
    {
        return alg_;
    }

    /// The key id a token names in its header's `kid`; empty for none.
    std::string const& kid() const noexcept
    {
        return kid_;
    }

    /// The JWS name of the algorithm: "HS256", "RS256", ...
    ASIOCTX_HTTP_DECL std::string_view alg_name() const noexcept;

    /** A JWS compact token of `claims_json`, signed with this HMAC key: for calls between
        one's own services, tests and demos. The header is `{"alg":"HS256","typ":"JWT"}`
        (the key's algorithm, and its `kid` when it has one) unless `header_json` is given,
        which is used as it is. The JSON is not checked. Throws `std::invalid_argument` for
        a public key (verifying only) and `std::runtime_error` if OpenSSL fails.
    */
    ASIOCTX_HTTP_DECL std::string sign(std::string_view claims_json, std::string_view header_json = {}) const;

    struct material;

private:
    jwt_key(algorithm alg, std::shared_ptr<material const> m, std::string kid) noexcept;

    friend class jwt_verifier;
    algorithm alg_;
    std::shared_ptr<material const> material_;
    std::string kid_;
};

/// `bytes` in base64url without padding (RFC 7515 section 2): the encoding of JWS parts.
ASIOCTX_HTTP_DECL std::string base64url_encode(std::string_view bytes);

/// How a verifier checks the claims.
struct jwt_options
{
    /// The accepted keys. A token whose header has a `kid` is verified with the key of that
    /// id only; a token without one with each key of its header's algorithm in turn.
    std::vector<jwt_key> keys;

    /// When not empty, `iss` must equal it.
    std::string issuer;

    /// When not empty, `aud` (a string or an array of strings) must name one of them.
    std::vector<std::string> audiences;

    /// Clock skew allowed for `exp`, `nbf` and `iat`.
    std::chrono::seconds leeway{30};

    /// Longer tokens are rejected before anything is decoded.
    std::size_t max_token_size = 8192;
};

/** Verifies JWS compact tokens (RFC 7515/7519) and returns their claims.

    Cryptography goes through OpenSSL 3 (EVP: HMAC, RSA PKCS#1 v1.5, ECDSA), JSON through
    Boost.JSON. Rejected: `alg` other than the selected key's (so `none`, and HS256 signed
    with an RSA public key, always fail); a missing or past `exp`; a future `nbf` or `iat`
    beyond the leeway; a wrong `iss` or `aud` when configured; `crit` headers; oversized
    tokens. `jku`, `x5u`, `jwk` and `x5c` headers are ignored: keys come only from the
    options. Signatures are compared in constant time.

    Stateless after construction: one verifier may be used from any number of threads.
*/
class jwt_verifier
{
public:
    ASIOCTX_HTTP_DECL explicit jwt_verifier(jwt_options options);

    /// Verifies `token` against the current time.
    boost::system::result<claims> operator()(std::string_view token) const
    {
        return verify(token, std::chrono::system_clock::now());
    }

    /// Verifies `token` as of `now`.
    ASIOCTX_HTTP_DECL boost::system::result<claims> verify(
        std::string_view token, std::chrono::system_clock::time_point now) const;

    jwt_options const& options() const noexcept
    {
        return options_;
    }

private:
    jwt_options options_;
};

} // namespace asioctx::http

#endif
