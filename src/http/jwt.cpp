//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//
// JWS compact verification. Every cryptographic operation is OpenSSL 3's (EVP_Q_mac,
// EVP_DigestVerify, CRYPTO_memcmp); this file only frames the token and checks claims.

#include <asioctx/http/jwt.hpp>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/pem.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace asioctx::http {

namespace {

using result_claims = boost::system::result<claims>;

// An error code carrying the location of the check that failed.
#define ASIOCTX_HTTP_FAIL(e)                                                                                       \
    [] {                                                                                                            \
        static constexpr auto loc = BOOST_CURRENT_LOCATION;                                                         \
        return make_error_code(e, &loc);                                                                            \
    }()

struct pkey_deleter
{
    void operator()(EVP_PKEY* p) const noexcept
    {
        EVP_PKEY_free(p);
    }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_deleter>;

struct md_ctx_deleter
{
    void operator()(EVP_MD_CTX* p) const noexcept
    {
        EVP_MD_CTX_free(p);
    }
};

// Strict base64url (RFC 7515 section 2): no padding, no whitespace, URL alphabet only,
// and the unused bits of the last character zero, so that each byte string has exactly
// one encoding. A table lookup per character: verification runs on every request, and
// mapping to the standard alphabet for EVP_DecodeBlock cost three times as much.
bool base64url_decode(std::string_view in, std::string& out)
{
    if(in.size() % 4 == 1)
        return false;
    // Each character's 6 bits; 0xff (above 63) outside the alphabet.
    static constexpr auto sextet = [] {
        std::array<unsigned char, 256> table{};
        table.fill(0xff);
        constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        for(std::size_t i = 0; i < alphabet.size(); ++i)
            table[static_cast<unsigned char>(alphabet[i])] = static_cast<unsigned char>(i);
        return table;
    }();
    out.resize(in.size() / 4 * 3 + (in.size() % 4 == 0 ? 0 : in.size() % 4 - 1));
    auto const* src = reinterpret_cast<unsigned char const*>(in.data());
    auto* dst = reinterpret_cast<unsigned char*>(out.data());
    std::size_t i = 0;
    for(; i + 4 <= in.size(); i += 4)
    {
        unsigned const a = sextet[src[i]], b = sextet[src[i + 1]], c = sextet[src[i + 2]], d = sextet[src[i + 3]];
        if((a | b | c | d) > 63) // one was outside the alphabet
            return false;
        unsigned const v = a << 18 | b << 12 | c << 6 | d;
        *dst++ = static_cast<unsigned char>(v >> 16);
        *dst++ = static_cast<unsigned char>(v >> 8);
        *dst++ = static_cast<unsigned char>(v);
    }
    std::size_t const rest = in.size() - i;
    if(rest == 0)
        return true;
    unsigned v = 0;
    for(std::size_t k = 0; k < rest; ++k)
    {
        unsigned const s = sextet[src[i + k]];
        if(s > 63)
            return false;
        v = v << 6 | s;
    }
    if(rest == 2)
    {
        if(v & 0xf) // 12 bits carry one byte: the low 4 must be zero
            return false;
        *dst = static_cast<unsigned char>(v >> 4);
    }
    else
    {
        if(v & 0x3) // 18 bits carry two bytes: the low 2 must be zero
            return false;
        *dst++ = static_cast<unsigned char>(v >> 10);
        *dst = static_cast<unsigned char>(v >> 2);
    }
    return true;
}

char const* digest_of(jwt_key::algorithm alg) noexcept
{
    switch(alg)
    {
    case jwt_key::algorithm::hs384:
        return "SHA384";
    case jwt_key::algorithm::hs512:
        return "SHA512";
    default:
        return "SHA256";
    }
}

std::size_t hmac_size(jwt_key::algorithm alg) noexcept
{
    switch(alg)
    {
    case jwt_key::algorithm::hs384:
        return 48;
    case jwt_key::algorithm::hs512:
        return 64;
    default:
        return 32;
    }
}

bool is_hmac(jwt_key::algorithm alg) noexcept
{
    return alg == jwt_key::algorithm::hs256 || alg == jwt_key::algorithm::hs384 ||
        alg == jwt_key::algorithm::hs512;
}

// A NumericDate (seconds since the epoch, possibly fractional) as a time point.
// A NumericDate in seconds since the epoch; false for anything else (RFC 7519 2).
bool numeric_seconds(boost::json::value const& v, double& seconds)
{
    if(v.is_int64())
        seconds = static_cast<double>(v.get_int64());
    else if(v.is_uint64())
        seconds = static_cast<double>(v.get_uint64());
    else if(v.is_double())
        seconds = v.get_double();
    else
        return false;
    return std::isfinite(seconds);
}

// Seconds since the epoch as a time point, saturated to what the clock's duration holds
// (about 292 years either side of 1970 in nanoseconds): converting a larger value would
// overflow. Comparisons are made on the seconds, never on the saturated time point.
std::chrono::system_clock::time_point to_time_point(double seconds) noexcept
{
    constexpr double limit = 9.0e9; // below 2^63 ns
    seconds = std::clamp(seconds, -limit, limit);
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::duration<double>(seconds)));
}

