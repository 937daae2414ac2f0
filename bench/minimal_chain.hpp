// The least a hand-written chain does for the benchmark's requests, with no library
// around it: the baseline the reference figures call "a Beast server doing
// the minimum the chain needs". Read X-Request-ID if it is 1 to 128 safe characters,
// else mint 128 random bits; take the token after "Bearer "; HS256 through a keyed
// OpenSSL HMAC context; CRYPTO_memcmp; the payload through EVP_DecodeBlock and
// Boost.JSON; "exp" in the future. No alg, kid, nbf, iat, iss, aud or scope checks, no
// contexts, no claims kept beyond the subject.
#ifndef ASIOCTX_BENCH_MINIMAL_CHAIN_HPP
#define ASIOCTX_BENCH_MINIMAL_CHAIN_HPP

#include <boost/beast/http/fields.hpp>
#include <boost/json/parse.hpp>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace bench {

/// The HS256 secret of the HTTP benchmarks; bench/http_bench.sh and
/// bench/http_instructions.sh mint their token with it.
inline constexpr char const* secret = "asioctx-bench-secret-0123456789abcdef";

class minimal_chain
{
public:
    explicit minimal_chain(std::string secret)
        : secret_(std::move(secret))
    {
    }

    minimal_chain(minimal_chain const&) = delete;
    minimal_chain& operator=(minimal_chain const&) = delete;

    /// The request id to echo: the client's when safe, else a minted one.
    static std::string request_id(boost::beast::http::fields const& h)
    {
        std::string_view const given = h["X-Request-ID"];
        bool ok = !given.empty() && given.size() <= 128;
        for(char c : given)
            ok = ok && ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                           c == '_' || c == ':' || c == '-');
        if(ok)
            return std::string(given);
        static constexpr char hex[] = "0123456789abcdef";
        unsigned char bits[16];
        RAND_bytes(bits, sizeof(bits));
        std::string id(32, '0');
        for(std::size_t i = 0; i < sizeof(bits); ++i)
        {
            id[2 * i] = hex[bits[i] >> 4];
            id[2 * i + 1] = hex[bits[i] & 0xf];
        }
        return id;
    }

    /// True if the request carries a valid HS256 bearer token; its "sub" goes to `subject`.
    bool authorised(boost::beast::http::fields const& h, std::string& subject)
    {
        std::string_view const auth = h[boost::beast::http::field::authorization];
        if(auth.size() < 7 || auth.substr(0, 7) != "Bearer ")
            return false;
        return verify(auth.substr(7), subject);
    }

    /// HS256 signature, then "exp", then "sub".
    bool verify(std::string_view token, std::string& subject)
    {
        auto const dot1 = token.find('.');
        auto const dot2 = token.rfind('.');
        if(dot1 == token.npos || dot2 == dot1)
            return false;
        auto const signing_input = token.substr(0, dot2);
        unsigned char mac[EVP_MAX_MD_SIZE];
        std::size_t mac_len = 0;
        EVP_MAC_CTX* ctx = keyed();
        if(!ctx || !EVP_MAC_init(ctx, nullptr, 0, nullptr) ||
            !EVP_MAC_update(ctx, reinterpret_cast<unsigned char const*>(signing_input.data()), signing_input.size()) ||
            !EVP_MAC_final(ctx, mac, &mac_len, sizeof(mac)))
            return false;
        std::string const signature = decode(token.substr(dot2 + 1));
        if(signature.size() != mac_len || CRYPTO_memcmp(signature.data(), mac, mac_len) != 0)
            return false;
        boost::system::error_code ec;
        auto const claims = boost::json::parse(decode(token.substr(dot1 + 1, dot2 - dot1 - 1)), ec);
        if(ec || !claims.is_object())
            return false;
        auto const& object = claims.get_object();
        auto const exp = object.if_contains("exp");
        auto const now = std::chrono::duration_cast<std::chrono::seconds>(
            std::chrono::system_clock::now().time_since_epoch()).count();
        if(!exp || !exp->is_int64() || exp->get_int64() <= now)
            return false;
        if(auto const sub = object.if_contains("sub"); sub && sub->is_string())
            subject = sub->get_string();
        return true;
    }

private:
    // base64url to bytes through EVP_DecodeBlock, as a hand-written check would.
    static std::string decode(std::string_view in)
    {
        std::string b64(in);
        for(auto& c : b64)
            c = c == '-' ? '+' : c == '_' ? '/' : c;
        auto const padding = (4 - b64.size() % 4) % 4;
        b64.append(padding, '=');
        std::string out(b64.size() / 4 * 3, '\0');
        int const n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
            reinterpret_cast<unsigned char const*>(b64.data()), static_cast<int>(b64.size()));
        if(n < 0 || static_cast<std::size_t>(n) < padding)
            return {};
        out.resize(static_cast<std::size_t>(n) - padding);
        return out;
    }

    // One keyed context per thread, reset for each token (a benchmark has one secret).
    EVP_MAC_CTX* keyed()
    {
        struct holder
        {
            EVP_MAC* mac = nullptr;
            EVP_MAC_CTX* ctx = nullptr;
            ~holder()
            {
                EVP_MAC_CTX_free(ctx);
                EVP_MAC_free(mac);
            }
        };
        thread_local holder h;
        if(!h.ctx)
        {
            h.mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
            h.ctx = h.mac ? EVP_MAC_CTX_new(h.mac) : nullptr;
            char digest[] = "SHA256";
            OSSL_PARAM params[] = {
                OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_construct_end()};
            if(h.ctx &&
                !EVP_MAC_init(h.ctx, reinterpret_cast<unsigned char const*>(secret_.data()), secret_.size(), params))
            {
                EVP_MAC_CTX_free(h.ctx); // never handed out unkeyed
                h.ctx = nullptr;
            }
        }
        return h.ctx;
    }

    std::string secret_;
};

} // namespace bench

#endif
