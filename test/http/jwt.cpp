// Tests for <asioctx/http/jwt.hpp>: tokens minted by an independent implementation
// (PyJWT, through test/http/mint_tokens.py), valid ones and the classic attacks.
#include <asioctx/http/jwt.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/test/unit_test.hpp>

#include <openssl/evp.h>

#include <atomic>
#include <cstdlib>
#include <thread>
#include <vector>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>

using asioctx::http::jwt_key;
using boost::system::error_code;

namespace {

// Mints the vectors once per process with PyJWT.
boost::json::object const& vectors()
{
    static boost::json::object const v = [] {
        // Debian's interpreter, where python3-jwt lives (ASIOCTX_PYTHON overrides it);
        // the script sits beside this file.
        char const* python = std::getenv("ASIOCTX_PYTHON");
        std::string const here = __FILE__;
        std::string const script = here.substr(0, here.find_last_of('/') + 1) + "mint_tokens.py";
        std::string const out = "jwt_vectors_" + std::to_string(::getpid()) + ".json";
        std::string const cmd = std::string(python ? python : "/usr/bin/python3") + " " + script + " " + out;
        if(std::system(cmd.c_str()) != 0)
            throw std::runtime_error("minting the JWT vectors failed: " + cmd);
        std::ifstream in(out);
        std::stringstream text;
        text << in.rdbuf();
        std::remove(out.c_str());
        return boost::json::parse(text.str()).as_object();
    }();
    return v;
}

std::string key_text(char const* name)
{
    return std::string(vectors().at("keys").at(name).as_string());
}

asioctx::http::jwt_options options()
{
    asioctx::http::jwt_options o;
    o.keys = {
        jwt_key::hmac(jwt_key::algorithm::hs256, key_text("hs256")),
        jwt_key::hmac(jwt_key::algorithm::hs384, key_text("hs384")),
        jwt_key::hmac(jwt_key::algorithm::hs512, key_text("hs512")),
        jwt_key::public_pem(jwt_key::algorithm::rs256, key_text("rsa_public_pem"), "rsa-1"),
        jwt_key::public_pem(jwt_key::algorithm::es256, key_text("ec_public_pem")),
    };
    o.issuer = "https://issuer.test";
    o.audiences = {"api"};
    return o;
}

asioctx::http::error expected_error(std::string_view name)
{
    using asioctx::http::error;
    for(auto e : {error::token_malformed, error::token_too_large, error::algorithm_mismatch, error::unknown_key,
            error::bad_signature, error::missing_expiry, error::expired, error::not_yet_valid, error::wrong_issuer,
            error::wrong_audience, error::unsupported_extension})
    {
        std::string const text = [&] {
            switch(e)
            {
            case error::token_malformed: return "token_malformed";
            case error::token_too_large: return "token_too_large";
            case error::algorithm_mismatch: return "algorithm_mismatch";
            case error::unknown_key: return "unknown_key";
            case error::bad_signature: return "bad_signature";
            case error::missing_expiry: return "missing_expiry";
            case error::expired: return "expired";
            case error::not_yet_valid: return "not_yet_valid";
            case error::wrong_issuer: return "wrong_issuer";
            case error::wrong_audience: return "wrong_audience";
            case error::unsupported_extension: return "unsupported_extension";
            default: return "";
            }
            return "";
        }();
        if(text == name)
            return e;
    }
    throw std::runtime_error("unknown expectation " + std::string(name));
}

} // namespace

BOOST_AUTO_TEST_SUITE(jwt)

// Every vector: the valid ones verify with their claims, each attack fails with its
// own error.
BOOST_AUTO_TEST_CASE(pyjwt_vectors)
{
    asioctx::http::jwt_verifier verify(options());
    std::size_t checked = 0;
    for(auto const& t : vectors().at("tokens").as_array())
    {
        std::string const name(t.at("name").as_string());
        std::string_view const expect = t.at("expect").as_string();
        auto r = verify(t.at("token").as_string());
        BOOST_TEST_CONTEXT(name)
        {
            if(expect == "ok")
            {
                BOOST_TEST(r.has_value(), (r ? "" : r.error().message()));
                if(r)
                {
                    BOOST_TEST(r->subject == "ada");
                    BOOST_TEST(r->has_scope("read"));
                    BOOST_TEST(!r->has_scope("delete"));
                }
            }
            else
            {
                BOOST_TEST(r.has_error());
                if(r.has_error())
                {
                    BOOST_TEST((r.error() == expected_error(expect)), r.error().message());
                    BOOST_TEST(r.error().has_location());
                }
            }
        }
        ++checked;
    }
    BOOST_TEST(checked >= 30u);
}