double seconds_since_epoch(std::chrono::system_clock::time_point t) noexcept
{
    return std::chrono::duration<double>(t.time_since_epoch()).count();
}

// An ECDSA P-256 signature's S at most n/2 (big-endian): each signature has one spelling,
// as (r, n - s) verifies too. n/2 rounded down.
bool low_s(unsigned char const* s) noexcept
{
    static constexpr unsigned char half_order[32] = {0x7f, 0xff, 0xff, 0xff, 0x80, 0x00, 0x00, 0x00, 0x7f, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xde, 0x73, 0x7d, 0x56, 0xd3, 0x8b, 0xcf, 0x42, 0x79, 0xdc, 0xe5, 0x61, 0x7e,
        0x31, 0x92, 0xa8};
    return std::memcmp(s, half_order, 32) <= 0;
}

} // namespace

struct jwt_key::material
{
    // HMAC: a context keyed once, the template of each thread's copy (OpenSSL 3 looks
    // the algorithm up on every EVP_Q_mac call, which costs more than the MAC itself).
    EVP_MAC_CTX* hmac = nullptr;
    pkey_ptr pkey; // RSA or EC public key
    // Names this key in the per-thread HMAC contexts; never reused, unlike an address.
    std::uint64_t const id = next_id();

    material() = default;
    material(material const&) = delete;
    material& operator=(material const&) = delete;
    ~material()
    {
        EVP_MAC_CTX_free(hmac);
    }

private:
    static std::uint64_t next_id() noexcept
    {
        static std::atomic<std::uint64_t> counter{0};
        return counter.fetch_add(1, std::memory_order_relaxed) + 1;
    }
};

jwt_key::jwt_key(algorithm alg, std::shared_ptr<material const> m, std::string kid) noexcept
    : alg_(alg)
    , material_(std::move(m))
    , kid_(std::move(kid))
{
}

jwt_key jwt_key::hmac(algorithm alg, std::string secret, std::string kid)
{
    if(!is_hmac(alg))
        throw std::invalid_argument("asioctx::http::jwt_key::hmac: not an HMAC algorithm");
    if(secret.size() < hmac_size(alg))
        throw std::invalid_argument("asioctx::http::jwt_key::hmac: secret shorter than the hash");
    auto m = std::make_shared<material>();
    EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    if(mac)
        m->hmac = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac); // the context keeps its own reference
    char digest[16];
    std::snprintf(digest, sizeof(digest), "%s", digest_of(alg));
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_construct_end()};
    if(!m->hmac ||
        !EVP_MAC_init(m->hmac, reinterpret_cast<unsigned char const*>(secret.data()), secret.size(), params))
        throw std::runtime_error("asioctx::http::jwt_key::hmac: OpenSSL cannot make an HMAC context");
    OPENSSL_cleanse(secret.data(), secret.size());
    return jwt_key(alg, std::move(m), std::move(kid));
}

jwt_key jwt_key::public_pem(algorithm alg, std::string_view pem, std::string kid)
{
    if(alg != algorithm::rs256 && alg != algorithm::es256)
        throw std::invalid_argument("asioctx::http::jwt_key::public_pem: RS256 or ES256 only");
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
    if(!bio)
        throw std::bad_alloc();
    pkey_ptr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
    if(!key)
        throw std::invalid_argument("asioctx::http::jwt_key::public_pem: no public key in the PEM");
    if(alg == algorithm::rs256)
    {
        if(!EVP_PKEY_is_a(key.get(), "RSA") || EVP_PKEY_get_bits(key.get()) < 2048)
            throw std::invalid_argument("asioctx::http::jwt_key::public_pem: RS256 needs an RSA key of 2048 bits or more");
    }
    else
    {
        char group[64] = {};
        std::size_t len = 0;
        if(!EVP_PKEY_is_a(key.get(), "EC") ||
            !EVP_PKEY_get_utf8_string_param(key.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), &len) ||
            std::string_view(group, len) != "prime256v1")
            throw std::invalid_argument("asioctx::http::jwt_key::public_pem: ES256 needs a P-256 key");
    }
    auto m = std::make_shared<material>();
    m->pkey = std::move(key);
    return jwt_key(alg, std::move(m), std::move(kid));
}

std::string_view jwt_key::alg_name() const noexcept
{
    switch(alg_)
    {
    case algorithm::hs256:
        return "HS256";
    case algorithm::hs384:
        return "HS384";
    case algorithm::hs512:
        return "HS512";
    case algorithm::rs256:
        return "RS256";
    case algorithm::es256:
        return "ES256";
    }
    return {};
}

bool claims::has_scope(std::string_view scope) const noexcept
{
    return std::find(scopes.begin(), scopes.end(), scope) != scopes.end();
}

namespace {

// Each thread's copies of the HMAC keys it last verified with. A copy is re-initialised
// with the key it holds (EVP_MAC_init with no key) before each use, so verifying neither
// duplicates nor frees a context. A key no longer in use stays here until evicted or
// until the thread ends.
class hmac_contexts
{
public:
    hmac_contexts() = default;
    hmac_contexts(hmac_contexts const&) = delete;
    hmac_contexts& operator=(hmac_contexts const&) = delete;
    ~hmac_contexts()
    {
        for(auto& e : entries_)
            EVP_MAC_CTX_free(e.ctx);
    }