BOOST_AUTO_TEST_CASE(base64url_encoding)
{
    using asioctx::http::base64url_encode;
    BOOST_TEST(base64url_encode("") == "");
    BOOST_TEST(base64url_encode("f") == "Zg");
    BOOST_TEST(base64url_encode("fo") == "Zm8");
    BOOST_TEST(base64url_encode("foo") == "Zm9v");
    BOOST_TEST(base64url_encode("\xfb\xff\xbf") == "-_-_"); // the URL alphabet, no padding
}

// RFC 7515 appendix A.1: the HS256 example, header and payload byte for byte.
BOOST_AUTO_TEST_CASE(signing_matches_rfc7515_a1)
{
    // The JWK's "k", base64url-decoded.
    std::string const k = "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
    std::string std_alphabet = k;
    for(auto& c : std_alphabet)
        c = c == '-' ? '+' : c == '_' ? '/' : c;
    std_alphabet += "==";
    std::string secret(std_alphabet.size() / 4 * 3, '\0');
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(secret.data()),
        reinterpret_cast<unsigned char const*>(std_alphabet.data()), static_cast<int>(std_alphabet.size()));
    secret.resize(static_cast<std::size_t>(n) - 2);
    BOOST_REQUIRE_EQUAL(secret.size(), 64u);
    auto key = jwt_key::hmac(jwt_key::algorithm::hs256, secret);
    auto token = key.sign("{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}",
        "{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}");
    BOOST_TEST(token ==
        "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
        ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
        ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
}

BOOST_AUTO_TEST_CASE(signed_tokens_verify_and_name_their_key)
{
    auto key = jwt_key::hmac(jwt_key::algorithm::hs384, std::string(48, 'k'), "key-1");
    asioctx::http::jwt_options o;
    o.keys = {key};
    asioctx::http::jwt_verifier verifier(o);
    auto const exp = std::chrono::duration_cast<std::chrono::seconds>(
        (std::chrono::system_clock::now() + std::chrono::hours(1)).time_since_epoch()).count();
    auto token = key.sign(R"({"sub":"svc","exp":)" + std::to_string(exp) + "}");
    auto header = token.substr(0, token.find('.'));
    BOOST_TEST(header == asioctx::http::base64url_encode(R"({"alg":"HS384","typ":"JWT","kid":"key-1"})"));
    auto claims = verifier(token);
    BOOST_REQUIRE(claims.has_value());
    BOOST_TEST(claims->subject == "svc");
    // Signing twice on one thread reuses the thread's context: same token, still valid.
    BOOST_TEST(key.sign(R"({"sub":"svc","exp":)" + std::to_string(exp) + "}") == token);
    BOOST_TEST(verifier(token).has_value());
    auto public_only = jwt_key::public_pem(jwt_key::algorithm::es256, key_text("ec_public_pem"));
    BOOST_CHECK_THROW(public_only.sign("{}"), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(scopes_from_scp_and_scope)
{
    asioctx::http::jwt_verifier verify(options());
    for(auto const& t : vectors().at("tokens").as_array())
    {
        if(t.at("name").as_string() != "scp array")
            continue;
        auto r = verify(t.at("token").as_string());
        BOOST_REQUIRE(r.has_value());
        BOOST_TEST(r->has_scope("admin"));
        BOOST_TEST(r->all.at("iss").as_string() == "https://issuer.test");
    }
}

// The configured key decides: with only an RS256 key configured, an HS256 token signed
// with that key's PEM text is refused whatever its header says.
BOOST_AUTO_TEST_CASE(key_decides_the_algorithm)
{
    asioctx::http::jwt_options o;
    o.keys = {jwt_key::public_pem(jwt_key::algorithm::rs256, key_text("rsa_public_pem"), "rsa-1")};
    asioctx::http::jwt_verifier verify(o);
    for(auto const& t : vectors().at("tokens").as_array())
    {
        if(t.at("name").as_string() != "hs256 signed with the rsa public key (confusion)")
            continue;
        auto r = verify(t.at("token").as_string());
        BOOST_TEST((r.error() == asioctx::http::error::algorithm_mismatch));
    }
}

BOOST_AUTO_TEST_CASE(time_checks_use_the_given_clock)
{
    asioctx::http::jwt_verifier verify(options());
    std::string token;
    for(auto const& t : vectors().at("tokens").as_array())
        if(t.at("name").as_string() == "hs256 valid")
            token = t.at("token").as_string();
    auto r = verify.verify(token, std::chrono::system_clock::now());
    BOOST_REQUIRE(r.has_value());
    auto const later = r->expiry + std::chrono::seconds(31); // beyond the 30 s leeway
    BOOST_TEST((verify.verify(token, later).error() == asioctx::http::error::expired));
}

BOOST_AUTO_TEST_CASE(bad_keys_are_refused_at_configuration)
{
    BOOST_CHECK_THROW(jwt_key::hmac(jwt_key::algorithm::hs256, "short"), std::invalid_argument);
    BOOST_CHECK_THROW(jwt_key::hmac(jwt_key::algorithm::rs256, std::string(64, 'x')), std::invalid_argument);
    BOOST_CHECK_THROW(jwt_key::public_pem(jwt_key::algorithm::rs256, "not a pem"), std::invalid_argument);
    // An EC key offered as RS256, an RSA key offered as ES256.
    BOOST_CHECK_THROW(jwt_key::public_pem(jwt_key::algorithm::rs256, key_text("ec_public_pem")), std::invalid_argument);
    BOOST_CHECK_THROW(jwt_key::public_pem(jwt_key::algorithm::es256, key_text("rsa_public_pem")), std::invalid_argument);
}

// One verifier, four threads (the HMAC context is shared and duplicated per call).
BOOST_AUTO_TEST_CASE(one_verifier_many_threads)
{
    asioctx::http::jwt_verifier verify(options());
    std::vector<std::string> tokens;
    for(auto const& t : vectors().at("tokens").as_array())
        tokens.emplace_back(t.at("token").as_string());
    std::atomic<int> mismatches{0};
    std::vector<std::jthread> threads;
    std::vector<bool> expected;
    for(auto const& t : tokens)
        expected.push_back(verify(t).has_value());
    for(int i = 0; i < 4; ++i)
        threads.emplace_back([&] {
            for(int round = 0; round < 20; ++round)
                for(std::size_t k = 0; k < tokens.size(); ++k)
                    if(verify(tokens[k]).has_value() != expected[k])
                        ++mismatches;
        });
    for(auto& t : threads)
        t.join();
    BOOST_TEST(mismatches.load() == 0);
}

// Each part has exactly one accepted encoding: no padding, no standard-alphabet
// characters, and the unused low bits of a last character must be zero. Otherwise one
// signed token would have several spellings that all verify.
BOOST_AUTO_TEST_CASE(only_canonical_base64url_is_accepted)
{
    using asioctx::http::error;
    auto key = jwt_key::hmac(jwt_key::algorithm::hs256, std::string(32, 'h'));
    asioctx::http::jwt_options o;
    o.keys = {key};
    asioctx::http::jwt_verifier verifier(o);
    auto const exp = std::chrono::duration_cast<std::chrono::seconds>(
        (std::chrono::system_clock::now() + std::chrono::hours(1)).time_since_epoch()).count();
    // Payload lengths that leave 0, 1 and 2 bytes over (4n, 4n+2 and 4n+3 characters).
    for(std::string sub : {"a", "ab", "abc"})
    {
        auto const token = key.sign(R"({"sub":")" + sub + R"(","exp":)" + std::to_string(exp) + "}");
        BOOST_TEST_CONTEXT(token)
        {
            auto const r = verifier(token);
            BOOST_REQUIRE(r.has_value());
            BOOST_TEST(r->subject == sub);
        }
    }
    auto const token = key.sign(R"({"sub":"x","exp":)" + std::to_string(exp) + "}");
    // 32 signature bytes: 43 characters, the last carrying 2 unused bits.
    constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    auto const last = alphabet.find(token.back());
    BOOST_REQUIRE(last != alphabet.npos);
    BOOST_REQUIRE_EQUAL(last % 4, 0u);
    for(std::size_t low = 1; low < 4; ++low)
    {
        std::string variant = token;
        variant.back() = alphabet[last + low]; // decodes to the same 32 bytes
        auto const r = verifier(variant);
        BOOST_TEST((r.has_error() && r.error() == error::token_malformed), variant);
    }
    auto const mangled = [&](std::string_view tail) {
        auto const r = verifier(token + std::string(tail));
        return r.has_error() && r.error() == error::token_malformed;
    };
    BOOST_TEST(mangled("="));  // padding
    BOOST_TEST(mangled("AA")); // 45 characters: a length no byte string encodes to
    std::string standard = token;
    standard[standard.find('.') + 1] = '+'; // the standard alphabet's 62nd character
    auto const r = verifier(standard);
    BOOST_TEST((r.has_error() && r.error() == error::token_malformed)); // refused as decoding, not as a signature
}

BOOST_AUTO_TEST_CASE(garbage_never_crashes)
{
    asioctx::http::jwt_verifier verify(options());
    for(std::string_view junk : {"", ".", "..", "...", "a.b.c", "a..c", ".b.c", "a.b.", "!!.!!.!!", "e30.e30.e30",
            "eyJhbGciOiJIUzI1NiJ9.e30.AAAA", "eyJhbGciOjF9.e30.AAAA"})
        BOOST_TEST(verify(junk).has_error(), junk);
}

BOOST_AUTO_TEST_SUITE_END()