    // A context keyed with `key` and ready for EVP_MAC_update, or null.
    EVP_MAC_CTX* keyed(jwt_key::material const& key)
    {
        for(auto& e : entries_)
            if(e.ctx && e.key_id == key.id)
                return EVP_MAC_init(e.ctx, nullptr, 0, nullptr) ? e.ctx : nullptr;
        EVP_MAC_CTX* copy = EVP_MAC_CTX_dup(key.hmac); // keyed, not yet updated
        if(!copy)
            return nullptr;
        auto& victim = entries_[next_victim_++ % entries_.size()];
        EVP_MAC_CTX_free(victim.ctx);
        victim = {key.id, copy};
        return copy;
    }

private:
    struct entry
    {
        std::uint64_t key_id = 0;
        EVP_MAC_CTX* ctx = nullptr;
    };
    std::array<entry, 4> entries_{};
    std::size_t next_victim_ = 0;
};

thread_local hmac_contexts thread_hmac_contexts;

// True if `signature` is `key`'s signature of `signed_part`.
bool signature_verifies(jwt_key::algorithm alg, jwt_key::material const& key, std::string_view signed_part,
    std::string const& signature)
{
    auto const data = reinterpret_cast<unsigned char const*>(signed_part.data());
    if(is_hmac(alg))
    {
        unsigned char mac[EVP_MAX_MD_SIZE];
        std::size_t mac_len = 0;
        EVP_MAC_CTX* ctx = thread_hmac_contexts.keyed(key);
        if(!ctx || !EVP_MAC_update(ctx, data, signed_part.size()) || !EVP_MAC_final(ctx, mac, &mac_len, sizeof(mac)))
            return false;
        return signature.size() == mac_len && CRYPTO_memcmp(mac, signature.data(), mac_len) == 0;
    }

    std::string der;
    std::string const* sig = &signature;
    if(alg == jwt_key::algorithm::es256)
    {
        // JWS carries r || s (32 bytes each); OpenSSL verifies DER.
        if(signature.size() != 64)
            return false;
        if(!low_s(reinterpret_cast<unsigned char const*>(signature.data()) + 32))
            return false;
        ECDSA_SIG* es = ECDSA_SIG_new();
        if(!es)
            return false;
        auto sig_bytes = reinterpret_cast<unsigned char const*>(signature.data());
        BIGNUM* r = BN_bin2bn(sig_bytes, 32, nullptr);
        BIGNUM* s = BN_bin2bn(sig_bytes + 32, 32, nullptr);
        if(!r || !s || !ECDSA_SIG_set0(es, r, s))
        {
            BN_free(r);
            BN_free(s);
            ECDSA_SIG_free(es);
            return false;
        }
        unsigned char* out = nullptr;
        int n = i2d_ECDSA_SIG(es, &out);
        ECDSA_SIG_free(es);
        if(n <= 0)
            return false;
        der.assign(reinterpret_cast<char*>(out), static_cast<std::size_t>(n));
        OPENSSL_free(out);
        sig = &der;
    }
    std::unique_ptr<EVP_MD_CTX, md_ctx_deleter> ctx(EVP_MD_CTX_new());
    if(!ctx || EVP_DigestVerifyInit_ex(ctx.get(), nullptr, "SHA256", nullptr, nullptr, key.pkey.get(), nullptr) != 1)
        return false;
    return EVP_DigestVerify(ctx.get(), reinterpret_cast<unsigned char const*>(sig->data()), sig->size(), data,
               signed_part.size()) == 1;
}

bool audience_matches(boost::json::value const& aud, std::vector<std::string> const& wanted)
{
    auto one = [&](boost::json::value const& v) {
        if(!v.is_string())
            return false;
        std::string_view s = v.get_string();
        return std::find(wanted.begin(), wanted.end(), s) != wanted.end();
    };
    if(aud.is_array())
        return std::any_of(aud.get_array().begin(), aud.get_array().end(), one);
    return one(aud);
}

} // namespace

jwt_verifier::jwt_verifier(jwt_options options)
    : options_(std::move(options))
{
}

std::string base64url_encode(std::string_view bytes)
{
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0'); // EVP_EncodeBlock adds a NUL
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
        reinterpret_cast<unsigned char const*>(bytes.data()), static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(n));
    while(!out.empty() && out.back() == '=')
        out.pop_back();
    for(auto& c : out)
        c = c == '+' ? '-' : c == '/' ? '_' : c;
    return out;
}

std::string jwt_key::sign(std::string_view claims_json, std::string_view header_json) const
{
    if(!is_hmac(alg_))
        throw std::invalid_argument("asioctx::http::jwt_key::sign: a public key only verifies");
    std::string header;
    if(header_json.empty())
    {
        header = R"({"alg":")" + std::string(alg_name()) + R"(","typ":"JWT")";
        if(!kid_.empty())
            header += R"(,"kid":)" + boost::json::serialize(boost::json::string_view(kid_));
        header += '}';
        header_json = header;
    }
    std::string token = base64url_encode(header_json) + "." + base64url_encode(claims_json);
    unsigned char mac[EVP_MAX_MD_SIZE];
    std::size_t mac_len = 0;
    EVP_MAC_CTX* ctx = thread_hmac_contexts.keyed(*material_);
    if(!ctx || !EVP_MAC_update(ctx, reinterpret_cast<unsigned char const*>(token.data()), token.size()) ||
        !EVP_MAC_final(ctx, mac, &mac_len, sizeof(mac)))
        throw std::runtime_error("asioctx::http::jwt_key::sign: OpenSSL cannot compute the HMAC");
    return token + "." + base64url_encode(std::string_view(reinterpret_cast<char const*>(mac), mac_len));
}

result_claims jwt_verifier::verify(std::string_view token, std::chrono::system_clock::time_point now) const
{
    if(token.size() > options_.max_token_size)
        return ASIOCTX_HTTP_FAIL(error::token_too_large);

    // Framing: header.payload.signature, each non-empty.
    auto const dot1 = token.find('.');
    auto const dot2 = dot1 == token.npos ? token.npos : token.find('.', dot1 + 1);
    if(dot2 == token.npos || token.find('.', dot2 + 1) != token.npos || dot1 == 0 || dot2 == dot1 + 1 ||
        dot2 + 1 == token.size())
        return ASIOCTX_HTTP_FAIL(error::token_malformed);
    // Decoded into buffers each thread reuses (nothing here calls back into user code).
    thread_local std::string payload_json, signature;
    // The header as last read on this thread. An issuer's tokens share one header, so a
    // header equal byte for byte to the last one is not decoded and parsed again: its
    // alg and kid are a function of those bytes. Only headers that parsed are kept.
    struct read_header
    {
        std::string encoded, alg, kid;
    };
    thread_local read_header last_header;
    std::string_view const encoded_header = token.substr(0, dot1);
    if(encoded_header != last_header.encoded)
    {
        thread_local std::string header_json;
        if(!base64url_decode(encoded_header, header_json))
            return ASIOCTX_HTTP_FAIL(error::token_malformed);
        boost::system::error_code ec;
        // Read here and dropped: parsed into a buffer on the stack.
        unsigned char header_storage[1024];
        boost::json::monotonic_resource header_memory(header_storage, sizeof(header_storage));
        auto header = boost::json::parse(header_json, ec, &header_memory);
        if(ec || !header.is_object())
            return ASIOCTX_HTTP_FAIL(error::token_malformed);
        auto const& h = header.get_object();
        auto const alg = h.if_contains("alg");
        if(!alg || !alg->is_string())
            return ASIOCTX_HTTP_FAIL(error::token_malformed);
        if(h.contains("crit"))
            return ASIOCTX_HTTP_FAIL(error::unsupported_extension);
        auto const kid = h.if_contains("kid");
        if(kid && !kid->is_string())
            return ASIOCTX_HTTP_FAIL(error::token_malformed);
        last_header.encoded.clear(); // stays empty if an assignment below throws
        last_header.alg = alg->get_string();
        last_header.kid = kid ? std::string_view(kid->get_string()) : std::string_view();
        last_header.encoded = encoded_header;
    }
    std::string_view const alg = last_header.alg, kid = last_header.kid;
    if(!base64url_decode(token.substr(dot1 + 1, dot2 - dot1 - 1), payload_json) ||
        !base64url_decode(token.substr(dot2 + 1), signature))
        return ASIOCTX_HTTP_FAIL(error::token_malformed);

    // The key decides the algorithm: the header's alg must be the selected key's own.
    std::string_view const signed_part = token.substr(0, dot2);
    bool tried = false, alg_matched = false;
    bool verified = false;
    for(auto const& key : options_.keys)
    {
        if(!kid.empty() && key.kid() != kid)
            continue;
        tried = true;
        if(key.alg_name() != alg)
            continue;
        alg_matched = true;
        if(signature_verifies(key.alg(), *key.material_, signed_part, signature))
        {
            verified = true;
            break;
        }
    }
    if(!tried)
        return ASIOCTX_HTTP_FAIL(error::unknown_key);
    if(!alg_matched)
        return ASIOCTX_HTTP_FAIL(error::algorithm_mismatch);
    if(!verified)
        return ASIOCTX_HTTP_FAIL(error::bad_signature);

    // Claims, only once the signature holds.
    boost::system::error_code ec;
    auto payload = boost::json::parse(payload_json, ec);
    if(ec || !payload.is_object())
        return ASIOCTX_HTTP_FAIL(error::token_malformed);
    claims out;
    out.all = std::move(payload.get_object());
    // The registered claims, found in one pass over the object (Boost.JSON keeps the last
    // of duplicate names).
    boost::json::value const *exp = nullptr, *nbf = nullptr, *iat = nullptr, *iss = nullptr, *aud = nullptr,
                             *sub = nullptr, *scope = nullptr, *scp = nullptr;
    for(auto const& member : out.all)
    {
        std::string_view const name = member.key();
        boost::json::value const* v = &member.value();
        if(name.size() == 3)
        {
            if(name == "exp")
                exp = v;
            else if(name == "nbf")
                nbf = v;
            else if(name == "iat")
                iat = v;
            else if(name == "iss")
                iss = v;
            else if(name == "aud")
                aud = v;
            else if(name == "sub")
                sub = v;
            else if(name == "scp")
                scp = v;
        }
        else if(name == "scope")
            scope = v;
    }

    if(!exp)
        return ASIOCTX_HTTP_FAIL(error::missing_expiry);
    double const now_s = seconds_since_epoch(now);
    double const leeway_s = std::chrono::duration<double>(options_.leeway).count();
    double exp_s;
    if(!numeric_seconds(*exp, exp_s))
        return ASIOCTX_HTTP_FAIL(error::token_malformed);
    if(now_s > exp_s + leeway_s)
        return ASIOCTX_HTTP_FAIL(error::expired);
    out.expiry = to_time_point(exp_s);
    for(auto const* v : {nbf, iat})
    {
        if(v)
        {
            double t;
            if(!numeric_seconds(*v, t))
                return ASIOCTX_HTTP_FAIL(error::token_malformed);
            if(t > now_s + leeway_s)
                return ASIOCTX_HTTP_FAIL(error::not_yet_valid);
        }
    }
    if(!options_.issuer.empty())
    {
        if(!iss || !iss->is_string() || std::string_view(iss->get_string()) != options_.issuer)
            return ASIOCTX_HTTP_FAIL(error::wrong_issuer);
    }
    if(!options_.audiences.empty())
    {
        if(!aud || !audience_matches(*aud, options_.audiences))
            return ASIOCTX_HTTP_FAIL(error::wrong_audience);
    }
    if(sub)
    {
        if(!sub->is_string())
            return ASIOCTX_HTTP_FAIL(error::token_malformed);
        out.subject = sub->get_string();
    }
    if(scope)
    {
        if(!scope->is_string())
            return ASIOCTX_HTTP_FAIL(error::token_malformed);
        std::string_view s = scope->get_string();
        while(!s.empty())
        {
            auto const sp = s.find(' ');
            if(sp != 0)
                out.scopes.emplace_back(s.substr(0, sp));
            if(sp == s.npos)
                break;
            s.remove_prefix(sp + 1);
        }
    }
    else if(scp)
    {
        if(!scp->is_array())
            return ASIOCTX_HTTP_FAIL(error::token_malformed);
        for(auto const& v : scp->get_array())
        {
            if(!v.is_string())
                return ASIOCTX_HTTP_FAIL(error::token_malformed);
            out.scopes.emplace_back(v.get_string());
        }
    }
    return out;
}

} // namespace asioctx::http
